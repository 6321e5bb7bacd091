/* rng.cl: counter-based random numbers (Philox4x32-10, Salmon et al. 2011): standard normals
 * by Box-Muller, and uniforms. The counter (i, c1, c2, 0) under key (k0, k1) gives the four
 * normals out[4i .. 4i+3] (uniforms: counter word 3 is 1), so any element can be recomputed
 * without state. */

/* The ten rounds on the state (x, y, z, w) of one counter (T = uint) or of 8 counters at once
 * (T = uint8: one work item's explicit vectors, for the kernels that PoCL does not vectorise
 * across work items), each 32x32 -> 64-bit product as one multiplication of type U (written
 * with mul_hi and uint4 state, PoCL did not vectorise it: 4x slower). */
#define PHILOX_ROUNDS(NAME, T, U, WIDEN, NARROW)                                  \
    void NAME(T *x, T *y, T *z, T *w, uint k0, uint k1) {                        \
        for (int r = 0; r < 10; r++) {                                           \
            const U p0 = WIDEN(*x) * (ulong)0xD2511F53u, p1 = WIDEN(*z) * (ulong)0xCD9E8D57u; \
            *x = NARROW(p1 >> 32) ^ *y ^ k0;                                     \
            *y = NARROW(p1);                                                     \
            *z = NARROW(p0 >> 32) ^ *w ^ k1;                                     \
            *w = NARROW(p0);                                                     \
            k0 += 0x9E3779B9u;                                                   \
            k1 += 0xBB67AE85u;                                                   \
        }                                                                        \
    }
#define TO_ULONG(v) ((ulong)(v))
#define TO_UINT(v) ((uint)(v))
PHILOX_ROUNDS(philox_rounds, uint, ulong, TO_ULONG, TO_UINT)
PHILOX_ROUNDS(philox_rounds8, uint8, ulong8, convert_ulong8, convert_uint8)
#undef PHILOX_ROUNDS
#undef TO_ULONG
#undef TO_UINT

uint4 philox4x32_10(const uint4 ctr, const uint2 key) {
    uint x = ctr.x, y = ctr.y, z = ctr.z, w = ctr.w;
    philox_rounds(&x, &y, &z, &w, key.x, key.y);
    return (uint4)(x, y, z, w);
}

/* A uniform in (0, 1) from the top 24 bits: exactly representable, never 0 or 1. */
float u01(const uint r) { return ((float)(r >> 8) + 0.5f) * (1.0f / 16777216.0f); }
float8 u01_8(const uint8 r) { return (convert_float8(r >> 8) + 0.5f) * (1.0f / 16777216.0f); }

/* Four standard normals from four uniforms (Box-Muller). */
void box_muller(const uint4 r, float z[4]) {
    const float two_pi = 6.283185307179586f;
    const float ra = sqrt(-2.0f * log(u01(r.x))), rb = sqrt(-2.0f * log(u01(r.z)));
    z[0] = ra * cos(two_pi * u01(r.y));
    z[1] = ra * sin(two_pi * u01(r.y));
    z[2] = rb * cos(two_pi * u01(r.w));
    z[3] = rb * sin(two_pi * u01(r.w));
}

/* The 32 normals of the 8 counters (i0 + j, c1, c2, w0), j < 8, in order (each counter's four
 * as box_muller gives them), as explicit vectors: PoCL vectorises neither the rounds nor
 * Box-Muller across work items, and one counter per work item took 33 ns per normal there. */
void normals32(const uint i0, const uint c1, const uint c2, const uint w0, const uint k0, const uint k1,
               float16 *lo, float16 *hi) {
    uint8 x = (uint8)(i0) + (uint8)(0, 1, 2, 3, 4, 5, 6, 7), y = (uint8)(c1), z = (uint8)(c2), w = (uint8)(w0);
    philox_rounds8(&x, &y, &z, &w, k0, k1);
    const float two_pi = 6.283185307179586f;
    const float8 ra = sqrt(-2.0f * log(u01_8(x))), rb = sqrt(-2.0f * log(u01_8(z)));
    const float8 ty = two_pi * u01_8(y), tw = two_pi * u01_8(w);
    /* counter j's four normals (ra cos ty, ra sin ty, rb cos tw, rb sin tw)_j side by side */
    const uint16 pairs = (uint16)(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    const float16 ab = shuffle2(ra * cos(ty), ra * sin(ty), pairs), cd = shuffle2(rb * cos(tw), rb * sin(tw), pairs);
    *lo = shuffle2(ab, cd, (uint16)(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
    *hi = shuffle2(ab, cd, (uint16)(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
}

/* The normals of counters (i, c1, c2, 0): work item g writes those of counters 8 g .. 8 g + 7,
 * out[32 g ..] (normals32); a last, partial block of counters goes one by one. */
__kernel void randn(__global float *out, const uint off, const uint n, const uint k0,
                    const uint k1, const uint c1, const uint c2) {
    const uint i0 = (uint)get_global_id(0) * 8;
    if (4 * i0 >= n) return;
    __global float *o = out + off + 4 * i0;
    if (4 * i0 + 32 <= n) {
        float16 lo, hi;
        normals32(i0, c1, c2, 0, k0, k1, &lo, &hi);
        vstore16(lo, 0, o);
        vstore16(hi, 1, o);
        return;
    }
    for (uint j = 0; j < 8 && 4 * (i0 + j) < n; j++) {
        float z[4];
        box_muller(philox4x32_10((uint4)(i0 + j, c1, c2, 0), (uint2)(k0, k1)), z);
        for (uint k = 0; k < 4 && 4 * (i0 + j) + k < n; k++) o[4 * j + k] = z[k];
    }
}

/* Uniforms in (0, 1): the four of counter (i, c1, c2, 1) into out[4i .. 4i+3]. */
__kernel void randu(__global float *out, const uint off, const uint n, const uint k0,
                    const uint k1, const uint c1, const uint c2) {
    const uint i = get_global_id(0);
    if (4 * i >= n) return;
    const uint4 r = philox4x32_10((uint4)(i, c1, c2, 1), (uint2)(k0, k1));
    const uint v[4] = {r.x, r.y, r.z, r.w};
    for (int k = 0; k < 4; k++)
        if (4 * i + k < n) out[off + 4 * i + k] = u01(v[k]);
}

/* y[j] = x[j] + sigma * z_i for the elements i = first + j of a tensor, j < n, z_i a standard
 * normal of the counter (i / 4, c1, c2, 3) (Box-Muller as in randn): any element's noise can be
 * recomputed. Work item g takes the elements 32 (first / 32 + g) .. + 31 (8 counters, normals32);
 * a block cut by first or first + n goes one counter at a time. y may equal x. */
__kernel void gaussian_noise(__global float *y, const uint y_off, __global const float *x,
                             const uint x_off, const uint n, const uint first, const float sigma,
                             const uint k0, const uint k1, const uint c1, const uint c2) {
    const uint blk0 = (first / 32 + (uint)get_global_id(0)) * 8;
    if (blk0 * 4 >= first + n) return;
    if (blk0 * 4 >= first && blk0 * 4 + 32 <= first + n) {
        float16 lo, hi;
        normals32(blk0, c1, c2, 3, k0, k1, &lo, &hi);
        const uint j = blk0 * 4 - first;
        vstore16(vload16(0, x + x_off + j) + sigma * lo, 0, y + y_off + j);
        vstore16(vload16(0, x + x_off + j + 16) + sigma * hi, 0, y + y_off + j + 16);
        return;
    }
    for (uint blk = blk0; blk < blk0 + 8; blk++) {
        float z[4];
        box_muller(philox4x32_10((uint4)(blk, c1, c2, 3), (uint2)(k0, k1)), z);
        for (uint k = 0; k < 4; k++) {
            const uint i = blk * 4 + k;
            if (i < first || i >= first + n) continue;
            const uint j = i - first;
            y[y_off + j] = x[x_off + j] + sigma * z[k];
        }
    }
}
