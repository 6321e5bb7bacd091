/* activation.cl: bias add fused with an activation, forward and backward, in place.
 * ACT_NONE: y = x + b;  ACT_LEAKY: y = x + b if > 0 else slope * (x + b);  ACT_TANH: tanh(x + b).
 * The backward pass needs only the outputs y: leaky's sign survives (slope > 0) and
 * tanh' = 1 - y^2. Dimensions: B rows (batch), N features; row-major [B, N]. */
#define ACT_NONE 0
#define ACT_LEAKY 1
#define ACT_TANH 2

/* y[B, N] <- act(y + bias[N]); has_bias = 0 skips the bias. One work item per element. */
__kernel void bias_act_forward(__global float *y, const uint y_off, __global const float *bias,
                               const uint b_off, const int has_bias, const int B, const int N,
                               const int act, const float slope) {
    const int i = get_global_id(0);
    if (i >= B * N) return;
    float v = y[y_off + i] + (has_bias ? bias[b_off + i % N] : 0.0f);
    if (act == ACT_LEAKY) v = v > 0.0f ? v : slope * v;
    else if (act == ACT_TANH) v = tanh(v);
    y[y_off + i] = v;
}

/* dy[B, N] <- dy * act'(y) (the gradient before the activation, in place);
 * dbias[N] += column sums of that, when has_dbias. One work item per feature. */
__kernel void bias_act_backward(__global float *dy, const uint dy_off, __global const float *y,
                                const uint y_off, __global float *dbias, const uint db_off,
                                const int has_dbias, const int B, const int N, const int act,
                                const float slope) {
    const int j = get_global_id(0);
    if (j >= N) return;
    float sum = 0.0f;
    for (int b = 0; b < B; b++) {
        const int i = b * N + j;
        float d = dy[dy_off + i];
        const float out = y[y_off + i];
        if (act == ACT_LEAKY) d *= out > 0.0f ? 1.0f : slope;
        else if (act == ACT_TANH) d *= 1.0f - out * out;
        dy[dy_off + i] = d;
        sum += d;
    }
    if (has_dbias) dbias[db_off + j] += sum;
}
