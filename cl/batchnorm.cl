/* batchnorm.cl: BatchNorm over the batch dimension, per feature (BatchNorm1d), optionally fused
 * with the bias and activation that come before it (Linear -> bias -> LeakyReLU -> BatchNorm in
 * the generator), so a hidden layer is one GEMM and one of these kernels each way.
 * Dimensions: B rows, N features (channels), S positions per feature: [B, N, S] (NCHW with
 * S = H*W; S = 1 for BatchNorm1d); statistics are over the B*S values of a feature. gb holds gamma[N] then beta[N]; saved holds
 * the batch mean[N] then 1/sqrt(var + eps)[N] for the backward pass; running holds the running
 * mean[N] then the running variance[N] (unbiased, as PyTorch keeps it). act: 0 none, 1 leaky
 * (slope), 2 tanh, as in activation.cl. On CPUs, one work item per LANES features looping over
 * the batch (S = 1; these take no S), or the _planes kernels, one per channel (S > 1); on GPUs
 * the _wg kernels, one work group per feature whose items stride over its values and reduce in
 * local memory. The three take the same arguments, S last. */

/* The first two kernels are BatchNorm1d's (S = 1) on CPUs. Every row of the group of features
 * starting at f: lane 0's index i (lane l at i + l). */
#define FOR_EACH_ROW(i) for (int i = f; i < B * N; i += N)

/* When has_bias or act: x[B, N] <- act(x + bias) in place (the input the backward pass needs).
 * Then y = gamma (x - mean) / sqrt(var + eps) + beta with batch (training) or running stats. */
__kernel void batchnorm_forward(__global float *y, const uint y_off, __global float *x,
                                const uint x_off, __global const float *bias, const uint b_off,
                                const int has_bias, __global const float *gb, const uint gb_off,
                                __global float *saved, const uint saved_off,
                                __global float *running, const uint running_off, const int B,
                                const int N, const float eps, const float momentum,
                                const int training, const int act, const float slope) {
    const int f = get_global_id(0) * LANES;
    if (f >= N) return;
    const int n = min(LANES, N - f), M = B; /* M values per feature */
    const lanes_t bias_f = has_bias ? lanes_load(bias, b_off + f, n) : 0.0f;
    lanes_t sum = 0.0f;
    FOR_EACH_ROW(i) {
        lanes_t a = lanes_load(x, x_off + i, n);
        if (has_bias || act) {
            a = act_apply(act, a + bias_f, slope);
            lanes_store(x, x_off + i, n, a);
        }
        sum += a;
    }
    lanes_t mean, invstd;
    if (training) {
        mean = sum / M;
        lanes_t ss = 0.0f;
        FOR_EACH_ROW(i) {
            const lanes_t d = lanes_load(x, x_off + i, n) - mean;
            ss += d * d;
        }
        const lanes_t var = ss / M;
        invstd = 1.0f / sqrt(var + eps);
        lanes_store(saved, saved_off + f, n, mean);
        lanes_store(saved, saved_off + N + f, n, invstd);
        const lanes_t unbiased = M > 1 ? ss / (M - 1) : var;
        lanes_store(running, running_off + f, n,
                    (1.0f - momentum) * lanes_load(running, running_off + f, n) + momentum * mean);
        lanes_store(running, running_off + N + f, n,
                    (1.0f - momentum) * lanes_load(running, running_off + N + f, n) + momentum * unbiased);
    } else {
        mean = lanes_load(running, running_off + f, n);
        invstd = 1.0f / sqrt(lanes_load(running, running_off + N + f, n) + eps);
    }
    const lanes_t gamma = lanes_load(gb, gb_off + f, n), beta = lanes_load(gb, gb_off + N + f, n);
    FOR_EACH_ROW(i)
        lanes_store(y, y_off + i, n, gamma * (lanes_load(x, x_off + i, n) - mean) * invstd + beta);
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
                                 const float slope) {
    const int f = get_global_id(0) * LANES;
    if (f >= N) return;
    const int n = min(LANES, N - f), M = B;
    const lanes_t mean = lanes_load(saved, saved_off + f, n), invstd = lanes_load(saved, saved_off + N + f, n);
    lanes_t sdy = 0.0f, sdyx = 0.0f;
    FOR_EACH_ROW(i) {
        const lanes_t g = lanes_load(dy, dy_off + i, n);
        sdy += g;
        sdyx += g * (lanes_load(x, x_off + i, n) - mean) * invstd;
    }
    lanes_store(dgb, dgb_off + f, n, lanes_load(dgb, dgb_off + f, n) + sdyx);
    lanes_store(dgb, dgb_off + N + f, n, lanes_load(dgb, dgb_off + N + f, n) + sdy);
    const lanes_t k = lanes_load(gb, gb_off + f, n) * invstd / M;
    lanes_t sum = 0.0f;
    FOR_EACH_ROW(i) {
        const lanes_t xv = lanes_load(x, x_off + i, n);
        const lanes_t xhat = (xv - mean) * invstd;
        const lanes_t d = k * (M * lanes_load(dy, dy_off + i, n) - sdy - xhat * sdyx) * act_grad(act, xv, slope);
        lanes_store(dx, dx_off + i, n, d);
        sum += d;
    }
    if (has_dbias) lanes_store(dbias, db_off + f, n, lanes_load(dbias, db_off + f, n) + sum);
}
#undef FOR_EACH_ROW

/* One feature's statistics for the scalar kernels below: in training, from the batch mean and
 * the sum ss of squared deviations over its M values (saved and running written when `write`);
 * otherwise the running ones. Returns the mean and 1/sqrt(var + eps). */
float2 feature_stats(const int training, const float batch_mean, const float ss, const int M, const int f,
                     const int N, const float eps, const float momentum, __global float *saved,
                     const uint saved_off, __global float *running, const uint running_off, const int write) {
    if (!training) return (float2)(running[running_off + f], 1.0f / sqrt(running[running_off + N + f] + eps));
    const float var = ss / M, invstd = 1.0f / sqrt(var + eps);
    if (write) {
        saved[saved_off + f] = batch_mean;
        saved[saved_off + N + f] = invstd;
        const float unbiased = M > 1 ? ss / (M - 1) : var;
        running[running_off + f] = (1.0f - momentum) * running[running_off + f] + momentum * batch_mean;
        running[running_off + N + f] = (1.0f - momentum) * running[running_off + N + f] + momentum * unbiased;
    }
    return (float2)(batch_mean, invstd);
}

/* BatchNorm2d on CPUs (S > 1): one work item per channel f, reading its B runs of S contiguous
 * values LANES at a time (LANES channels per item, as for S = 1, lie S apart: gathered at every
 * step, on the DCGAN's 64 and 128 channels of 49 and 196 positions, they took 10% of the
 * iteration).
 * FOR_EACH_CHUNK gives the offset i of a chunk and how many of its lanes are real (n); the sums
 * leave the others out (lanes_load repeats the last real value in them). */
#define FOR_EACH_CHUNK(i, n)                                                                   \
    for (int b_ = 0; b_ < B; b_++)                                                             \
        for (int s_ = 0, i = (b_ * N + f) * S, n = min(LANES, S); s_ < S;                      \
             s_ += LANES, i += LANES, n = min(LANES, S - s_))
#define REAL(v, n) select((lanes_t)0.0f, (v), (int8)(0, 1, 2, 3, 4, 5, 6, 7) < (n))

float lanes_sum(const lanes_t v) { return dot(v.lo, (float4)1.0f) + dot(v.hi, (float4)1.0f); }

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void batchnorm_forward_planes(
    __global float *y, const uint y_off, __global float *x, const uint x_off, __global const float *bias,
    const uint b_off, const int has_bias, __global const float *gb, const uint gb_off, __global float *saved,
    const uint saved_off, __global float *running, const uint running_off, const int B, const int N,
    const float eps, const float momentum, const int training, const int act, const float slope, const int S) {
    const int f = get_global_id(0);
    if (f >= N) return;
    const int M = B * S;
    const float bias_f = has_bias ? bias[b_off + f] : 0.0f;
    lanes_t sum = 0.0f;
    FOR_EACH_CHUNK(i, n) {
        lanes_t a = lanes_load(x, x_off + i, n);
        if (has_bias || act) {
            a = act_apply(act, a + bias_f, slope);
            lanes_store(x, x_off + i, n, a);
        }
        sum += REAL(a, n);
    }
    const float batch_mean = lanes_sum(sum) / M;
    lanes_t ss = 0.0f;
    if (training)
        FOR_EACH_CHUNK(i, n) {
            const lanes_t d = lanes_load(x, x_off + i, n) - batch_mean;
            ss += REAL(d * d, n);
        }
    const float2 st = feature_stats(training, batch_mean, lanes_sum(ss), M, f, N, eps, momentum, saved, saved_off,
                                    running, running_off, 1);
    const float mean = st.x, invstd = st.y;
    const float gamma = gb[gb_off + f], beta = gb[gb_off + N + f];
    FOR_EACH_CHUNK(i, n)
        lanes_store(y, y_off + i, n, gamma * (lanes_load(x, x_off + i, n) - mean) * invstd + beta);
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void batchnorm_backward_planes(
    __global float *dx, const uint dx_off, __global const float *dy, const uint dy_off, __global const float *x,
    const uint x_off, __global const float *gb, const uint gb_off, __global float *dgb, const uint dgb_off,
    __global float *dbias, const uint db_off, const int has_dbias, __global const float *saved,
    const uint saved_off, const int B, const int N, const int act, const float slope, const int S) {
    const int f = get_global_id(0);
    if (f >= N) return;
    const int M = B * S;
    const float mean = saved[saved_off + f], invstd = saved[saved_off + N + f];
    lanes_t sdy8 = 0.0f, sdyx8 = 0.0f;
    FOR_EACH_CHUNK(i, n) {
        const lanes_t g = REAL(lanes_load(dy, dy_off + i, n), n);
        sdy8 += g;
        sdyx8 += g * (lanes_load(x, x_off + i, n) - mean) * invstd;
    }
    const float sdy = lanes_sum(sdy8), sdyx = lanes_sum(sdyx8);
    dgb[dgb_off + f] += sdyx;
    dgb[dgb_off + N + f] += sdy;
    const float k = gb[gb_off + f] * invstd / M;
    lanes_t sum = 0.0f;
    FOR_EACH_CHUNK(i, n) {
        const lanes_t xv = lanes_load(x, x_off + i, n);
        const lanes_t d = k * (M * lanes_load(dy, dy_off + i, n) - sdy - (xv - mean) * invstd * sdyx) *
                          act_grad(act, xv, slope);
        lanes_store(dx, dx_off + i, n, d);
        sum += REAL(d, n);
    }
    if (has_dbias) dbias[db_off + f] += lanes_sum(sum);
}
#undef REAL
#undef FOR_EACH_CHUNK

/* The index of the v-th of the B*S values of feature j. */
#define AT(v) (((v) / S * N + j) * S + (v) % S)

__kernel void batchnorm_forward_wg(__global float *y, const uint y_off, __global float *x,
                                   const uint x_off, __global const float *bias, const uint b_off,
                                   const int has_bias, __global const float *gb, const uint gb_off,
                                   __global float *saved, const uint saved_off,
                                   __global float *running, const uint running_off, const int B,
                                   const int N, const float eps, const float momentum,
                                   const int training, const int act, const float slope,
                                   const int S, __local float *scratch) {
    const int j = get_group_id(0), l = get_local_id(0), L = get_local_size(0), M = B * S;
    if (j >= N) return; /* the whole group */
    const float bias_j = has_bias ? bias[b_off + j] : 0.0f;
    float sum = 0.0f;
    for (int v = l; v < M; v += L) { /* each item rereads only the values it wrote */
        float a = x[x_off + AT(v)];
        if (has_bias || act) {
            a = act_apply1(act, a + bias_j, slope);
            x[x_off + AT(v)] = a;
        }
        sum += a;
    }
    /* every barrier outside the branches: each item of the group meets the same ones */
    const float batch_mean = group_sum2(scratch, sum, 0.0f).x / M;
    float ss = 0.0f;
    for (int v = l; training && v < M; v += L) {
        const float d = x[x_off + AT(v)] - batch_mean;
        ss += d * d;
    }
    ss = group_sum2(scratch, ss, 0.0f).x;
    const float2 st = feature_stats(training, batch_mean, ss, M, j, N, eps, momentum, saved, saved_off, running,
                                    running_off, l == 0);
    const float mean = st.x, invstd = st.y;
    const float gamma = gb[gb_off + j], beta = gb[gb_off + N + j];
    for (int v = l; v < M; v += L) y[y_off + AT(v)] = gamma * (x[x_off + AT(v)] - mean) * invstd + beta;
}

__kernel void batchnorm_backward_wg(__global float *dx, const uint dx_off, __global const float *dy,
                                    const uint dy_off, __global const float *x, const uint x_off,
                                    __global const float *gb, const uint gb_off, __global float *dgb,
                                    const uint dgb_off, __global float *dbias, const uint db_off,
                                    const int has_dbias, __global const float *saved,
                                    const uint saved_off, const int B, const int N, const int act,
                                    const float slope, const int S, __local float *scratch) {
    const int j = get_group_id(0), l = get_local_id(0), L = get_local_size(0), M = B * S;
    if (j >= N) return; /* the whole group */
    const float mean = saved[saved_off + j], invstd = saved[saved_off + N + j];
    float sdy = 0.0f, sdyx = 0.0f;
    for (int v = l; v < M; v += L) {
        const float g = dy[dy_off + AT(v)];
        sdy += g;
        sdyx += g * (x[x_off + AT(v)] - mean) * invstd;
    }
    const float2 t = group_sum2(scratch, sdy, sdyx); /* also orders all reads of dy before dx is written */
    if (l == 0) {
        dgb[dgb_off + j] += t.y;
        dgb[dgb_off + N + j] += t.x;
    }
    const float k = gb[gb_off + j] * invstd / M;
    float sum = 0.0f;
    for (int v = l; v < M; v += L) {
        const float xv = x[x_off + AT(v)];
        const float d = k * (M * dy[dy_off + AT(v)] - t.x - (xv - mean) * invstd * t.y) * act_grad1(act, xv, slope);
        dx[dx_off + AT(v)] = d;
        sum += d;
    }
    sum = group_sum2(scratch, sum, 0.0f).x;
    if (l == 0 && has_dbias) dbias[db_off + j] += sum;
}
#undef AT
