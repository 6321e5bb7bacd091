/* optim.cl: optimiser steps over a network's whole parameter buffer, laid out as
 * params[n] | grads[n] | m[n] | v[n], one launch per network, and weight clipping. */

/* The optimisers take 8 parameters per work item as float8 vectors: PoCL's own vectorising
 * across work items had left Adam a quarter of the MLP's iteration on AVX2 (its sqrt and
 * division scalar). load8/store8 move the rem (at most 8) values at x, zero past them. */
float8 load8(__global const float *x, const uint rem) {
    if (rem >= 8) return vload8(0, x);
    float t[8];
    for (uint k = 0; k < 8; k++) t[k] = k < rem ? x[k] : 0.0f;
    return vload8(0, t);
}

void store8(const float8 v, __global float *x, const uint rem) {
    if (rem >= 8) {
        vstore8(v, 0, x);
        return;
    }
    float t[8];
    vstore8(v, 0, t);
    for (uint k = 0; k < rem; k++) x[k] = t[k];
}

/* Adam; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t for step t. Arranged as PyTorch does:
 * p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps). */
__kernel void adam(__global float *buf, const uint n, const float lr, const float beta1,
                   const float beta2, const float eps, const float bc1, const float bc2) {
    const uint i = get_global_id(0) * 8;
    if (i >= n) return;
    const uint rem = n - i;
    const float8 g = load8(buf + n + i, rem);
    const float8 m = beta1 * load8(buf + 2 * n + i, rem) + (1.0f - beta1) * g;
    const float8 v = beta2 * load8(buf + 3 * n + i, rem) + (1.0f - beta2) * g * g;
    store8(m, buf + 2 * n + i, rem);
    store8(v, buf + 3 * n + i, rem);
    store8(load8(buf + i, rem) - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps), buf + i, rem);
}

/* RMSprop as PyTorch's (no momentum, not centred): v = alpha v + (1 - alpha) g^2,
 * p -= lr g / (sqrt(v) + eps). The square average lives in v; m is unused. */
__kernel void rmsprop(__global float *buf, const uint n, const float lr, const float alpha,
                      const float eps) {
    const uint i = get_global_id(0) * 8;
    if (i >= n) return;
    const uint rem = n - i;
    const float8 g = load8(buf + n + i, rem);
    const float8 v = alpha * load8(buf + 3 * n + i, rem) + (1.0f - alpha) * g * g;
    store8(v, buf + 3 * n + i, rem);
    store8(load8(buf + i, rem) - lr * g / (sqrt(v) + eps), buf + i, rem);
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
