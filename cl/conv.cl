/* conv.cl: the data movement of convolutions done as GEMMs, in a "CBS" layout where a tensor
 * [B, C, S] (S = H*W, NCHW) is held as [C, B*S], so one GEMM covers the whole batch.
 * Geometry of a convolution: input C x H x W, kernel K x K, stride ST, padding P, output
 * positions OH x OW; col rows are (c, kh, kw), its columns (b, oh, ow). The kernels' source
 * and destination never overlap (restrict: without it the compiler cannot vectorise the loops
 * inside a work item, and im2col_pack took twice as long). A transposed
 * convolution is the adjoint of the convolution from its output to its input, so it uses the
 * same two kernels the other way round. */

/* col[C*K*K, B*OH*OW] <- the input patches (zero outside the image). One item per output row
 * (c, kh, kw, b, oh), writing its OW consecutive entries. */
__kernel void im2col(__global float *restrict col, const uint col_off, __global const float *restrict img,
                     const uint img_off, const int B, const int C, const int H, const int W,
                     const int K, const int ST, const int P, const int OH, const int OW) {
    const int i = get_global_id(0);
    if (i >= C * K * K * B * OH) return;
    const int oh = i % OH, b = (i / OH) % B, r = i / (OH * B);
    const int c = r / (K * K), kh = (r / K) % K, kw = r % K;
    const int ih = oh * ST - P + kh;
    __global float *dst = col + col_off + (size_t)r * B * OH * OW + (b * OH + oh) * OW;
    if (ih < 0 || ih >= H) {
        for (int ow = 0; ow < OW; ow++) dst[ow] = 0.0f;
        return;
    }
    __global const float *src = img + img_off + ((b * C + c) * H + ih) * W;
    for (int ow = 0; ow < OW; ow++) {
        const int iw = ow * ST - P + kw;
        dst[ow] = (iw >= 0 && iw < W) ? src[iw] : 0.0f;
    }
}

/* img[B, C, H, W] <- the sum of the col entries that im2col would have read from each pixel
 * (written, not accumulated). One item per image row (b, c, ih): it zeroes the row, then adds
 * in each kernel tap (kh, kw) that reaches it, a run of OW col entries, so no atomics and no
 * division per pixel. */
__kernel void col2im(__global float *restrict img, const uint img_off, __global const float *restrict col,
                     const uint col_off, const int B, const int C, const int H, const int W,
                     const int K, const int ST, const int P, const int OH, const int OW) {
    const int row = get_global_id(0);
    if (row >= B * C * H) return;
    const int ih = row % H, c = (row / H) % C, b = row / (H * C);
    const int L = B * OH * OW;
    __global float *dst = img + img_off + (size_t)row * W;
    for (int iw = 0; iw < W; iw++) dst[iw] = 0.0f;
    for (int kh = 0; kh < K; kh++) {
        const int th = ih + P - kh; /* = oh * ST for the output row oh that read this one */
        if (th < 0 || th % ST || th / ST >= OH) continue;
        const int oh = th / ST;
        for (int kw = 0; kw < K; kw++) {
            __global const float *src = col + col_off + (size_t)((c * K + kh) * K + kw) * L + (b * OH + oh) * OW;
            for (int ow = 0, iw = kw - P; ow < OW; ow++, iw += ST)
                if (iw >= 0 && iw < W) dst[iw] += src[ow];
        }
    }
}

/* The CPU-shaped twins of the two kernels above: work item (b, c) moves one channel plane of
 * one image, H x W input pixels and OH x OW output positions. im2col_planes reads the plane
 * (in the core's cache) and writes, for each tap (kh, kw), its run of OH*OW consecutive col
 * entries; col2im_planes zeroes the plane and adds each tap's run into it. Both read and write
 * memory in long contiguous runs, where the per-row kernels above ran PoCL's vectorised work
 * items over 7-entry rows. One item per group: the loops are the item's own. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void im2col_planes(
    __global float *restrict col, const uint col_off, __global const float *restrict img, const uint img_off,
    const int B, const int C, const int H, const int W, const int K, const int ST, const int P,
    const int OH, const int OW) {
    const int b = get_global_id(0), c = get_global_id(1);
    if (b >= B || c >= C) return;
    const size_t L = (size_t)B * OH * OW;
    __global const float *src = img + img_off + (size_t)(b * C + c) * H * W;
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++) {
            __global float *dst = col + col_off + (size_t)((c * K + kh) * K + kw) * L + (size_t)b * OH * OW;
            for (int oh = 0; oh < OH; oh++, dst += OW) {
                const int ih = oh * ST - P + kh;
                if (ih < 0 || ih >= H) {
                    for (int ow = 0; ow < OW; ow++) dst[ow] = 0.0f;
                    continue;
                }
                __global const float *row = src + ih * W;
                for (int ow = 0; ow < OW; ow++) {
                    const int iw = ow * ST - P + kw;
                    dst[ow] = iw >= 0 && iw < W ? row[iw] : 0.0f;
                }
            }
        }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void col2im_planes(
    __global float *restrict img, const uint img_off, __global const float *restrict col, const uint col_off,
    const int B, const int C, const int H, const int W, const int K, const int ST, const int P,
    const int OH, const int OW) {
    const int b = get_global_id(0), c = get_global_id(1);
    if (b >= B || c >= C) return;
    const size_t L = (size_t)B * OH * OW;
    __global float *dst = img + img_off + (size_t)(b * C + c) * H * W;
    for (int i = 0; i < H * W; i++) dst[i] = 0.0f;
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++) {
            __global const float *src = col + col_off + (size_t)((c * K + kh) * K + kw) * L + (size_t)b * OH * OW;
            /* the columns ow whose pixel iw = ow ST - P + kw is inside the image */
            const int lo = kw >= P ? 0 : (P - kw + ST - 1) / ST;
            const int hi = W - 1 + P - kw < 0 ? 0 : min(OW, (W - 1 + P - kw) / ST + 1);
            for (int oh = 0; oh < OH; oh++, src += OW) {
                const int ih = oh * ST - P + kh;
                if (ih < 0 || ih >= H) continue;
                const int at = ih * W + kw - P; /* + ow ST: the pixel of column ow */
                for (int ow = lo; ow < hi; ow++) dst[at + ow * ST] += src[ow];
            }
        }
}

/* The im2col matrix col[C*K*K, B*OH*OW] packed straight into a packed GEMM's op(B) panels
 * (gemm.h's gancl_gemm_b_panels), without writing col: op(B) = col (tb = 0: k runs over the
 * taps (c, kh, kw), the panel's lanes over positions (b, oh, ow)) or col^T (tb = 1: the other
 * way round); dst[q][k][w] = op(B)[k, PW q + w], zero past N. Both kinds of index split into
 * an image offset and a row and column that add up: tap (c, kh, kw) -> (c H W, kh, kw),
 * position (b, oh, ow) -> (b C H W, oh ST - P, ow ST - P); the entry is the pixel at the sums,
 * or 0 outside the image. So each lane keeps its own offset, row and column, and the k loop
 * steps its index's three counters (no division per step: with them, three per step of k had
 * made the kernel a fifth of the DCGAN's time on AVX2). Work item (kb, q) writes COLPACK_K
 * steps of k of panel q. */
#define COLPACK_K 64
#define COLPACK_MAX_W 32

/* Index i of a tap (position = 0) or position (1): the counters (i0 fastest, i1) and the
 * offset, row and column they stand for; col_step moves them on to index i + 1. */
typedef struct {
    int i0, i1, off, y, x;
} col_at;

col_at col_start(const int i, const int position, const int C, const int H, const int W, const int K,
                 const int ST, const int P, const int OH, const int OW) {
    const int n0 = position ? OW : K, n1 = position ? OH : K, s = position ? ST : 1, o = position ? -P : 0;
    col_at a;
    a.i0 = i % n0;
    a.i1 = (i / n0) % n1;
    a.off = i / (n0 * n1) * (position ? C * H * W : H * W);
    a.y = o + a.i1 * s;
    a.x = o + a.i0 * s;
    return a;
}

void col_step(col_at *a, const int position, const int C, const int H, const int W, const int K,
              const int ST, const int P, const int OH, const int OW) {
    const int n0 = position ? OW : K, n1 = position ? OH : K, s = position ? ST : 1, o = position ? -P : 0;
    a->x += s;
    if (++a->i0 < n0) return;
    a->i0 = 0;
    a->x = o;
    a->y += s;
    if (++a->i1 < n1) return;
    a->i1 = 0;
    a->y = o;
    a->off += position ? C * H * W : H * W;
}

/* The 16 entries of img at the lanes' addresses at, 0 where in is 0 (those lanes read img[0]) */
float16 gather16(__global const float *img, const int16 at, const int16 in) {
    const int16 a = select((int16)0, at, in);
    const float16 v = (float16)(img[a.s0], img[a.s1], img[a.s2], img[a.s3], img[a.s4], img[a.s5], img[a.s6],
                                img[a.s7], img[a.s8], img[a.s9], img[a.sa], img[a.sb], img[a.sc], img[a.sd],
                                img[a.se], img[a.sf]);
    return select((float16)0.0f, v, in);
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void im2col_pack(
    __global float *restrict dst, const uint dst_off, __global const float *restrict img, const uint img_off,
    const int N, const int KD, const int tb, const int PW, const int C, const int H, const int W,
    const int K, const int ST, const int P, const int OH, const int OW) {
    const int k0 = get_global_id(0) * COLPACK_K, q = get_global_id(1);
    const int kn = min(COLPACK_K, KD - k0), j0 = q * PW, jn = min(PW, N - j0), vn = PW / 16;
    if (kn <= 0 || jn <= 0 || PW > COLPACK_MAX_W || PW % 16) return;
    /* the panel's lanes, 16 to a vector: offset + row W + column, row and column; lanes past
     * N get a row that no step of k brings inside the image */
    int16 la[COLPACK_MAX_W / 16], ly[COLPACK_MAX_W / 16], lx[COLPACK_MAX_W / 16];
    for (int v = 0; v < vn; v++) {
        int ta[16], ty[16], tx[16];
        for (int w = 0; w < 16; w++) {
            const int j = 16 * v + w;
            const col_at a = col_start(j0 + min(j, jn - 1), !tb, C, H, W, K, ST, P, OH, OW);
            ta[w] = a.off + a.y * W + a.x;
            ty[w] = j < jn ? a.y : -(1 << 24);
            tx[w] = a.x;
        }
        la[v] = vload16(0, ta);
        ly[v] = vload16(0, ty);
        lx[v] = vload16(0, tx);
    }
    __global float *d = dst + dst_off + ((size_t)q * KD + k0) * PW;
    img += img_off;
    col_at k = col_start(k0, tb, C, H, W, K, ST, P, OH, OW);
    for (int i = 0; i < kn; i++, d += PW) {
        const int ka = k.off + k.y * W + k.x;
        for (int v = 0; v < vn; v++) {
            const int16 in = convert_uint16(ly[v] + k.y) < (uint16)H & convert_uint16(lx[v] + k.x) < (uint16)W;
            vstore16(gather16(img, la[v] + ka, in), v, d);
        }
        col_step(&k, tb, C, H, W, K, ST, P, OH, OW);
    }
}

/* to_cbs = 1: dst[C, B*S] <- src[B, C, S]; to_cbs = 0: dst[B, C, S] <- src[C, B*S] plus
 * bias[c] when has_bias. One item per run of S contiguous elements of dst (a contiguous copy
 * inside the item, which compilers for CPUs vectorise). */
__kernel void permute_cbs(__global float *restrict dst, const uint dst_off, __global const float *restrict src,
                          const uint src_off, const int B, const int C, const int S,
                          const int to_cbs, __global const float *bias, const uint b_off,
                          const int has_bias) {
    const int r = get_global_id(0); /* dst row: (c, b) when to_cbs, else (b, c) */
    if (r >= B * C) return;
    const int c = to_cbs ? r / B : r % C, b = to_cbs ? r % B : r / C;
    __global float *d = dst + dst_off + (size_t)r * S;
    __global const float *x = src + src_off + (size_t)(to_cbs ? b * C + c : c * B + b) * S;
    const float add = !to_cbs && has_bias ? bias[b_off + c] : 0.0f;
    for (int s = 0; s < S; s++) d[s] = x[s] + add;
}

/* out[R] += the sums of the rows of m[R, L] (a convolution's bias gradient). One item per row. */
__kernel void row_sums(__global float *out, const uint out_off, __global const float *m,
                       const uint m_off, const int R, const int L) {
    const int r = get_global_id(0);
    if (r >= R) return;
    float s = 0.0f;
    for (int l = 0; l < L; l++) s += m[m_off + (size_t)r * L + l];
    out[out_off + r] += s;
}

/* The same with one work group per row (GPU-shaped: its items stride along the row and reduce
 * in local memory, group_sum2 in activation.cl). */
__kernel void row_sums_wg(__global float *out, const uint out_off, __global const float *m,
                          const uint m_off, const int R, const int L, __local float *scratch) {
    const int r = get_group_id(0), l = get_local_id(0), n = get_local_size(0);
    if (r >= R) return; /* the whole group */
    float s = 0.0f;
    for (int c = l; c < L; c += n) s += m[m_off + (size_t)r * L + c];
    s = group_sum2(scratch, s, 0.0f).x;
    if (l == 0) out[out_off + r] += s;
}

/* y[n] = x[n] * keep / (1 - p) for the elements first .. first + n - 1 of a tensor, keep =
 * (u > p) with u uniform from Philox counter (i / 4, c1, c2, 2) under (k0, k1), draw i % 4:
 * the same element and stream give the same mask, so the backward pass (and the gradient
 * penalty's tangent) reuse it, whatever rows they cover. */
__kernel void dropout(__global float *y, const uint y_off, __global const float *x,
                      const uint x_off, const uint n, const uint first, const float p,
                      const uint k0, const uint k1, const uint c1, const uint c2) {
    /* one item per 8 blocks of 4 tensor elements (8 Philox counters as one vector: PoCL did not
     * vectorise this kernel across work items, and scalar Philox took 5% of a DCGAN
     * iteration; 16 counters spill on Intel GPUs), clipped to [first, first+n) */
    const uint b0 = first / 4 + 8 * get_global_id(0);
    if (b0 * 4 >= first + n) return;
    uint8 rx = (uint8)(b0) + (uint8)(0, 1, 2, 3, 4, 5, 6, 7), ry = (uint8)(c1), rz = (uint8)(c2), rw = (uint8)(2);
    philox_rounds8(&rx, &ry, &rz, &rw, k0, k1);
    const float scale = 1.0f / (1.0f - p);
    const uint i0 = b0 * 4;
    if (i0 >= first && i0 + 32 <= first + n) { /* all 32 inside: 16 elements at a time */
#define DRAWS(a, b, c, d)                                                                    \
    (uint16)(rx.s##a, ry.s##a, rz.s##a, rw.s##a, rx.s##b, ry.s##b, rz.s##b, rw.s##b, rx.s##c, \
             ry.s##c, rz.s##c, rw.s##c, rx.s##d, ry.s##d, rz.s##d, rw.s##d)
        const uint16 d[2] = {DRAWS(0, 1, 2, 3), DRAWS(4, 5, 6, 7)};
#undef DRAWS
        __global const float *xs = x + x_off + (i0 - first);
        __global float *ys = y + y_off + (i0 - first);
        for (int c = 0; c < 2; c++) { /* elements 16 c .. 16 c + 15: blocks 4 c .. 4 c + 3 */
            const float16 u = (convert_float16(d[c] >> 8) + 0.5f) * (1.0f / 16777216.0f); /* u01 */
            const float16 v = vload16(c, xs) * scale;
            vstore16(select((float16)(0.0f), v, u > (float16)(p)), c, ys);
        }
        return;
    }
    uint r[4][8]; /* draw k of block b0 + b */
    vstore8(rx, 0, r[0]);
    vstore8(ry, 0, r[1]);
    vstore8(rz, 0, r[2]);
    vstore8(rw, 0, r[3]);
    for (uint m = 0; m < 32; m++) {
        const uint i = i0 + m; /* the element's index in the whole tensor */
        if (i < first || i >= first + n) continue;
        const uint j = i - first;
        y[y_off + j] = u01(r[m % 4][m / 4]) > p ? x[x_off + j] * scale : 0.0f;
    }
}
