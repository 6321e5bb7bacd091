/* pool.c: MaxPool2d (cl/pool.cl) on the device and as a C reference. Dimensions: B batch,
 * C channels, H x W input, k the window and stride. */
#include "gancl/layers.h"

void maxpool_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, int B, int C, int H, int W, int k) {
    cl_kernel kn = gancl_kernel(rt, "maxpool_forward");
    GANCL_LAUNCH_1D(rt, kn, (size_t)B * C * (H / k) * (W / k), GANCL_P(out), GANCL_P(inp), GANCL_A(B), GANCL_A(C),
                    GANCL_A(H), GANCL_A(W), GANCL_A(k));
}

void maxpool_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dout, gancl_ptr inp, int B, int C, int H,
                      int W, int k) {
    cl_kernel kn = gancl_kernel(rt, "maxpool_backward");
    GANCL_LAUNCH_1D(rt, kn, (size_t)B * C * (H / k + (H % k != 0)), GANCL_P(dinp), GANCL_P(dout), GANCL_P(inp), GANCL_A(B),
                    GANCL_A(C), GANCL_A(H), GANCL_A(W), GANCL_A(k));
}

/* The index in x of window (bc, oh, ow)'s first maximum. */
static size_t argmax_of(const double *x, size_t bc, int oh, int ow, int H, int W, int k) {
    size_t best = bc * H * W + (size_t)oh * k * W + (size_t)ow * k;
    for (int r = 0; r < k; r++)
        for (int c = 0; c < k; c++) {
            size_t j = bc * H * W + (size_t)(oh * k + r) * W + (size_t)(ow * k + c);
            if (x[j] > x[best]) best = j;
        }
    return best;
}

void maxpool_forward_ref(double *out, const double *inp, int B, int C, int H, int W, int k) {
    const int OH = H / k, OW = W / k;
    for (size_t bc = 0; bc < (size_t)B * C; bc++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) out[(bc * OH + oh) * OW + ow] = inp[argmax_of(inp, bc, oh, ow, H, W, k)];
}

void maxpool_backward_ref(double *dinp, const double *dout, const double *inp, int B, int C, int H, int W, int k) {
    const int OH = H / k, OW = W / k;
    for (size_t i = 0; i < (size_t)B * C * H * W; i++) dinp[i] = 0;
    for (size_t bc = 0; bc < (size_t)B * C; bc++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) dinp[argmax_of(inp, bc, oh, ow, H, W, k)] += dout[(bc * OH + oh) * OW + ow];
}
