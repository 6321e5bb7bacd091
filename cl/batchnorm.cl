/* batchnorm.cl: BatchNorm over the batch dimension, per feature (BatchNorm1d), optionally fused
 * with the bias and activation that come before it (Linear -> bias -> LeakyReLU -> BatchNorm in
 * the generator), so a hidden layer is one GEMM and one of these kernels each way.
 * Dimensions: B rows, N features (channels), S positions per feature: [B, N, S] (NCHW with
 * S = H*W; S = 1 for BatchNorm1d); statistics are over the B*S values of a feature. gb holds gamma[N] then beta[N]; saved holds
 * the batch mean[N] then 1/sqrt(var + eps)[N] for the backward pass; running holds the running
 * mean[N] then the running variance[N] (unbiased, as PyTorch keeps it). act: 0 none, 1 leaky
 * (slope), 2 tanh, as in activation.cl. One work item per feature, looping over the batch. */

float act_apply(const int act, const float v, const float slope) {
    if (act == 1) return v > 0.0f ? v : slope * v;
    if (act == 2) return tanh(v);
    return v;
}

/* The activation's derivative from its output a. */
float act_grad(const int act, const float a, const float slope) {
    if (act == 1) return a > 0.0f ? 1.0f : slope;
    if (act == 2) return 1.0f - a * a;
    return 1.0f;
}

/* When has_bias or act: x[B, N] <- act(x + bias) in place (the input the backward pass needs).
 * Then y = gamma (x - mean) / sqrt(var + eps) + beta with batch (training) or running stats. */
__kernel void batchnorm_forward(__global float *y, const uint y_off, __global float *x,
                                const uint x_off, __global const float *bias, const uint b_off,
                                const int has_bias, __global const float *gb, const uint gb_off,
                                __global float *saved, const uint saved_off,
                                __global float *running, const uint running_off, const int B,
                                const int N, const float eps, const float momentum,
                                const int training, const int act, const float slope,
                                const int S) {
    const int j = get_global_id(0);
    if (j >= N) return;
    const int M = B * S; /* values per feature; the v-th is at ((v / S) * N + j) * S + v % S */
#define AT(v) (((v) / S * N + j) * S + (v) % S)
    const float bj = has_bias ? bias[b_off + j] : 0.0f;
    float s = 0.0f;
    for (int v = 0; v < M; v++) {
        float a = x[x_off + AT(v)];
        if (has_bias || act) {
            a = act_apply(act, a + bj, slope);
            x[x_off + AT(v)] = a;
        }
        s += a;
    }
    float mean, invstd;
    if (training) {
        mean = s / M;
        float ss = 0.0f;
        for (int v = 0; v < M; v++) {
            const float d = x[x_off + AT(v)] - mean;
            ss += d * d;
        }
        const float var = ss / M;
        invstd = 1.0f / sqrt(var + eps);
        saved[saved_off + j] = mean;
        saved[saved_off + N + j] = invstd;
        const float unbiased = M > 1 ? ss / (M - 1) : var;
        running[running_off + j] = (1.0f - momentum) * running[running_off + j] + momentum * mean;
        running[running_off + N + j] =
            (1.0f - momentum) * running[running_off + N + j] + momentum * unbiased;
    } else {
        mean = running[running_off + j];
        invstd = 1.0f / sqrt(running[running_off + N + j] + eps);
    }
    const float gamma = gb[gb_off + j], beta = gb[gb_off + N + j];
    for (int v = 0; v < M; v++) y[y_off + AT(v)] = gamma * (x[x_off + AT(v)] - mean) * invstd + beta;
}

/* dx[B, N] <- the gradient at BatchNorm's input (training mode), times act'(x) when act (the
 * gradient before the activation); dx may alias dy. dgb: dgamma[N] += sum(dy * xhat),
 * dbeta[N] += sum(dy); dbias[N] += column sums of dx when has_dbias. x is BatchNorm's input. */
__kernel void batchnorm_backward(__global float *dx, const uint dx_off, __global const float *dy,
                                 const uint dy_off, __global const float *x, const uint x_off,
                                 __global const float *gb, const uint gb_off, __global float *dgb,
                                 const uint dgb_off, __global float *dbias, const uint db_off,
                                 const int has_dbias, __global const float *saved,
                                 const uint saved_off, const int B, const int N, const int act,
                                 const float slope, const int S) {
    const int j = get_global_id(0);
    if (j >= N) return;
    const int M = B * S;
    const float mean = saved[saved_off + j], invstd = saved[saved_off + N + j];
    float sdy = 0.0f, sdyx = 0.0f;
    for (int v = 0; v < M; v++) {
        const float g = dy[dy_off + AT(v)];
        sdy += g;
        sdyx += g * (x[x_off + AT(v)] - mean) * invstd;
    }
    dgb[dgb_off + j] += sdyx;
    dgb[dgb_off + N + j] += sdy;
    const float k = gb[gb_off + j] * invstd / M;
    float sum = 0.0f;
    for (int v = 0; v < M; v++) {
        const float xv = x[x_off + AT(v)];
        const float xhat = (xv - mean) * invstd;
        const float d = k * (M * dy[dy_off + AT(v)] - sdy - xhat * sdyx) * act_grad(act, xv, slope);
        dx[dx_off + AT(v)] = d;
        sum += d;
    }
    if (has_dbias) dbias[db_off + j] += sum;
#undef AT
}
