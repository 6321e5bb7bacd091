/* activation.cl: bias add fused with an activation, forward and backward, in place.
 * With v = x + b: ACT_NONE: y = v;  ACT_LEAKY: v if v > 0 else slope * v;  ACT_TANH: tanh(v);
 * ACT_RELU: max(v, 0);  ACT_SIGMOID: 1 / (1 + e^-v);  ACT_SOFTPLUS: log(1 + e^v) (v past 20:
 * v, as PyTorch). The backward pass needs only the outputs y: leaky's and ReLU's signs survive
 * (slope > 0), tanh' = 1 - y^2, sigmoid' = y (1 - y), softplus' = sigmoid(v) = 1 - e^-y. Dimensions: B rows (batch), N features; row-major [B, N]. Also the
 * vector helpers (lanes) that the per-feature kernels here and in batchnorm.cl share. */
#define ACT_NONE 0
#define ACT_LEAKY 1
#define ACT_TANH 2
#define ACT_RELU 3
#define ACT_SIGMOID 4
#define ACT_SOFTPLUS 5

/* ---- lanes: LANES neighbouring features handled together as one vector ----
 * Per-feature loops run inside a work item, where PoCL (CPUs) does not vectorise across work
 * items; a work item owning LANES features computes them as one vector instead. Lane l of
 * the value at index i is at i + l; only the first n lanes exist (the last group of
 * features): the others repeat lane n - 1 when loaded and are never stored. */
#define LANES 8
typedef float8 lanes_t;

lanes_t lanes_load(__global const float *p, const int i, const int n) {
    if (n == LANES) return vload8(0, p + i);
    float v[LANES];
    for (int l = 0; l < LANES; l++) v[l] = p[i + min(l, n - 1)];
    return vload8(0, v);
}

void lanes_store(__global float *p, const int i, const int n, const lanes_t x) {
    if (n == LANES) {
        vstore8(x, 0, p + i);
        return;
    }
    float v[LANES];
    vstore8(x, 0, v);
    for (int l = 0; l < n; l++) p[i + l] = v[l];
}

/* The activation of v, and its derivative from the output a, for a vector of lanes (act_apply,
 * act_grad) and for one float (act_apply1, act_grad1: the kernels with one work group per
 * feature). */
#define ACT_FUNCTIONS(T, APPLY, GRAD)                                             \
    T APPLY(const int act, const T v, const float slope) {                       \
        if (act == ACT_LEAKY) return select(slope * v, v, v > 0.0f);             \
        if (act == ACT_TANH) return tanh(v);                                     \
        if (act == ACT_RELU) return fmax(v, 0.0f);                               \
        if (act == ACT_SIGMOID) return 1.0f / (1.0f + exp(-v));                  \
        if (act == ACT_SOFTPLUS) return select(log1p(exp(v)), v, v > 20.0f);     \
        return v;                                                                \
    }                                                                            \
    T GRAD(const int act, const T a, const float slope) {                        \
        if (act == ACT_LEAKY) return select((T)slope, (T)1.0f, a > 0.0f);        \
        if (act == ACT_TANH) return 1.0f - a * a;                                \
        if (act == ACT_RELU) return select((T)0.0f, (T)1.0f, a > 0.0f);          \
        if (act == ACT_SIGMOID) return a * (1.0f - a);                           \
        if (act == ACT_SOFTPLUS) return 1.0f - exp(-a);                          \
        return (T)1.0f;                                                          \
    }
ACT_FUNCTIONS(lanes_t, act_apply, act_grad)
ACT_FUNCTIONS(float, act_apply1, act_grad1)
#undef ACT_FUNCTIONS

/* Sums a and b over the work group (local size a power of two, scratch 2 floats per item);
 * every item gets both totals. */
float2 group_sum2(__local float *scratch, const float a, const float b) {
    const int l = get_local_id(0), n = get_local_size(0);
    scratch[l] = a;
    scratch[n + l] = b;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = n / 2; s > 0; s >>= 1) {
        if (l < s) {
            scratch[l] += scratch[l + s];
            scratch[n + l] += scratch[n + l + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float2 total = (float2)(scratch[0], scratch[n]);
    barrier(CLK_LOCAL_MEM_FENCE); /* everyone has read it before scratch is used again */
    return total;
}

/* y[B, N] <- act(y + bias[N]); has_bias = 0 skips the bias. One work item per row and group
 * of LANES features: B * ceil(N / LANES) items. */
__kernel void bias_act_forward(__global float *y, const uint y_off, __global const float *bias,
                               const uint b_off, const int has_bias, const int B, const int N,
                               const int act, const float slope) {
    const int groups = (N + LANES - 1) / LANES, item = get_global_id(0);
    if (item >= B * groups) return;
    const int b = item / groups, f = (item - b * groups) * LANES, n = min(LANES, N - f);
    lanes_t v = lanes_load(y, y_off + b * N + f, n);
    if (has_bias) v += lanes_load(bias, b_off + f, n);
    lanes_store(y, y_off + b * N + f, n, act_apply(act, v, slope));
}

/* dy[B, N] <- dy * act'(y) (the gradient before the activation, in place);
 * dbias[N] += column sums of that, when has_dbias. One work item per LANES features. */
__kernel void bias_act_backward(__global float *dy, const uint dy_off, __global const float *y,
                                const uint y_off, __global float *dbias, const uint db_off,
                                const int has_dbias, const int B, const int N, const int act,
                                const float slope) {
    const int f = get_global_id(0) * LANES;
    if (f >= N) return;
    const int n = min(LANES, N - f);
    lanes_t sum = 0.0f;
    for (int i = f; i < B * N; i += N) {
        const lanes_t d = lanes_load(dy, dy_off + i, n) * act_grad(act, lanes_load(y, y_off + i, n), slope);
        lanes_store(dy, dy_off + i, n, d);
        sum += d;
    }
    if (has_dbias) lanes_store(dbias, db_off + f, n, lanes_load(dbias, db_off + f, n) + sum);
}

/* The same with one work group per feature j (GPU-shaped: its items stride over the rows and
 * reduce the column sum in local memory). */
__kernel void bias_act_backward_wg(__global float *dy, const uint dy_off, __global const float *y,
                                   const uint y_off, __global float *dbias, const uint db_off,
                                   const int has_dbias, const int B, const int N, const int act,
                                   const float slope, __local float *scratch) {
    const int j = get_group_id(0), l = get_local_id(0), L = get_local_size(0);
    if (j >= N) return; /* the whole group */
    float sum = 0.0f;
    for (int b = l; b < B; b += L) {
        const int i = b * N + j;
        const float d = dy[dy_off + i] * act_grad1(act, y[y_off + i], slope);
        dy[dy_off + i] = d;
        sum += d;
    }
    sum = group_sum2(scratch, sum, 0.0f).x; /* a barrier every item meets */
    if (l == 0 && has_dbias) dbias[db_off + j] += sum;
}
