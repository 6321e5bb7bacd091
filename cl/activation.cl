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
 * the value at index i is at i + l * stride; only the first n lanes exist (the last group of
 * features): the others repeat lane n - 1 when loaded and are never stored. */
#define LANES 8
typedef float8 lanes_t;

lanes_t lanes_load(__global const float *p, const int i, const int stride, const int n) {
    if (n == LANES && stride == 1) return vload8(0, p + i);
    float v[LANES];
    for (int l = 0; l < LANES; l++) v[l] = p[i + min(l, n - 1) * stride];
    return vload8(0, v);
}

void lanes_store(__global float *p, const int i, const int stride, const int n, const lanes_t x) {
    if (n == LANES && stride == 1) {
        vstore8(x, 0, p + i);
        return;
    }
    float v[LANES];
    vstore8(x, 0, v);
    for (int l = 0; l < n; l++) p[i + l * stride] = v[l];
}

lanes_t act_apply(const int act, const lanes_t v, const float slope) {
    if (act == ACT_LEAKY) return select(slope * v, v, v > 0.0f);
    if (act == ACT_TANH) return tanh(v);
    if (act == ACT_RELU) return fmax(v, 0.0f);
    if (act == ACT_SIGMOID) return 1.0f / (1.0f + exp(-v));
    if (act == ACT_SOFTPLUS) return select(log1p(exp(v)), v, v > 20.0f);
    return v;
}

/* The activation's derivative from its output a. */
lanes_t act_grad(const int act, const lanes_t a, const float slope) {
    if (act == ACT_LEAKY) return select((lanes_t)slope, (lanes_t)1.0f, a > 0.0f);
    if (act == ACT_TANH) return 1.0f - a * a;
    if (act == ACT_RELU) return select((lanes_t)0.0f, (lanes_t)1.0f, a > 0.0f);
    if (act == ACT_SIGMOID) return a * (1.0f - a);
    if (act == ACT_SOFTPLUS) return 1.0f - exp(-a);
    return (lanes_t)1.0f;
}

/* y[B, N] <- act(y + bias[N]); has_bias = 0 skips the bias. One work item per row and group
 * of LANES features: B * ceil(N / LANES) items. */
__kernel void bias_act_forward(__global float *y, const uint y_off, __global const float *bias,
                               const uint b_off, const int has_bias, const int B, const int N,
                               const int act, const float slope) {
    const int groups = (N + LANES - 1) / LANES, item = get_global_id(0);
    if (item >= B * groups) return;
    const int b = item / groups, f = (item - b * groups) * LANES, n = min(LANES, N - f);
    lanes_t v = lanes_load(y, y_off + b * N + f, 1, n);
    if (has_bias) v += lanes_load(bias, b_off + f, 1, n);
    lanes_store(y, y_off + b * N + f, 1, n, act_apply(act, v, slope));
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
        const lanes_t d = lanes_load(dy, dy_off + i, 1, n) * act_grad(act, lanes_load(y, y_off + i, 1, n), slope);
        lanes_store(dy, dy_off + i, 1, n, d);
        sum += d;
    }
    if (has_dbias) lanes_store(dbias, db_off + f, 1, n, lanes_load(dbias, db_off + f, 1, n) + sum);
}
