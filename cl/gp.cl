/* gp.cl: the WGAN-GP gradient penalty, lambda * mean_b (||grad_x D(xhat_b)||_2 - 1)^2.
 * Dimensions: B samples of I pixels, row-major [B, I]. Uses philox4x32_10 and u01 (rng.cl). */

/* xhat[b] = eps_b real[b] + (1 - eps_b) fake[b], eps_b ~ U(0, 1) from Philox counter
 * (b, c1, c2, 1) under key (k0, k1): every element of a row recomputes the same eps_b. */
__kernel void gp_interpolate(__global float *xhat, const uint x_off, __global const float *real,
                             const uint r_off, __global const float *fake, const uint f_off,
                             const int B, const int I, const uint k0, const uint k1,
                             const uint c1, const uint c2) {
    const int i = get_global_id(0);
    if (i >= B * I) return;
    const uint b = (uint)(i / I);
    const float eps = u01(philox4x32_10((uint4)(b, c1, c2, 1), (uint2)(k0, k1)).x);
    xhat[x_off + i] = eps * real[r_off + i] + (1.0f - eps) * fake[f_off + i];
}

/* g[B, I] holds grad_x D(xhat) per row; replaced by u = dGP/dg = lambda * 2 (||g|| - 1) g /
 * (||g|| B) (zero where ||g|| = 0); sq[b] = (||g_b|| - 1)^2 for gp_sum. One item per row. */
__kernel void gp_direction(__global float *g, const uint g_off, __global float *sq,
                           const uint sq_off, const int B, const int I, const float lambda) {
    const int b = get_global_id(0);
    if (b >= B) return;
    __global float *row = g + g_off + (size_t)b * I;
    float ss = 0.0f;
    for (int k = 0; k < I; k++) ss += row[k] * row[k];
    const float norm = sqrt(ss);
    sq[sq_off + b] = (norm - 1.0f) * (norm - 1.0f);
    const float k = norm > 0.0f ? 2.0f * lambda * (norm - 1.0f) / (norm * B) : 0.0f;
    for (int j = 0; j < I; j++) row[j] *= k;
}

/* acc[slot] += lambda * mean(sq[0 .. B)): the penalty's value, summed in a fixed order. */
__kernel void gp_sum(__global float *acc, const int slot, __global const float *sq,
                     const uint sq_off, const int B, const float lambda) {
    if (get_global_id(0) != 0) return;
    float total = 0.0f;
    for (int b = 0; b < B; b++) total += sq[sq_off + b];
    acc[slot] += lambda * total / B;
}
