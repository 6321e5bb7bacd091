/* pool.cl: MaxPool2d with a k x k window and stride k (no padding; a ragged edge is dropped,
 * as PyTorch's floor mode), NCHW. x [B, C, H, W] -> y [B, C, H / k, W / k]. Ties go to the
 * first maximum in row-major window order. */
__kernel void maxpool_forward(__global float *y, const uint y_off, __global const float *x,
                              const uint x_off, const int B, const int C, const int H, const int W,
                              const int k) {
    const int OH = H / k, OW = W / k, i = get_global_id(0);
    if (i >= B * C * OH * OW) return;
    const int ow = i % OW, oh = i / OW % OH, bc = i / (OW * OH);
    __global const float *p = x + x_off + (size_t)bc * H * W + (size_t)oh * k * W + ow * k;
    float m = p[0];
    for (int r = 0; r < k; r++)
        for (int c = 0; c < k; c++) m = fmax(m, p[r * W + c]);
    y[y_off + i] = m;
}

/* dx [B, C, H, W] = dy at each window's first maximum, 0 elsewhere (every element written). */
__kernel void maxpool_backward(__global float *dx, const uint dx_off, __global const float *dy,
                               const uint dy_off, __global const float *x, const uint x_off,
                               const int B, const int C, const int H, const int W, const int k) {
    const int OH = H / k, OW = W / k, i = get_global_id(0);
    if (i >= B * C * H * W) return;
    const int w = i % W, h = i / W % H, bc = i / (W * H), oh = h / k, ow = w / k;
    float d = 0.0f;
    if (oh < OH && ow < OW) {
        __global const float *p = x + x_off + (size_t)bc * H * W + (size_t)oh * k * W + ow * k;
        int best = 0;
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
                if (p[r * W + c] > p[best / k * W + best % k]) best = r * k + c;
        if (best == (h - oh * k) * k + (w - ow * k)) d = dy[dy_off + ((size_t)bc * OH + oh) * OW + ow];
    }
    dx[dx_off + i] = d;
}
