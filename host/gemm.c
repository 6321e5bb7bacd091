/* gemm.c: running a GEMM by a chosen method (CLBlast or one of cl/matmul.cl's kernels), the
 * per-shape plan lookup, and the C reference. */
#include "gancl/gemm.h"
#include "gancl/profile.h"

#include <clblast_c.h>
#include <string.h>

/* gan-cl's own kernels. ALL_TRANSPOSES: matmul, tiled and blk take ta and tb; xn: any ta,
 * tb = 0; nt: ta = 0, tb = 1; the panel kernels (cl/matmul.cl's gemm_pk_*) take any transposes,
 * with operands copied into panels (gemm_pack) in the scratch buffer first: PACKED (pk-) both,
 * PACKED_B (pb-) op(B) only, reading op(A) where it lies, PACKED_T (pt-) computes
 * C^T = op(B)^T op(A)^T, packing op(A) and reading op(B) where it lies, for products where B
 * is a layer's weights and A a batch. rows x cols: the block of C one work item computes; 0 for the
 * tiled matmul, one item per element in rt->matmul_tile square work-groups; -1 for tiled-4x4,
 * 4 x 4 elements per item in the same work-groups (cl/matmul.cl's TILED_ITEM). cpu_only: blocked for
 * a CPU's registers and caches, these spill on GPUs (tools/check-kernels-offline, which reads
 * this table: Intel Gen9/Xe-LP/Arc and AMD RDNA2), so tuning never tries them on one.
 * gpu_shaped: work groups staging tiles in local memory, 10-50x slower than the blocked
 * kernels on CPUs: the quick tune leaves them out there. */
typedef enum { ALL_TRANSPOSES, XN, NT, PACKED, PACKED_B, PACKED_T } kernel_kind;
typedef struct {
    const char *name, *kernel;
    kernel_kind kind;
    int rows, cols, cpu_only, gpu_shaped;
} method_desc;

static const method_desc METHODS[] = {
    {"clblast", NULL, ALL_TRANSPOSES, 0, 0, 0, 0},
    {"matmul", "matmul", ALL_TRANSPOSES, 0, 0, 0, 1},
    {"tiled-4x4", "gemm_tiled", ALL_TRANSPOSES, -1, -1, 0, 1},
    {"xn-8x32", "gemm_xn_8x32", XN, 8, 32, 1, 0},
    {"xn-4x64", "gemm_xn_4x64", XN, 4, 64, 1, 0},
    {"xn-6x32", "gemm_xn_6x32", XN, 6, 32, 1, 0},
    {"xn-4x32", "gemm_xn_4x32", XN, 4, 32, 1, 0},
    {"xn-6x16", "gemm_xn_6x16", XN, 6, 16, 1, 0},
    {"xn-4x16", "gemm_xn_4x16", XN, 4, 16, 0, 0},
    {"nt-4x4", "gemm_nt_4x4", NT, 4, 4, 1, 0},
    {"nt-3x4", "gemm_nt_3x4", NT, 3, 4, 1, 0},
    {"nt-2x4", "gemm_nt_2x4", NT, 2, 4, 1, 0},
    {"nt-4x2", "gemm_nt_4x2", NT, 4, 2, 1, 0},
    {"nt-2x2", "gemm_nt_2x2", NT, 2, 2, 0, 0},
    {"blk-64x32", "gemm_blk_64x32", ALL_TRANSPOSES, 64, 32, 1, 0},
    {"pk-8x32", "gemm_pk_8x32", PACKED, 8, 32, 1, 0},
    {"pk-6x16", "gemm_pk_6x16", PACKED, 6, 16, 1, 0},
    {"pb-8x32", "gemm_pk_8x32", PACKED_B, 8, 32, 1, 0},
    {"pb-6x16", "gemm_pk_6x16", PACKED_B, 6, 16, 1, 0},
    {"pt-8x32", "gemm_pk_8x32", PACKED_T, 8, 32, 1, 0},
    {"pt-6x16", "gemm_pk_6x16", PACKED_T, 6, 16, 1, 0},
};
#define N_METHODS (int)(sizeof METHODS / sizeof *METHODS)
_Static_assert(sizeof METHODS / sizeof *METHODS <= GANCL_GEMM_MAX_METHODS, "raise GANCL_GEMM_MAX_METHODS");
#define PK_GROUP 8 /* row panels per work item of the pk kernels (at most: they split them evenly) */

int gancl_gemm_method_count(void) { return N_METHODS; }

const char *gancl_gemm_method_name(gancl_gemm_method m) {
    return m == GANCL_GEMM_AUTO ? "auto" : m >= 0 && m < N_METHODS ? METHODS[m].name : "?";
}

gancl_gemm_method gancl_gemm_method_find(const char *name) {
    if (!strcmp(name, "auto")) return GANCL_GEMM_AUTO;
    for (int m = 0; m < N_METHODS; m++)
        if (!strcmp(METHODS[m].name, name)) return m;
    return -2;
}

int gancl_gemm_method_supports(gancl_gemm_method m, int ta, int tb) {
    if (m < 0 || m >= N_METHODS) return 0;
    const kernel_kind k = METHODS[m].kind;
    return k == ALL_TRANSPOSES || k >= PACKED || (k == XN && !tb) || (k == NT && !ta && tb);
}

int gancl_gemm_method_cpu_only(gancl_gemm_method m) { return m >= 0 && m < N_METHODS && METHODS[m].cpu_only; }

int gancl_gemm_method_gpu_shaped(gancl_gemm_method m) { return m >= 0 && m < N_METHODS && METHODS[m].gpu_shaped; }

int gancl_gemm_method_suits(gancl_gemm_method m, const gancl_device_info *dev) {
    return !gancl_gemm_method_cpu_only(m) || (dev->type & CL_DEVICE_TYPE_CPU);
}

int gancl_gemm_plan_find(const gancl_gemm_plan *p, int ta, int tb, size_t M, size_t N, size_t K) {
    for (int i = 0; i < p->n; i++) {
        const gancl_gemm_shape *s = &p->shapes[i];
        if (s->ta == ta && s->tb == tb && s->M == M && s->N == N && s->K == K) return i;
    }
    return -1;
}

static void shape_log_add(gancl_shape_log *log, int ta, int tb, size_t M, size_t N, size_t K) {
    for (int i = 0; i < log->n; i++) {
        gancl_gemm_shape *s = &log->shapes[i];
        if (s->ta == ta && s->tb == tb && s->M == M && s->N == N && s->K == K) {
            s->count++;
            return;
        }
    }
    if (log->n == GANCL_MAX_SHAPES) return;
    log->shapes[log->n++] = (gancl_gemm_shape){ta, tb, M, N, K, 1};
}

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* The profile's name of a GEMM in s: "gemm", the transposes, the shape and the method; NULL (and
 * nothing written) when not profiling. */
typedef char gemm_label_t[48];
static const char *gemm_label(const gancl_runtime *rt, gemm_label_t s, gancl_gemm_method m, int ta, int tb,
                              size_t M, size_t N, size_t K) {
    if (!rt->prof) return NULL;
    snprintf(s, sizeof(gemm_label_t), "gemm %c%c %zux%zux%zu %s", ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K,
             gancl_gemm_method_name(m));
    return s;
}

static void kernel_launch(const gancl_runtime *rt, const method_desc *d, const char *label, int ta, int tb,
                          size_t M, size_t N, size_t K, float alpha, cl_mem A, size_t a_off, cl_mem B,
                          size_t b_off, float beta, cl_mem C, size_t c_off) {
    cl_kernel k = gancl_kernel(rt, d->kernel);
    int i = 0;
    gancl_karg args[13];
    args[i++] = GANCL_V(cl_int, M);
    args[i++] = GANCL_V(cl_int, N);
    args[i++] = GANCL_V(cl_int, K);
    if (d->kind == XN || d->kind == ALL_TRANSPOSES) args[i++] = GANCL_A(ta);
    if (d->kind == ALL_TRANSPOSES) args[i++] = GANCL_A(tb);
    args[i++] = GANCL_A(alpha);
    args[i++] = GANCL_A(A);
    args[i++] = GANCL_V(cl_uint, a_off);
    args[i++] = GANCL_A(B);
    args[i++] = GANCL_V(cl_uint, b_off);
    args[i++] = GANCL_A(beta);
    args[i++] = GANCL_A(C);
    args[i++] = GANCL_V(cl_uint, c_off);
    gancl_set_args(k, args, i);
    size_t global[2], local[2] = {1, 1};
    if (d->rows < 0) { /* tiled-4x4: a work group per 4 matmul_tile square of C */
        const size_t edge = 4 * (size_t)rt->matmul_tile;
        local[0] = local[1] = (size_t)rt->matmul_tile;
        global[0] = (N + edge - 1) / edge * local[0];
        global[1] = (M + edge - 1) / edge * local[1];
    } else if (d->rows) { /* one work item per rows x cols block of C */
        global[0] = (N + d->cols - 1) / d->cols;
        global[1] = (M + d->rows - 1) / d->rows;
    } else { /* matmul: one work item per element of C */
        local[0] = local[1] = (size_t)rt->matmul_tile;
        global[0] = round_up(N, local[0]);
        global[1] = round_up(M, local[1]);
    }
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 2, NULL, global, local, 0, NULL,
                                    gancl_prof_event(rt, label, 2.0 * M * N * K)));
}

/* the panel kernels (cl/matmul.cl's gemm_pk_*): C = alpha op(A) op(B) + beta C (its transpose
 * with ct; C's rows, or columns, ldc apart) from op(B)'s panels Bp at b_off, where row R p + r of
 * op(A) starts at A[a_off + p a_ps + r a_rs] and step k adds a_ks; one work item per PK_GROUP
 * row panels and a column panel. */
static void pk_launch(const gancl_runtime *rt, const method_desc *d, const char *label, size_t M, size_t N,
                      size_t K, float alpha,
                      cl_mem A, size_t a_off, size_t a_ps, size_t a_rs, size_t a_ks, cl_mem Bp, size_t b_off,
                      float beta, cl_mem C, size_t c_off, size_t ldc, int ct) {
    cl_kernel k = gancl_kernel(rt, d->kernel);
    gancl_set_args(k, (const gancl_karg[]){GANCL_V(cl_int, M), GANCL_V(cl_int, N), GANCL_V(cl_int, K), GANCL_A(A),
                                           GANCL_V(cl_uint, a_off), GANCL_V(cl_int, a_ps), GANCL_V(cl_int, a_rs),
                                           GANCL_V(cl_int, a_ks), GANCL_A(Bp), GANCL_V(cl_uint, b_off),
                                           GANCL_A(alpha), GANCL_A(beta), GANCL_A(C), GANCL_V(cl_uint, c_off),
                                           GANCL_V(cl_int, ldc), GANCL_A(ct)}, 16);
    const size_t global[2] = {((M + d->rows - 1) / d->rows + PK_GROUP - 1) / PK_GROUP, (N + d->cols - 1) / d->cols};
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 2, NULL, global, (const size_t[]){1, 1}, 0, NULL,
                                    gancl_prof_event(rt, label, 2.0 * M * N * K)));
}

/* The runtime's scratch buffer (CLBlast's temporary buffer, or the panels), grown to at least
 * `need` bytes. A buffer released here stays alive until the GEMMs queued on it finish. */
static cl_mem scratch(const gancl_runtime *rt, size_t need) {
    struct gancl_scratch *s = rt->gemm_scratch;
    if (!s->mem || need > s->bytes) {
        if (s->mem) clReleaseMemObject(s->mem);
        s->bytes = need > s->bytes * 2 ? need : s->bytes * 2;
        s->mem = gancl_buffer(rt, s->bytes ? s->bytes : 4);
    }
    return s->mem;
}

/* copy op(X)'s R rows (of op(A)) or columns (of op(B)) along k into panels of W at dst[dst_off..];
 * cl/matmul.cl's gemm_pack, one work item per PACK_K (64) steps of k of a panel. */
static void pack(const gancl_runtime *rt, cl_mem dst, size_t dst_off, cl_mem X, size_t x_off,
                 size_t R, size_t K, int rk, int W) {
    cl_kernel k = gancl_kernel(rt, "gemm_pack");
    gancl_set_args(k, (const gancl_karg[]){GANCL_A(dst), GANCL_V(cl_uint, dst_off), GANCL_A(X),
                                           GANCL_V(cl_uint, x_off), GANCL_V(cl_int, R), GANCL_V(cl_int, K),
                                           GANCL_A(rk), GANCL_A(W)}, 8);
    gancl_launch_items(rt, k, (K + 63) / 64, (R + W - 1) / W);
}

int gancl_gemm_method_packs(gancl_gemm_method m) {
    return m >= 0 && m < N_METHODS && (METHODS[m].kind == PACKED || METHODS[m].kind == PACKED_B);
}

gancl_gemm_method gancl_gemm_method_with_panels(gancl_gemm_method m) {
    if (m < 0 || m >= N_METHODS || METHODS[m].kind != PACKED_T) return m;
    for (int i = 0; i < N_METHODS; i++)
        if (METHODS[i].kind == PACKED_B && !strcmp(METHODS[i].kernel, METHODS[m].kernel)) return i;
    return m;
}

/* The panels in the scratch buffer: pk's op(A) ones at 0 (Ap[M/8][K][8]), then op(B)'s
 * (Bp[N/32][K][32]); pb's op(B) ones at 0; pt's op(A) ones at 0, as columns of op(A)^T. */
static size_t a_panels(const method_desc *d, size_t M, size_t K) { return d->kind == PACKED ? round_up(M, d->rows) * K : 0; }
/* the scratch bytes all of a panel method's panels take, op(B)'s being bn columns by bk steps */
static size_t panel_bytes(const method_desc *d, size_t M, size_t K, size_t bn, size_t bk) {
    return (a_panels(d, M, K) + round_up(d->kind == PACKED_T ? M : bn, d->cols) * bk) * sizeof(float);
}

cl_mem gancl_gemm_panels_begin(const gancl_runtime *rt, gancl_gemm_method m, int ta, size_t M, size_t K, cl_mem A,
                               size_t a_off, size_t bn, size_t bk, size_t *b_off, int *width) {
    const method_desc *d = &METHODS[m];
    *b_off = a_panels(d, M, K);
    *width = d->cols;
    cl_mem s = scratch(rt, panel_bytes(d, M, K, bn, bk));
    if (d->kind == PACKED) pack(rt, s, 0, A, a_off, M, K, !ta, d->rows); // Ap[M/8][K][8] = op(A)
    return s;
}

void gancl_gemm_reserve(const gancl_runtime *rt, gancl_gemm_method m, size_t M, size_t N, size_t K) {
    if (m < 0 || m >= N_METHODS || METHODS[m].kind < PACKED) return;
    const size_t before = rt->gemm_scratch->bytes; /* a grown buffer is a new one */
    cl_mem s = scratch(rt, panel_bytes(&METHODS[m], M, K, N, K));
    if (rt->gemm_scratch->bytes == before) return;
    const float zero = 0.0f; /* a fresh buffer: its pages cost their first write */
    CL_CHECK(clEnqueueFillBuffer(rt->queue, s, &zero, sizeof zero, 0, rt->gemm_scratch->bytes, 0, NULL, NULL));
    CL_CHECK(clFinish(rt->queue));
}

void gancl_gemm_panels_run(const gancl_runtime *rt, gancl_gemm_method m, const gancl_gemm_shape *whole, size_t n,
                           size_t k0, size_t kn, float alpha, cl_mem A, size_t a_off, float beta, cl_mem C,
                           size_t c_off, size_t ldc) {
    const method_desc *d = &METHODS[m];
    const size_t R = (size_t)d->rows, M = whole->M, K = whole->K, b_off = a_panels(d, M, K);
    gemm_label_t name;
    const char *label = gemm_label(rt, name, m, whole->ta, whole->tb, M, whole->N, K);
    cl_mem s = rt->gemm_scratch->mem;
    if (d->kind == PACKED)
        pk_launch(rt, d, label, M, n, kn, alpha, s, k0 * R, R * K, 1, R, s, b_off, beta, C, c_off, ldc, 0);
    else if (whole->ta) /* pb: op(A) row i is column i of A[K, M] */
        pk_launch(rt, d, label, M, n, kn, alpha, A, a_off + k0 * M, R, 1, M, s, b_off, beta, C, c_off, ldc, 0);
    else /* pb: op(A) row i at A[i K] */
        pk_launch(rt, d, label, M, n, kn, alpha, A, a_off + k0, R * K, K, 1, s, b_off, beta, C, c_off, ldc, 0);
}

/* pk, pb: op(B) packed into the scratch buffer, then the micro-kernel over the panels; pt:
 * C^T[N, M] = op(B)^T op(A)^T, with op(A)^T's columns packed and op(B)^T's row i at B[i K] (tb)
 * or in column i of B. */
static void packed_gemm(const gancl_runtime *rt, gancl_gemm_method m, int ta, int tb, size_t M,
                        size_t N, size_t K, float alpha, cl_mem A, size_t a_off, cl_mem B,
                        size_t b_off, float beta, cl_mem C, size_t c_off) {
    const method_desc *d = &METHODS[m];
    if (d->kind == PACKED_T) {
        const size_t R = (size_t)d->rows;
        cl_mem s = scratch(rt, panel_bytes(d, M, K, N, K));
        pack(rt, s, 0, A, a_off, M, K, !ta, d->cols); // [M/32][K][32] = op(A)^T
        gemm_label_t name;
        pk_launch(rt, d, gemm_label(rt, name, m, ta, tb, M, N, K), N, M, K, alpha, B, b_off, tb ? R * K : R, tb ? K : 1,
                  tb ? 1 : N, s, 0, beta, C, c_off, N, 1);
        return;
    }
    size_t panels_off;
    int width;
    cl_mem s = gancl_gemm_panels_begin(rt, m, ta, M, K, A, a_off, N, K, &panels_off, &width);
    pack(rt, s, panels_off, B, b_off, N, K, tb, width); // Bp[N/32][K][32]
    gancl_gemm_panels_run(rt, m, &(gancl_gemm_shape){ta, tb, M, N, K, 1}, N, 0, K, alpha, A, a_off, beta, C, c_off, N);
}

int gancl_gemm_clblast_route(const gancl_runtime *rt, int indirect) {
    /* CLBlast takes its indirect path from m n k >= XGEMM_MIN_INDIRECT_SIZE^3 */
    const char *name[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
    size_t size[1] = {indirect ? 1 : 100000000};
    return CLBlastOverrideParameters(rt->dev.id, "GemmRoutine", CLBlastPrecisionSingle, 1, name, size);
}

static void clblast_gemm(const gancl_runtime *rt, int ta, int tb, size_t M, size_t N, size_t K,
                         float alpha, cl_mem A, size_t a_off, cl_mem B, size_t b_off, float beta,
                         cl_mem C, size_t c_off) {
    cl_command_queue q = rt->queue;
    const CLBlastTranspose at = ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    const CLBlastTranspose bt = tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    // CLBlast's indirect path pads and transposes into a temporary buffer; allocating one per
    // call made the allocator hold on to 1.5 GB on PoCL, so one buffer is kept and grown
    size_t need = 0;
    CLBLAST_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, at, bt, M, N, K, a_off, lda, b_off,
                                             ldb, c_off, N, &q, &need));
    cl_mem tmp = scratch(rt, need);
    cl_event begin = gancl_prof_span_begin(rt);
    CLBLAST_CHECK(CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, at, bt, M, N, K, alpha, A, a_off,
                                             lda, B, b_off, ldb, beta, C, c_off, N, &q, NULL, tmp));
    gemm_label_t name;
    gancl_prof_span_end(rt, begin, gemm_label(rt, name, GANCL_GEMM_CLBLAST, ta, tb, M, N, K), 2.0 * M * N * K);
}

void gancl_gemm_with(const gancl_runtime *rt, gancl_gemm_method method, int ta, int tb, size_t M,
                     size_t N, size_t K, float alpha, cl_mem A, size_t a_off, cl_mem B, size_t b_off,
                     float beta, cl_mem C, size_t c_off) {
    if (M == 0 || N == 0) return;
    if (rt->shape_log) { /* recording an iteration's shapes (tune): nothing is computed */
        shape_log_add(rt->shape_log, ta, tb, M, N, K);
        return;
    }
    if (!gancl_gemm_method_supports(method, ta, tb))
        gancl_die("GEMM method %s cannot compute op(A)%s op(B)%s", gancl_gemm_method_name(method),
                  ta ? "^T" : "", tb ? "^T" : "");
    if (method == GANCL_GEMM_CLBLAST && K > 0)
        clblast_gemm(rt, ta, tb, M, N, K, alpha, A, a_off, B, b_off, beta, C, c_off);
    else if (METHODS[method].kind >= PACKED) /* K == 0 packs nothing: C = beta C */
        packed_gemm(rt, method, ta, tb, M, N, K, alpha, A, a_off, B, b_off, beta, C, c_off);
    else /* K == 0 (C = beta C) is left to our kernels: CLBlast rejects it */
    {
        const gancl_gemm_method m = method == GANCL_GEMM_CLBLAST ? GANCL_GEMM_MATMUL : method;
        gemm_label_t name;
        kernel_launch(rt, &METHODS[m], gemm_label(rt, name, m, ta, tb, M, N, K), ta, tb, M, N, K, alpha, A, a_off, B,
                      b_off, beta, C, c_off);
    }
}

gancl_gemm_method gancl_gemm_choose(const gancl_runtime *rt, int ta, int tb, size_t M, size_t N, size_t K) {
    gancl_gemm_method m = rt->gemm;
    if (m == GANCL_GEMM_AUTO) {
        int i = rt->gemm_plan ? gancl_gemm_plan_find(rt->gemm_plan, ta, tb, M, N, K) : -1;
        if ((i < 0 || rt->gemm_plan->method[i] < 0) && rt->tuner && !rt->tuner->off && !rt->shape_log) {
            const gancl_gemm_shape s = {ta, tb, M, N, K, 1};
            rt->tuner->tune(rt, &s); /* first met: tuned now */
            i = rt->gemm_plan ? gancl_gemm_plan_find(rt->gemm_plan, ta, tb, M, N, K) : -1;
        }
        return i >= 0 && rt->gemm_plan->method[i] >= 0 ? rt->gemm_plan->method[i] : GANCL_GEMM_CLBLAST;
    }
    return gancl_gemm_method_supports(m, ta, tb) ? m : GANCL_GEMM_MATMUL; /* a forced kernel that
                                                                               cannot do these transposes */
}

void gancl_gemm(const gancl_runtime *rt, int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                cl_mem A, size_t a_off, cl_mem B, size_t b_off, float beta, cl_mem C, size_t c_off) {
    gancl_gemm_with(rt, gancl_gemm_choose(rt, ta, tb, M, N, K), ta, tb, M, N, K, alpha, A, a_off, B, b_off,
                    beta, C, c_off);
}

void gancl_gemm_ref(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A,
                    const float *B, float beta, float *C) {
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double acc = 0;
            for (size_t k = 0; k < K; k++)
                acc += (double)(ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
            double prev = beta == 0.0f ? 0.0 : (double)beta * C[i * N + j];
            C[i * N + j] = (float)(alpha * acc + prev);
        }
}
