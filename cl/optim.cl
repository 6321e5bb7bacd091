/* optim.cl: optimiser steps over a network's whole parameter buffer, laid out as
 * params[n] | grads[n] | m[n] | v[n], one launch per network, and weight clipping. */

/* The optimisers take LANES (8) parameters per work item as one vector (activation.cl's
 * lanes_load/lanes_store): PoCL's own vectorising across work items had left Adam scalar, a
 * quarter of the MLP's iteration on AVX2. */
/* Adam; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t for step t. Arranged as PyTorch does:
 * p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). */
__kernel void adam(__global float *buf, const uint n, const float lr, const float beta1,
                   const float beta2, const float eps, const float bc1, const float bc2) {
    const int i = (int)get_global_id(0) * LANES;
    if (i >= (int)n) return;
    const int l = min(LANES, (int)n - i);
    const lanes_t g = lanes_load(buf + n, i, l);
    const lanes_t m = beta1 * lanes_load(buf + 2 * n, i, l) + (1.0f - beta1) * g;
    const lanes_t v = beta2 * lanes_load(buf + 3 * n, i, l) + (1.0f - beta2) * g * g;
    lanes_store(buf + 2 * n, i, l, m);
    lanes_store(buf + 3 * n, i, l, v);
    lanes_store(buf, i, l, lanes_load(buf, i, l) - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps));
}

/* RMSprop as PyTorch's (no momentum, not centred): v = alpha v + (1 - alpha) g^2,
 * p -= lr g / (sqrt(v) + eps). The square average lives in v; m is unused. */
__kernel void rmsprop(__global float *buf, const uint n, const float lr, const float alpha,
                      const float eps) {
    const int i = (int)get_global_id(0) * LANES;
    if (i >= (int)n) return;
    const int l = min(LANES, (int)n - i);
    const lanes_t g = lanes_load(buf + n, i, l);
    const lanes_t v = alpha * lanes_load(buf + 3 * n, i, l) + (1.0f - alpha) * g * g;
    lanes_store(buf + 3 * n, i, l, v);
    lanes_store(buf, i, l, lanes_load(buf, i, l) - lr * g / (sqrt(v) + eps));
}

/* Clamps the n parameters to [-c, c] (the original WGAN's critic constraint). */
__kernel void clip_params(__global float *buf, const uint n, const float c) {
    const uint i = get_global_id(0);
    if (i >= n) return;
    buf[i] = clamp(buf[i], -c, c);
}

/* The n gradients (the second quarter of the buffer) <- 0, before a step accumulates into
 * them; four per work item. */
__kernel void zero_grads(__global float *buf, const uint n) {
    const uint i = get_global_id(0) * 4;
    if (i + 4 <= n) {
        vstore4((float4)0.0f, 0, buf + n + i);
        return;
    }
    for (uint k = i; k < n; k++) buf[n + k] = 0.0f;
}

/* The exponential moving average of n values: avg = decay avg + (1 - decay) x (G's EMA
 * weights and BatchNorm statistics, after each G step). */
__kernel void ema_update(__global float *avg, const uint avg_off, __global const float *x, const uint x_off,
                         const uint n, const float decay) {
    const uint i = get_global_id(0);
    if (i >= n) return;
    avg[avg_off + i] = decay * avg[avg_off + i] + (1.0f - decay) * x[x_off + i];
}
