/* matmul.cl: gan-cl's own GEMM kernels, C = alpha * op(A) @ op(B) + beta * C (row-major).
 * First a plain tiled kernel (any transposes), then register-blocked ones (below).
 * The independent cross-check of CLBlast (and its stand-in with --gemm matmul).
 * One work item per element of C; MATMUL_TILE x MATMUL_TILE work-groups stage tiles of op(A)
 * and op(B) in local memory. Dimensions: op(A) M x K, op(B) K x N, C M x N.
 * With beta == 0, C is not read (it may hold garbage or NaN). */
#ifndef MATMUL_TILE
#define MATMUL_TILE 16
#endif

__kernel __attribute__((reqd_work_group_size(MATMUL_TILE, MATMUL_TILE, 1)))
void matmul(const int M, const int N, const int K, const int ta, const int tb, const float alpha,
            __global const float *A, const uint a_off, __global const float *B, const uint b_off,
            const float beta, __global float *C, const uint c_off) {
    __local float As[MATMUL_TILE][MATMUL_TILE];
    __local float Bs[MATMUL_TILE][MATMUL_TILE];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int col = get_global_id(0), row = get_global_id(1);
    A += a_off;
    B += b_off;
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += MATMUL_TILE) {
        int ka = k0 + tx, kb = k0 + ty;
        As[ty][tx] = (row < M && ka < K) ? (ta ? A[ka * M + row] : A[row * K + ka]) : 0.0f;
        Bs[ty][tx] = (kb < K && col < N) ? (tb ? B[col * K + kb] : B[kb * N + col]) : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < MATMUL_TILE; k++) acc += As[ty][k] * Bs[k][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row >= M || col >= N) return;
    __global float *c = C + c_off + row * N + col;
    *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

/* ---- tiled-4x4: the GPU-shaped GEMM (any transposes) ----
 * A work group of TILED_LS x TILED_LS items computes a square tile of C of TILED_LS * TILED_ITEM
 * rows and columns; each item keeps TILED_ITEM x TILED_ITEM entries of it in registers (rows
 * ty + i TILED_LS, columns tx + j TILED_LS: neighbouring items read neighbouring words of local
 * memory and write neighbouring words of C). Slices of TILED_K columns of op(A) and rows of
 * op(B) are staged in local memory, zero past the edges. The sizes are build options (-D);
 * by default TILED_LS is the device's MATMUL_TILE, so the work group is as large as matmul's. */
#ifndef TILED_LS
#define TILED_LS MATMUL_TILE
#endif
#ifndef TILED_ITEM
#define TILED_ITEM 4
#endif
#ifndef TILED_K
#define TILED_K 16
#endif
#define TILED_EDGE (TILED_LS * TILED_ITEM)

__kernel __attribute__((reqd_work_group_size(TILED_LS, TILED_LS, 1)))
void gemm_tiled(const int M, const int N, const int K, const int ta, const int tb, const float alpha,
                __global const float *A, const uint a_off, __global const float *B, const uint b_off,
                const float beta, __global float *C, const uint c_off) {
    __local float As[TILED_K][TILED_EDGE]; /* op(A)[m0 + m][k0 + k] at As[k][m] */
    __local float Bs[TILED_K][TILED_EDGE]; /* op(B)[k0 + k][n0 + n] at Bs[k][n] */
    const int tx = get_local_id(0), ty = get_local_id(1), id = ty * TILED_LS + tx;
    const int n0 = get_group_id(0) * TILED_EDGE, m0 = get_group_id(1) * TILED_EDGE;
    A += a_off;
    B += b_off;
    float acc[TILED_ITEM][TILED_ITEM];
    for (int i = 0; i < TILED_ITEM; i++)
        for (int j = 0; j < TILED_ITEM; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TILED_K) {
        /* the items walk the slice along its contiguous direction in memory */
        for (int e = id; e < TILED_EDGE * TILED_K; e += TILED_LS * TILED_LS) {
            const int m = ta ? e % TILED_EDGE : e / TILED_K, k = ta ? e / TILED_EDGE : e % TILED_K;
            const int gm = m0 + m, gk = k0 + k;
            As[k][m] = gm < M && gk < K ? (ta ? A[gk * M + gm] : A[gm * K + gk]) : 0.0f;
            const int n = tb ? e / TILED_K : e % TILED_EDGE, kb = tb ? e % TILED_K : e / TILED_EDGE;
            const int gn = n0 + n, gkb = k0 + kb;
            Bs[kb][n] = gn < N && gkb < K ? (tb ? B[gn * K + gkb] : B[gkb * N + gn]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TILED_K; k++) {
            float a[TILED_ITEM], b[TILED_ITEM];
            for (int i = 0; i < TILED_ITEM; i++) a[i] = As[k][ty + i * TILED_LS];
            for (int j = 0; j < TILED_ITEM; j++) b[j] = Bs[k][tx + j * TILED_LS];
            for (int i = 0; i < TILED_ITEM; i++)
                for (int j = 0; j < TILED_ITEM; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < TILED_ITEM; i++) {
        const int row = m0 + ty + i * TILED_LS;
        for (int j = 0; j < TILED_ITEM; j++) {
            const int col = n0 + tx + j * TILED_LS;
            if (row >= M || col >= N) continue;
            __global float *c = C + c_off + row * N + col;
            *c = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
        }
    }
}

/* ---- register-blocked GEMMs: one work item per tile of C, no local memory ----
 * The fast path on CPUs (PoCL) and the other candidates of `gan-cl tune`, which picks per GEMM
 * shape among these, the tiled kernel above and CLBlast. Each work item keeps a tile of C in
 * registers for the whole k loop, so the loops over the tile must be unrolled (the pragmas and
 * always_inline make the tile sizes compile-time constants). Rows past M are computed on row
 * M - 1 and not stored; columns past the last whole tile take narrower paths.
 *
 * gemm_xn_<rows>x<cols>: op(B) = B is K x N row-major (tb = 0), A is M x K or, with ta, K x M.
 * A tile is TM rows by NV float16 vectors; per k: NV vector loads of B, TM broadcasts of A. */
#define ALWAYS_INLINE __attribute__((always_inline)) static inline
#define XN_MAX_ROWS 8
#define XN_MAX_VECS 4

ALWAYS_INLINE void xn_tile(const int TM, const int NV, const int M, const int N, const int K,
                           const int ta, const float alpha, __global const float *A,
                           __global const float *B, const float beta, __global float *C,
                           const int i0, const int j0) {
    float16 acc[XN_MAX_ROWS][XN_MAX_VECS]; /* [TM][NV]: C[i0 + r, j0 + 16 v .. + 15] */
    size_t a_row[XN_MAX_ROWS];             /* where row r of op(A) starts */
#pragma unroll
    for (int r = 0; r < TM; r++) {
        const size_t i = (size_t)min(i0 + r, M - 1);
        a_row[r] = ta ? i : i * K;
#pragma unroll
        for (int v = 0; v < NV; v++) acc[r][v] = 0.0f;
    }
    const size_t a_step = ta ? (size_t)M : 1; /* from op(A)[i, k] to op(A)[i, k + 1] */
    __global const float *b = B + j0;
    for (int k = 0; k < K; k++, b += N) {
        float16 bv[XN_MAX_VECS];
#pragma unroll
        for (int v = 0; v < NV; v++) bv[v] = vload16(v, b);
#pragma unroll
        for (int r = 0; r < TM; r++) {
            const float16 a = (float16)A[a_row[r] + k * a_step];
#pragma unroll
            for (int v = 0; v < NV; v++) acc[r][v] = fma(a, bv[v], acc[r][v]);
        }
    }
#pragma unroll
    for (int r = 0; r < TM; r++) {
        if (i0 + r >= M) break;
        __global float *c = C + (size_t)(i0 + r) * N + j0;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            float16 out = alpha * acc[r][v];
            if (beta != 0.0f) out += beta * vload16(v, c);
            vstore16(out, v, c);
        }
    }
}

ALWAYS_INLINE void xn_gemm(const int TM, const int NV, const int M, const int N, const int K,
                           const int ta, const float alpha, __global const float *A,
                           __global const float *B, const float beta, __global float *C) {
    const int i0 = get_global_id(1) * TM;
    int j = get_global_id(0) * 16 * NV;
    if (j + 16 * NV <= N) {
        xn_tile(TM, NV, M, N, K, ta, alpha, A, B, beta, C, i0, j);
        return;
    }
    for (; j + 16 <= N; j += 16) xn_tile(TM, 1, M, N, K, ta, alpha, A, B, beta, C, i0, j);
    for (int i = i0; i < i0 + TM && i < M; i++) /* the last N % 16 columns, one at a time */
        for (int jj = j; jj < N; jj++) {
            float s = 0.0f;
            for (int k = 0; k < K; k++)
                s = fma(ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k], B[(size_t)k * N + jj], s);
            __global float *c = C + (size_t)i * N + jj;
            *c = beta != 0.0f ? alpha * s + beta * *c : alpha * s;
        }
}

#define GEMM_XN(TM, NV, COLS)                                                                    \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_xn_##TM##x##COLS(         \
        const int M, const int N, const int K, const int ta, const float alpha,                 \
        __global const float *A, const uint a_off, __global const float *B, const uint b_off,   \
        const float beta, __global float *C, const uint c_off) {                                \
        xn_gemm(TM, NV, M, N, K, ta, alpha, A + a_off, B + b_off, beta, C + c_off);             \
    }
GEMM_XN(8, 2, 32) /* 16 accumulators: AVX-512 has 32 vector registers */
GEMM_XN(4, 4, 64)
GEMM_XN(6, 2, 32)
GEMM_XN(4, 2, 32)
GEMM_XN(6, 1, 16) /* 12 of AVX2's 16 vector registers (it splits each float16 in two) */
GEMM_XN(4, 1, 16) /* few registers */

/* gemm_nt_<rows>x<cols>: C = alpha A B^T + beta C with A M x K and B N x K (ta = 0, tb = 1),
 * the layout of a linear layer's forward pass. Both operands are read along k, so each of the
 * TM x TN outputs is a dot product kept as a float8 of partial sums, added up at the end. */
#define NT_MAX 4

ALWAYS_INLINE void nt_gemm(const int TM, const int TN, const int M, const int N, const int K,
                           const float alpha, __global const float *A, __global const float *B,
                           const float beta, __global float *C) {
    const int i0 = get_global_id(1) * TM, j0 = get_global_id(0) * TN;
    __global const float *a[NT_MAX], *b[NT_MAX]; /* rows i0 + r of A, j0 + c of B */
#pragma unroll
    for (int r = 0; r < TM; r++) a[r] = A + (size_t)min(i0 + r, M - 1) * K;
#pragma unroll
    for (int c = 0; c < TN; c++) b[c] = B + (size_t)min(j0 + c, N - 1) * K;
    float8 acc[NT_MAX][NT_MAX]; /* [TM][TN] */
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int c = 0; c < TN; c++) acc[r][c] = 0.0f;
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        float8 av[NT_MAX], bv[NT_MAX];
#pragma unroll
        for (int r = 0; r < TM; r++) av[r] = vload8(0, a[r] + k);
#pragma unroll
        for (int c = 0; c < TN; c++) bv[c] = vload8(0, b[c] + k);
#pragma unroll
        for (int r = 0; r < TM; r++)
#pragma unroll
            for (int c = 0; c < TN; c++) acc[r][c] = fma(av[r], bv[c], acc[r][c]);
    }
    float s[NT_MAX][NT_MAX];
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int c = 0; c < TN; c++) {
            const float4 h = acc[r][c].lo + acc[r][c].hi;
            s[r][c] = (h.x + h.y) + (h.z + h.w);
        }
    for (; k < K; k++) /* the last K % 8 terms */
#pragma unroll
        for (int r = 0; r < TM; r++)
#pragma unroll
            for (int c = 0; c < TN; c++) s[r][c] = fma(a[r][k], b[c][k], s[r][c]);
#pragma unroll
    for (int r = 0; r < TM; r++)
#pragma unroll
        for (int c = 0; c < TN; c++) {
            if (i0 + r >= M || j0 + c >= N) continue;
            __global float *o = C + (size_t)(i0 + r) * N + j0 + c;
            *o = beta != 0.0f ? alpha * s[r][c] + beta * *o : alpha * s[r][c];
        }
}

#define GEMM_NT(TM, TN)                                                                          \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_nt_##TM##x##TN(           \
        const int M, const int N, const int K, const float alpha, __global const float *A,      \
        const uint a_off, __global const float *B, const uint b_off, const float beta,          \
        __global float *C, const uint c_off) {                                                  \
        nt_gemm(TM, TN, M, N, K, alpha, A + a_off, B + b_off, beta, C + c_off);                 \
    }
GEMM_NT(4, 4)
GEMM_NT(3, 4)
GEMM_NT(2, 4)
GEMM_NT(4, 2)
GEMM_NT(2, 2)

/* gemm_blk_64x32: any transposes, for long k (a convolution's weight gradient, where
 * k = batch x positions, or a layer with thousands of inputs): the kernels above read their
 * rows of A and B once per small tile, so with long k they wait on memory. Here a work item
 * owns 64 rows x 32 columns of C and walks k in chunks: it copies its 32 columns of the chunk
 * of op(B) into private memory (k-major, as gemm_xn reads B), then runs 8-row groups over it
 * with the accumulators of each group in registers, so each chunk of B is read from memory
 * once for 64 rows of A. */
#define BLK_ROWS 64
#define BLK_COLS 32 /* two float16 */
#define BLK_KC 64   /* k per chunk */

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_blk_64x32(
    const int M, const int N, const int K, const int ta, const int tb, const float alpha,
    __global const float *A, const uint a_off, __global const float *B, const uint b_off,
    const float beta, __global float *C, const uint c_off) {
    const int i0 = get_global_id(1) * BLK_ROWS, j0 = get_global_id(0) * BLK_COLS;
    A += a_off;
    B += b_off;
    C += c_off;
    float16 acc[BLK_ROWS / 8][8][2]; /* C[i0 + 8 g + r, j0 .. j0 + 31] */
    float bk[BLK_KC * BLK_COLS];     /* the chunk: bk[k * 32 + c] = op(B)[k0 + k, j0 + c] */
    const size_t a_step = ta ? (size_t)M : 1; /* from op(A)[i, k] to op(A)[i, k + 1] */
    for (int g = 0; g < BLK_ROWS / 8; g++)
#pragma unroll
        for (int r = 0; r < 8; r++) acc[g][r][0] = acc[g][r][1] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += BLK_KC) {
        const int kn = min(BLK_KC, K - k0);
        if (tb) /* rows of B: a transposing copy; columns past N repeat column N - 1 */
            for (int c = 0; c < BLK_COLS; c++) {
                __global const float *src = B + (size_t)min(j0 + c, N - 1) * K + k0;
                for (int k = 0; k < kn; k++) bk[k * BLK_COLS + c] = src[k];
            }
        else
            for (int k = 0; k < kn; k++) {
                __global const float *src = B + (size_t)(k0 + k) * N;
                for (int c = 0; c < BLK_COLS; c++) bk[k * BLK_COLS + c] = src[min(j0 + c, N - 1)];
            }
        for (int g = 0; g < BLK_ROWS / 8; g++) {
            float16 lo[8], hi[8]; /* columns 0-15 and 16-31 of the group's rows */
            __global const float *arow[8];
#pragma unroll
            for (int r = 0; r < 8; r++) {
                const size_t i = (size_t)min(i0 + 8 * g + r, M - 1);
                arow[r] = A + (ta ? i : i * K) + k0 * a_step;
                lo[r] = acc[g][r][0];
                hi[r] = acc[g][r][1];
            }
            for (int k = 0; k < kn; k++) {
                const float16 b0 = vload16(0, bk + k * BLK_COLS), b1 = vload16(1, bk + k * BLK_COLS);
#pragma unroll
                for (int r = 0; r < 8; r++) {
                    const float16 a = (float16)arow[r][k * a_step];
                    lo[r] = fma(a, b0, lo[r]);
                    hi[r] = fma(a, b1, hi[r]);
                }
            }
#pragma unroll
            for (int r = 0; r < 8; r++) {
                acc[g][r][0] = lo[r];
                acc[g][r][1] = hi[r];
            }
        }
    }
    for (int g = 0; g < BLK_ROWS / 8; g++)
        for (int r = 0; r < 8 && i0 + 8 * g + r < M; r++) {
            float v[BLK_COLS];
            vstore16(acc[g][r][0], 0, v);
            vstore16(acc[g][r][1], 1, v);
            __global float *o = C + (size_t)(i0 + 8 * g + r) * N + j0;
            for (int c = 0; c < BLK_COLS && j0 + c < N; c++)
                o[c] = beta != 0.0f ? alpha * v[c] + beta * o[c] : alpha * v[c];
        }
}

/* ---- pk-, pb-, pt-8x32 and -6x16: operands in panels, for large products on CPUs ----
 * The kernels above read op(B) along k at a stride of a whole row of B: for the DCGAN's
 * products (B up to 3200 x 12544) every k step lands on another page, and the TLB and the
 * prefetchers lose. Here op(B) is first copied into panels of 16 V columns, k-major
 * (Bp[q][k][c] = op(B)[k, 16 V q + c], zero past N: gemm_pack or im2col_pack), so that the
 * micro-kernel reads it as one contiguous stream. op(A) is read through three strides: row
 * R p + r of it starts at p a_ps + r a_rs and step k adds a_ks. That covers op(A) packed the
 * same way in panels of R rows (pk: Ap[p][k][r], a_ps = R K, a_rs = 1, a_ks = R) and op(A)
 * read where it lies (pb, pt: A or A^T row-major), whose R rows are R short streams. An
 * R x 16 V block of C lives in R V float16 registers while PK_KC steps of k pass; work item
 * (g, q) takes a group of row panels (8 at most) against column panel q, one block of k after
 * another, so that the block of the B panel stays in the core's cache across the row panels
 * (for the DCGAN's weight gradients, k up to 25088, that was a third faster than one panel's
 * whole k loop at a time) and the partial sums wait in C between blocks. With ct the product
 * is stored transposed (C[j M + i]): pt computes C^T = op(B)^T op(A)^T that way, so that a
 * layer's weights are read in place and only the batch's activations are packed. Two shapes:
 * 8 x 32 keeps 16 float16 accumulators, for the 32 vector registers of AVX-512; 6 x 16 keeps
 * 6, 12 of the 16 of AVX2 (BLIS's Haswell micro-kernel is 6 x 16 for the same reason). */
#define PK_KC 256

/* dst[p][k][w] = X's value at (row W p + w, k), zero for rows >= R; where X is R x K
 * row-major (rk = 1) or K x R (rk = 0). Work item (kb, p) copies PACK_K steps of k of panel p,
 * reading X along its contiguous direction (a loop the compiler vectorises; one item per
 * group, so that PoCL does not vectorise across items into scattered stores). */
#define PACK_K 64

/* t[i][j] <- t[j][i] for an 8 x 8 block (8 float8 registers, as many as a GPU keeps without
 * spilling): for each bit b of the index, rows r and r + b (r without bit b) swap their entries
 * whose column has bit b (t[r][c | b] with t[r + b][c]); after the three bits each entry has moved
 * from (i, j) to (j, i). */
ALWAYS_INLINE void pack_transpose8(float8 *t) {
    const uint8 lo4 = (uint8)(0, 1, 2, 3, 8, 9, 10, 11), hi4 = (uint8)(4, 5, 6, 7, 12, 13, 14, 15),
                lo2 = (uint8)(0, 1, 8, 9, 4, 5, 12, 13), hi2 = (uint8)(2, 3, 10, 11, 6, 7, 14, 15),
                lo1 = (uint8)(0, 8, 2, 10, 4, 12, 6, 14), hi1 = (uint8)(1, 9, 3, 11, 5, 13, 7, 15);
#define PACK_SWAP(b, lo, hi)                                                  \
    _Pragma("unroll") for (int r = 0; r < 8; r++) if (!(r & b)) {             \
        const float8 x = t[r], y = t[r + b];                                  \
        t[r] = shuffle2(x, y, lo);                                            \
        t[r + b] = shuffle2(x, y, hi);                                        \
    }
    PACK_SWAP(4, lo4, hi4)
    PACK_SWAP(2, lo2, hi2)
    PACK_SWAP(1, lo1, hi1)
#undef PACK_SWAP
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_pack(
    __global float *restrict dst, const uint dst_off, __global const float *restrict X, const uint x_off,
    const int R, const int K, const int rk, const int W) {
    const int k0 = get_global_id(0) * PACK_K, p = get_global_id(1);
    const int kn = min(PACK_K, K - k0), r0 = p * W, rn = min(W, R - r0);
    if (kn <= 0 || rn <= 0) return;
    __global float *d = dst + dst_off + ((size_t)p * K + k0) * W;
    X += x_off;
    if (rk && rn == W && W % 8 == 0 && kn == PACK_K) {
        /* a transpose of whole 8 x 8 blocks: 8 rows loaded as vectors, transposed in registers
         * (pack_transpose8), stored as 8 steps of k */
        for (int w0 = 0; w0 < W; w0 += 8)
            for (int kb = 0; kb < PACK_K; kb += 8) {
                float8 t[8];
                __global const float *src = X + (size_t)(r0 + w0) * K + k0 + kb;
                _Pragma("unroll") for (int i = 0; i < 8; i++) t[i] = vload8(0, src + (size_t)i * K);
                pack_transpose8(t);
                _Pragma("unroll") for (int i = 0; i < 8; i++) vstore8(t[i], 0, d + (kb + i) * W + w0);
            }
    } else if (rk) { /* a transpose: each step of k gathers one entry from each of the W rows */
        __global const float *src = X + (size_t)r0 * K + k0;
        for (int k = 0; k < kn; k++)
            for (int w = 0; w < W; w++) d[k * W + w] = w < rn ? src[(size_t)w * K + k] : 0.0f;
    } else if (rn == W && W % 16 == 0) { /* whole panels of 16 or 32 columns: vector copies */
        for (int k = 0; k < kn; k++) {
            __global const float *src = X + (size_t)(k0 + k) * R + r0;
            for (int v = 0; v < W / 16; v++) vstore16(vload16(v, src), v, d + k * W);
        }
    } else {
        for (int k = 0; k < kn; k++) {
            __global const float *src = X + (size_t)(k0 + k) * R + r0;
            for (int w = 0; w < rn; w++) d[k * W + w] = src[w];
            for (int w = rn; w < W; w++) d[k * W + w] = 0.0f;
        }
    }
}

/* acc[r V + v] += the product of kn steps of R rows of op(A) and a 16 V-column B panel (the
 * micro-kernel); row r's entry at step k is a[off[r] + k a_ks]. */
#define PK_STEPS(NAME, R, V)                                                                             \
    void NAME(float16 *acc, __global const float *a, const int *off, const int a_ks,                     \
              __global const float *b, const int kn) {                                                   \
        for (int k = 0; k < kn; k++, a += a_ks, b += 16 * V) {                                          \
            float16 bv[V];                                                                              \
            _Pragma("unroll") for (int v = 0; v < V; v++) bv[v] = vload16(v, b);                          \
            _Pragma("unroll") for (int r = 0; r < R; r++) {                                             \
                const float16 av = (float16)a[off[r]];                                                  \
                _Pragma("unroll") for (int v = 0; v < V; v++) acc[r * V + v] = fma(av, bv[v], acc[r * V + v]); \
            }                                                                                           \
        }                                                                                               \
    }

/* C = alpha op(A) op(B from the panels) + beta C (or its transpose, ct) for R x 16 V blocks,
 * C's rows (columns, ct) ldc apart, so that C may be a block of columns of a wider matrix;
 * STEPS is PK_STEPS' function */
#define PK_KERNEL(NAME, STEPS, R, V)                                                                     \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                                   \
        const int M, const int N, const int K, __global const float *A, const uint a_off, const int a_ps, \
        const int a_rs, const int a_ks, __global const float *Bp, const uint b_off, const float alpha,   \
        const float beta, __global float *C, const uint c_off, const int ldc, const int ct) {            \
        /* the host picks how many work items share the row panels (gemm.c's PK_GROUP per item) */   \
        const int g = get_global_id(0), q = get_global_id(1), panels = (M + R - 1) / R;             \
        const int per = (panels + (int)get_global_size(0) - 1) / (int)get_global_size(0);            \
        const int p0 = g * per, np = min(per, panels - p0), j0 = q * 16 * V;                         \
        if (np <= 0 || j0 >= N) return;                                                              \
        /* the group's full blocks of C go block of k by block of k; the others (the edges of C, \
         * and every block when K == 0) below, in one pass */                                       \
        const int full = K > 0 && j0 + 16 * V <= N ? min(np, M / R - p0) : 0;                        \
        __global const float *b = Bp + b_off + (size_t)q * K * 16 * V;                               \
        A += a_off;                                                                                  \
        C += c_off;                                                                                  \
        int off[R];                                                                                  \
        _Pragma("unroll") for (int r = 0; r < R; r++) off[r] = r * a_rs;                              \
        for (int k0 = 0; k0 < K && full > 0; k0 += PK_KC) {                                          \
            const int kn = min(PK_KC, K - k0);                                                       \
            const float keep = k0 ? 1.0f : beta; /* the first block starts from beta C */            \
            for (int p = p0; p < p0 + full; p++) {                                                   \
                float16 acc[R * V];                                                                  \
                _Pragma("unroll") for (int i = 0; i < R * V; i++) acc[i] = 0.0f;                      \
                STEPS(acc, A + (size_t)p * a_ps + (size_t)k0 * a_ks, off, a_ks, b + (size_t)k0 * 16 * V, kn); \
                if (!ct) {                                                                           \
                    __global float *t = C + (size_t)p * R * ldc + j0;                                \
                    _Pragma("unroll") for (int i = 0; i < R * V; i++) {                               \
                        float16 o = alpha * acc[i];                                                  \
                        if (keep != 0.0f) o = fma((float16)keep, vload16(i % V, t + i / V * ldc), o);  \
                        vstore16(o, i % V, t + i / V * ldc);                                         \
                    }                                                                                \
                } else {                                                                             \
                    __global float *t = C + (size_t)j0 * ldc + p * R;                                \
                    _Pragma("unroll") for (int r = 0; r < R; r++) {                                   \
                        float v[16 * V];                                                             \
                        _Pragma("unroll") for (int i = 0; i < V; i++) vstore16(alpha * acc[r * V + i], i, v); \
                        for (int c = 0; c < 16 * V; c++) {                                           \
                            __global float *o = t + (size_t)c * ldc + r;                             \
                            *o = keep != 0.0f ? fma(keep, *o, v[c]) : v[c];                          \
                        }                                                                            \
                    }                                                                                \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
        for (int p = p0 + full; p < p0 + np; p++) {                                                  \
            int edge[R]; /* rows past M repeat row M - 1, and are not stored */                      \
            _Pragma("unroll") for (int r = 0; r < R; r++) edge[r] = (min(p * R + r, M - 1) - p * R) * a_rs; \
            float16 acc[R * V];                                                                      \
            _Pragma("unroll") for (int i = 0; i < R * V; i++) acc[i] = 0.0f;                          \
            STEPS(acc, A + (size_t)p * a_ps, edge, a_ks, b, K);                                      \
            for (int r = 0; r < R && p * R + r < M; r++) {                                           \
                float v[16 * V];                                                                     \
                for (int i = 0; i < V; i++) vstore16(alpha * acc[r * V + i], i, v);                  \
                for (int c = 0; c < 16 * V && j0 + c < N; c++) {                                     \
                    const int i = p * R + r, j = j0 + c;                                             \
                    __global float *o = C + (ct ? (size_t)j * ldc + i : (size_t)i * ldc + j);        \
                    *o = beta != 0.0f ? fma(beta, *o, v[c]) : v[c];                                  \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }

PK_STEPS(pk_steps_8x32, 8, 2)
PK_KERNEL(gemm_pk_8x32, pk_steps_8x32, 8, 2)
PK_STEPS(pk_steps_6x16, 6, 1)
PK_KERNEL(gemm_pk_6x16, pk_steps_6x16, 6, 1)
