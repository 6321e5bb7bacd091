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

/* dx [B, C, H, W] = dy at each window's first maximum, 0 elsewhere (every element written).
 * One work item per row of windows: it writes the window's k input rows whole (a ragged
 * column included); the items past the last row of windows zero the ragged rows. */
__kernel void maxpool_backward(__global float *dx, const uint dx_off, __global const float *dy,
                               const uint dy_off, __global const float *x, const uint x_off,
                               const int B, const int C, const int H, const int W, const int k) {
    const int OH = H / k, OW = W / k, RH = OH + (H % k != 0), i = get_global_id(0);
    if (i >= B * C * RH) return;
    const int oh = i % RH, bc = i / RH;
    __global float *d = dx + dx_off + (size_t)bc * H * W;
    if (oh == OH) { /* the rows no window covers */
        for (int h = OH * k; h < H; h++)
            for (int w = 0; w < W; w++) d[h * W + w] = 0.0f;
        return;
    }
    __global const float *p = x + x_off + (size_t)bc * H * W + (size_t)oh * k * W;
    for (int ow = 0; ow < OW; ow++) {
        int best = 0;
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
                if (p[r * W + ow * k + c] > p[best / k * W + ow * k + best % k]) best = r * k + c;
        const float g = dy[dy_off + ((size_t)bc * OH + oh) * OW + ow];
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++) d[(oh * k + r) * W + ow * k + c] = r * k + c == best ? g : 0.0f;
    }
    for (int r = 0; r < k; r++)
        for (int w = OW * k; w < W; w++) d[(oh * k + r) * W + w] = 0.0f;
}
