/* batchnorm.cl: BatchNorm over the batch dimension, per feature (BatchNorm1d).
 * Dimensions: B rows, N features, row-major [B, N]. gb holds gamma[N] then beta[N]; saved holds
 * the batch mean[N] then 1/sqrt(var + eps)[N] for the backward pass; running holds the running
 * mean[N] then the running variance[N] (unbiased, as PyTorch keeps it).
 * One work item per feature, looping over the batch. */

__kernel void batchnorm_forward(__global float *y, const uint y_off, __global const float *x,
                                const uint x_off, __global const float *gb, const uint gb_off,
                                __global float *saved, const uint saved_off,
                                __global float *running, const uint running_off, const int B,
                                const int N, const float eps, const float momentum,
                                const int training) {
    const int j = get_global_id(0);
    if (j >= N) return;
    float mean, invstd;
    if (training) {
        float s = 0.0f;
        for (int b = 0; b < B; b++) s += x[x_off + b * N + j];
        mean = s / B;
        float ss = 0.0f;
        for (int b = 0; b < B; b++) {
            const float d = x[x_off + b * N + j] - mean;
            ss += d * d;
        }
        const float var = ss / B;
        invstd = 1.0f / sqrt(var + eps);
        saved[saved_off + j] = mean;
        saved[saved_off + N + j] = invstd;
        const float unbiased = B > 1 ? ss / (B - 1) : var;
        running[running_off + j] = (1.0f - momentum) * running[running_off + j] + momentum * mean;
        running[running_off + N + j] =
            (1.0f - momentum) * running[running_off + N + j] + momentum * unbiased;
    } else {
        mean = running[running_off + j];
        invstd = 1.0f / sqrt(running[running_off + N + j] + eps);
    }
    const float gamma = gb[gb_off + j], beta = gb[gb_off + N + j];
    for (int b = 0; b < B; b++)
        y[y_off + b * N + j] = gamma * (x[x_off + b * N + j] - mean) * invstd + beta;
}

/* dx[B, N] <- gradient through training-mode BatchNorm (may alias dy);
 * dgb: dgamma[N] += sum(dy * xhat), dbeta[N] += sum(dy). */
__kernel void batchnorm_backward(__global float *dx, const uint dx_off, __global const float *dy,
                                 const uint dy_off, __global const float *x, const uint x_off,
                                 __global const float *gb, const uint gb_off, __global float *dgb,
                                 const uint dgb_off, __global const float *saved,
                                 const uint saved_off, const int B, const int N) {
    const int j = get_global_id(0);
    if (j >= N) return;
    const float mean = saved[saved_off + j], invstd = saved[saved_off + N + j];
    float sdy = 0.0f, sdyx = 0.0f;
    for (int b = 0; b < B; b++) {
        const float g = dy[dy_off + b * N + j];
        sdy += g;
        sdyx += g * (x[x_off + b * N + j] - mean) * invstd;
    }
    dgb[dgb_off + j] += sdyx;
    dgb[dgb_off + N + j] += sdy;
    const float k = gb[gb_off + j] * invstd / B;
    for (int b = 0; b < B; b++) {
        const float xhat = (x[x_off + b * N + j] - mean) * invstd;
        dx[dx_off + b * N + j] = k * (B * dy[dy_off + b * N + j] - sdy - xhat * sdyx);
    }
}
