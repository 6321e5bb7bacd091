/* selftest.c: the table of device checks (kernel vs C reference) and their runner. */
#include "gancl/selftest.h"
#include "gancl/gemm.h"
#include "gancl/layers.h"
#include "gancl/score.h"

#include <math.h>
#include <stdlib.h>

uint64_t gancl_splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float gancl_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)((gancl_splitmix64(s) >> 40) * (1.0 / 16777216.0));
}

/* One GEMM on random data placed at odd offsets of three buffers, against gancl_gemm_ref.
 * Returns max |device - reference| / (1 + |reference|) over the shapes. */
double gancl_check_gemm(const gancl_runtime *rt, gancl_gemm_method method, int ta, int tb) {
    /* M, N, K: tails of every tile size (rows, 16- and 32-column blocks, k % 8), and a
     * product large enough for several tiles each way */
    static const size_t shapes[3][3] = {{37, 29, 53}, {130, 67, 300}, {21, 115, 41}};
    const size_t a_off = 3, b_off = 5, c_off = 7;
    uint64_t seed = 1234 + 17 * (size_t)ta + 31 * (size_t)tb;
    double worst = 0;
    for (int s = 0; s < 3; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = malloc((a_off + M * K) * sizeof *A), *B = malloc((b_off + K * N) * sizeof *B);
        float *C = malloc((c_off + M * N) * sizeof *C), *R = malloc(M * N * sizeof *R);
        if (!A || !B || !C || !R) gancl_die("out of host memory");
        for (size_t i = 0; i < a_off + M * K; i++) A[i] = gancl_uniform(&seed, -1, 1);
        for (size_t i = 0; i < b_off + K * N; i++) B[i] = gancl_uniform(&seed, -1, 1);
        for (size_t i = 0; i < c_off + M * N; i++) C[i] = gancl_uniform(&seed, -1, 1);
        for (size_t i = 0; i < M * N; i++) R[i] = C[c_off + i];
        float before[8];
        for (size_t i = 0; i < c_off; i++) before[i] = C[i];
        cl_mem dA = gancl_buffer(rt, (a_off + M * K) * 4), dB = gancl_buffer(rt, (b_off + K * N) * 4);
        cl_mem dC = gancl_buffer(rt, (c_off + M * N) * 4);
        gancl_write(rt, dA, 0, (a_off + M * K) * 4, A);
        gancl_write(rt, dB, 0, (b_off + K * N) * 4, B);
        gancl_write(rt, dC, 0, (c_off + M * N) * 4, C);
        gancl_gemm_with(rt, method, ta, tb, M, N, K, 0.75f, dA, a_off, dB, b_off, 0.5f, dC, c_off);
        gancl_read(rt, dC, 0, (c_off + M * N) * 4, C);
        gancl_gemm_ref(ta, tb, M, N, K, 0.75f, A + a_off, B + b_off, 0.5f, R);
        for (size_t i = 0; i < M * N; i++) {
            double e = fabs((double)C[c_off + i] - R[i]) / (1.0 + fabs(R[i]));
            if (!(e <= worst)) worst = e; /* NaN propagates as a failure */
        }
        for (size_t i = 0; i < c_off; i++) /* the product must not touch what precedes C */
            if (C[i] != before[i]) worst = INFINITY;
        clReleaseMemObject(dA);
        clReleaseMemObject(dB);
        clReleaseMemObject(dC);
        free(A);
        free(B);
        free(C);
        free(R);
    }
    return worst;
}

/* Every GEMM method on every transpose it handles (the names are gemm.c's). */
#define GEMM_CHECK(fn, method, ta, tb)                                           \
    static double check_##fn##_##ta##tb(const gancl_runtime *rt) {               \
        return gancl_check_gemm(rt, gancl_gemm_method_find(method), ta, tb);     \
    }
#define GEMM_CHECK_ALL(fn, method) \
    GEMM_CHECK(fn, method, 0, 0) GEMM_CHECK(fn, method, 0, 1) GEMM_CHECK(fn, method, 1, 0) GEMM_CHECK(fn, method, 1, 1)
#define GEMM_CHECK_XN(fn, method) GEMM_CHECK(fn, method, 0, 0) GEMM_CHECK(fn, method, 1, 0)
GEMM_CHECK_ALL(clblast, "clblast")
GEMM_CHECK_ALL(matmul, "matmul")
GEMM_CHECK_ALL(tiled_4x4, "tiled-4x4")
GEMM_CHECK_XN(xn_8x32, "xn-8x32")
GEMM_CHECK_XN(xn_4x64, "xn-4x64")
GEMM_CHECK_XN(xn_6x32, "xn-6x32")
GEMM_CHECK_XN(xn_4x32, "xn-4x32")
GEMM_CHECK_XN(xn_6x16, "xn-6x16")
GEMM_CHECK_XN(xn_4x16, "xn-4x16")
GEMM_CHECK(nt_4x4, "nt-4x4", 0, 1)
GEMM_CHECK(nt_3x4, "nt-3x4", 0, 1)
GEMM_CHECK(nt_2x4, "nt-2x4", 0, 1)
GEMM_CHECK(nt_4x2, "nt-4x2", 0, 1)
GEMM_CHECK(nt_2x2, "nt-2x2", 0, 1)
GEMM_CHECK_ALL(blk_64x32, "blk-64x32")
GEMM_CHECK_ALL(pk_8x32, "pk-8x32")
GEMM_CHECK_ALL(pk_6x16, "pk-6x16")
GEMM_CHECK_ALL(pb_8x32, "pb-8x32")
GEMM_CHECK_ALL(pb_6x16, "pb-6x16")
GEMM_CHECK_ALL(pt_8x32, "pt-8x32")
GEMM_CHECK_ALL(pt_6x16, "pt-6x16")

/* CLBlast's indirect GEMM kernel (Xgemm, with the parameters in effect for the device: CLBlast's
 * database's, or a set `gan-cl tune` chose) on the shapes above, all four transposes. CLBlast
 * takes it only for products above a size threshold (384^3 to 768^3 multiply-adds, by vendor),
 * so this check sends every CLBlast product through it for the rest of the process, and comes
 * last. CLBlast 1.5.3's Xgemm computes wrong results with GEMMK = 1 and MWG != NWG (fixed in
 * 1.6.3, CLBlast PR 543), parameters its database holds for some GPUs (Intel Arc A770 and UHD
 * 770 among those reported); test_clblast checks that this check catches them. */
static double check_clblast_indirect(const gancl_runtime *rt) {
    if (gancl_gemm_clblast_route(rt, 1)) return INFINITY;
    double e = 0;
    for (int t = 0; t < 4; t++) e = fmax(e, gancl_check_gemm(rt, GANCL_GEMM_CLBLAST, t >> 1, t & 1));
    return e;
}

/* ---- helpers for the layer checks: tensors sit at an odd offset after garbage ---- */

#define PAD 5
#define GANCL_N_ACC_CHECK 3

static void fill(double *x, size_t n, uint64_t *rng, double lo, double hi) {
    for (size_t i = 0; i < n; i++) x[i] = gancl_uniform(rng, (float)lo, (float)hi);
}

/* A device buffer holding PAD garbage floats then x[n] (as float); *p points at x. */
static gancl_ptr upload(const gancl_runtime *rt, const double *x, size_t n) {
    float *f = malloc((PAD + n) * sizeof *f);
    if (!f) gancl_die("out of host memory");
    for (size_t i = 0; i < PAD; i++) f[i] = 1e30f;
    for (size_t i = 0; i < n; i++) f[PAD + i] = (float)x[i];
    gancl_ptr p = {gancl_buffer(rt, (PAD + n) * sizeof *f), PAD};
    gancl_write(rt, p.mem, 0, (PAD + n) * sizeof *f, f);
    free(f);
    return p;
}

/* max |device - ref| / (1 + |ref|) over n elements; releases the buffer. */
static double compare(const gancl_runtime *rt, gancl_ptr p, const double *ref, size_t n) {
    float *f = malloc((PAD + n) * sizeof *f);
    if (!f) gancl_die("out of host memory");
    gancl_read(rt, p.mem, 0, (PAD + n) * sizeof *f, f);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)f[PAD + i] - ref[i]) / (1.0 + fabs(ref[i]));
        if (!(e <= worst)) worst = e;
    }
    for (size_t i = 0; i < PAD; i++) /* nothing may write before the tensor */
        if (f[i] != 1e30f) worst = INFINITY;
    clReleaseMemObject(p.mem);
    free(f);
    return worst;
}

static double max2(double a, double b) { return a > b || a != a ? a : b; }

#define ALLOC(n) calloc((n), sizeof(double))

static double linear_check(const gancl_runtime *rt, gancl_act act, int backward) {
    const int B = 7, IN = 13, OUT = 11;
    const double slope = 0.2;
    uint64_t rng = 99 + (uint64_t)act;
    double *x = ALLOC(B * IN), *w = ALLOC(OUT * IN), *b = ALLOC(OUT), *y = ALLOC(B * OUT);
    double *dy = ALLOC(B * OUT), *dx = ALLOC(B * IN), *dw = ALLOC(OUT * IN), *db = ALLOC(OUT);
    fill(x, B * IN, &rng, -1, 1);
    fill(w, OUT * IN, &rng, -0.5, 0.5);
    fill(b, OUT, &rng, -0.5, 0.5);
    fill(dy, B * OUT, &rng, -1, 1);
    fill(dw, OUT * IN, &rng, -1, 1); /* accumulated into */
    fill(db, OUT, &rng, -1, 1);
    gancl_ptr px = upload(rt, x, B * IN), pw = upload(rt, w, OUT * IN), pb = upload(rt, b, OUT);
    gancl_ptr py = upload(rt, y, B * OUT);
    linear_forward(rt, py, px, pw, pb, B, IN, OUT, act, (float)slope);
    linear_forward_ref(y, x, w, b, B, IN, OUT, act, slope);
    double err;
    if (!backward) {
        err = compare(rt, py, y, B * OUT);
    } else {
        gancl_ptr pdy = upload(rt, dy, B * OUT), pdx = upload(rt, dx, B * IN);
        gancl_ptr pdw = upload(rt, dw, OUT * IN), pdb = upload(rt, db, OUT);
        linear_backward(rt, pdx, pdw, pdb, pdy, py, px, pw, B, IN, OUT, act, (float)slope);
        linear_backward_ref(dx, dw, db, dy, y, x, w, B, IN, OUT, act, slope);
        err = max2(max2(compare(rt, pdx, dx, B * IN), compare(rt, pdw, dw, OUT * IN)),
                   max2(compare(rt, pdb, db, OUT), compare(rt, pdy, dy, B * OUT)));
        clReleaseMemObject(py.mem);
    }
    clReleaseMemObject(px.mem);
    clReleaseMemObject(pw.mem);
    clReleaseMemObject(pb.mem);
    free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(db);
    return err;
}

static double check_act_others(const gancl_runtime *rt) {
    return max2(max2(linear_check(rt, GANCL_ACT_RELU, 0), linear_check(rt, GANCL_ACT_SIGMOID, 0)),
                linear_check(rt, GANCL_ACT_SOFTPLUS, 0));
}
static double check_act_others_bw(const gancl_runtime *rt) {
    return max2(max2(linear_check(rt, GANCL_ACT_RELU, 1), linear_check(rt, GANCL_ACT_SIGMOID, 1)),
                linear_check(rt, GANCL_ACT_SOFTPLUS, 1));
}
static double check_linear_leaky(const gancl_runtime *rt) { return linear_check(rt, GANCL_ACT_LEAKY, 0); }
static double check_linear_tanh(const gancl_runtime *rt) { return linear_check(rt, GANCL_ACT_TANH, 0); }
static double check_linear_none(const gancl_runtime *rt) { return linear_check(rt, GANCL_ACT_NONE, 0); }
static double check_linear_leaky_bw(const gancl_runtime *rt) { return linear_check(rt, GANCL_ACT_LEAKY, 1); }
static double check_linear_tanh_bw(const gancl_runtime *rt) { return linear_check(rt, GANCL_ACT_TANH, 1); }
static double check_linear_none_bw(const gancl_runtime *rt) { return linear_check(rt, GANCL_ACT_NONE, 1); }

/* mode 0: training forward, 1: eval forward, 2: backward; fused: with a bias and LeakyReLU
 * before the BatchNorm (the input is then the pre-activation, replaced in place). */
static double batchnorm_check(const gancl_runtime *rt, int mode, int fused, int S) {
    const int B = 9, N = 17, BS = B * S;
    const gancl_act act = fused ? GANCL_ACT_LEAKY : GANCL_ACT_NONE;
    uint64_t rng = 7 + (uint64_t)mode + 10 * (uint64_t)fused + 100 * (uint64_t)S;
    double *x = ALLOC(BS * N), *gb = ALLOC(2 * N), *y = ALLOC(BS * N), *saved = ALLOC(2 * N);
    double *run = ALLOC(2 * N), *dy = ALLOC(BS * N), *dx = ALLOC(BS * N), *dgb = ALLOC(2 * N);
    double *bias = ALLOC(N), *db = ALLOC(N);
    fill(x, BS * N, &rng, -2, 3);
    fill(gb, 2 * N, &rng, 0.5, 1.5);
    fill(run, N, &rng, -0.5, 0.5);
    fill(run + N, N, &rng, 0.5, 2);
    fill(dy, BS * N, &rng, -1, 1);
    fill(dgb, 2 * N, &rng, -1, 1);
    fill(bias, N, &rng, -0.5, 0.5);
    fill(db, N, &rng, -1, 1);
    gancl_ptr px = upload(rt, x, BS * N), pg = upload(rt, gb, 2 * N), py = upload(rt, y, BS * N);
    gancl_ptr ps = upload(rt, saved, 2 * N), pr = upload(rt, run, 2 * N), pb = upload(rt, bias, N);
    gancl_ptr none = {NULL, 0};
    batchnorm_forward(rt, py, px, fused ? pb : none, pg, ps, pr, B, N, 1e-3f, 0.2f, mode != 1, act, 0.2f, S);
    batchnorm_forward_ref(y, saved, run, x, fused ? bias : NULL, gb, B, N, 1e-3, 0.2, mode != 1, act, 0.2, S);
    double err = 0;
    if (mode == 2) {
        gancl_ptr pdy = upload(rt, dy, BS * N), pdgb = upload(rt, dgb, 2 * N), pdb = upload(rt, db, N);
        batchnorm_backward(rt, pdy, pdgb, fused ? pdb : none, pdy, px, pg, ps, B, N, act, 0.2f, S); /* in place, as G uses it */
        batchnorm_backward_ref(dx, dgb, fused ? db : NULL, dy, x, gb, saved, B, N, act, 0.2, S);
        err = max2(compare(rt, pdy, dx, BS * N), compare(rt, pdgb, dgb, 2 * N));
        err = max2(err, compare(rt, pdb, db, N));
        clReleaseMemObject(py.mem);
        clReleaseMemObject(ps.mem);
        clReleaseMemObject(pr.mem);
        clReleaseMemObject(px.mem);
    } else {
        err = max2(compare(rt, py, y, BS * N), compare(rt, px, x, BS * N)); /* x: a, in place */
        if (mode == 0) err = max2(err, max2(compare(rt, ps, saved, 2 * N), compare(rt, pr, run, 2 * N)));
        else {
            clReleaseMemObject(ps.mem);
            clReleaseMemObject(pr.mem);
        }
    }
    clReleaseMemObject(pg.mem);
    clReleaseMemObject(pb.mem);
    free(x); free(gb); free(y); free(saved); free(run); free(dy); free(dx); free(dgb); free(bias); free(db);
    return err;
}

static double check_bn_train(const gancl_runtime *rt) { return batchnorm_check(rt, 0, 0, 1); }
static double check_bn_eval(const gancl_runtime *rt) { return batchnorm_check(rt, 1, 0, 1); }
static double check_bn_backward(const gancl_runtime *rt) { return batchnorm_check(rt, 2, 0, 1); }
static double check_bn_fused_train(const gancl_runtime *rt) { return batchnorm_check(rt, 0, 1, 1); }
static double check_bn_fused_eval(const gancl_runtime *rt) { return batchnorm_check(rt, 1, 1, 1); }
static double check_bn_fused_backward(const gancl_runtime *rt) { return batchnorm_check(rt, 2, 1, 1); }
static double check_bn2d_train(const gancl_runtime *rt) { return batchnorm_check(rt, 0, 0, 6); }
static double check_bn2d_eval(const gancl_runtime *rt) { return batchnorm_check(rt, 1, 0, 6); }
static double check_bn2d_backward(const gancl_runtime *rt) { return batchnorm_check(rt, 2, 0, 6); }
/* 21 positions: whole chunks of 8 and a tail (the CPU's per-channel kernels), with a bias and LeakyReLU before */
static double check_bn2d_long_train(const gancl_runtime *rt) { return batchnorm_check(rt, 0, 1, 21); }
static double check_bn2d_long_eval(const gancl_runtime *rt) { return batchnorm_check(rt, 1, 1, 21); }
static double check_bn2d_long_backward(const gancl_runtime *rt) { return batchnorm_check(rt, 2, 1, 21); }

static double loss_check(const gancl_runtime *rt, gancl_loss_kind kind, float y) {
    const int n = 37;
    uint64_t rng = 3;
    double l[37], dl[37], acc[GANCL_N_ACC_CHECK] = {0.25, -1, 0.5};
    fill(l, n, &rng, -30, 30); /* large logits: the stable form must not overflow */
    l[0] = 0;
    gancl_ptr pl = upload(rt, l, n), pd = upload(rt, l, n);
    cl_mem pacc = gancl_buffer(rt, sizeof(float) * GANCL_N_ACC_CHECK);
    float facc[GANCL_N_ACC_CHECK] = {0.25f, -1.0f, 0.5f};
    gancl_write(rt, pacc, 0, sizeof facc, facc);
    gan_loss_forward_backward(rt, pd, pl, n, kind, y, 0.5f / n, pacc, 0, 0.5f, 2);
    double loss = gan_loss_ref(dl, l, n, kind, y, 0.5 / n), prob = 0;
    for (int i = 0; i < n; i++) prob += kind == GANCL_LOSS_KIND_BCE ? 1.0 / (1.0 + exp(-l[i])) : l[i];
    acc[0] += 0.5 * loss;
    acc[2] += prob / n;
    gancl_read(rt, pacc, 0, sizeof facc, facc);
    double err = compare(rt, pd, dl, n);
    for (int i = 0; i < GANCL_N_ACC_CHECK; i++)
        err = max2(err, fabs(facc[i] - acc[i]) / (1 + fabs(acc[i])));
    clReleaseMemObject(pl.mem);
    clReleaseMemObject(pacc);
    return err;
}

static double check_bce(const gancl_runtime *rt) { return loss_check(rt, GANCL_LOSS_KIND_BCE, 1.0f); }
static double check_linear_loss(const gancl_runtime *rt) { return loss_check(rt, GANCL_LOSS_KIND_LINEAR, -1.0f); }
static double check_hinge(const gancl_runtime *rt) {
    return fmax(loss_check(rt, GANCL_LOSS_KIND_HINGE, 1.0f), loss_check(rt, GANCL_LOSS_KIND_HINGE, -1.0f));
}


/* A buffer params|grads|m|v of n each with random contents, on the device without padding. */
static cl_mem optim_buffer(const gancl_runtime *rt, double *buf, size_t n, uint64_t seed) {
    uint64_t rng = seed;
    fill(buf, 2 * n, &rng, -1, 1);
    fill(buf + 2 * n, n, &rng, -0.1, 0.1);
    fill(buf + 3 * n, n, &rng, 0, 0.01);
    float *f = malloc(4 * n * sizeof *f);
    if (!f) gancl_die("out of host memory");
    for (size_t i = 0; i < 4 * n; i++) f[i] = (float)buf[i], buf[i] = f[i];
    cl_mem m = gancl_buffer(rt, 4 * n * sizeof *f);
    gancl_write(rt, m, 0, 4 * n * sizeof *f, f);
    free(f);
    return m;
}

static double compare_whole(const gancl_runtime *rt, cl_mem m, const double *ref, size_t n) {
    float *f = malloc(n * sizeof *f);
    if (!f) gancl_die("out of host memory");
    gancl_read(rt, m, 0, n * sizeof *f, f);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)f[i] - ref[i]) / (1.0 + fabs(ref[i]));
        if (!(e <= worst)) worst = e;
    }
    free(f);
    clReleaseMemObject(m);
    return worst;
}

/* An optimiser kernel on a random buffer of n parameters, and its reference on the host copy. */
typedef void (*optim_case)(const gancl_runtime *rt, cl_mem m, double *buf, size_t n);

/* Runs one case and compares the whole buffer (what the kernel must leave alone included). */
static double optim_check(const gancl_runtime *rt, size_t n, uint64_t seed, optim_case run) {
    double *buf = ALLOC(4 * n);
    cl_mem m = optim_buffer(rt, buf, n, seed);
    run(rt, m, buf, n);
    double err = compare_whole(rt, m, buf, 4 * n);
    free(buf);
    return err;
}

static void adam_case(const gancl_runtime *rt, cl_mem m, double *buf, size_t n) {
    adam_update(rt, m, n, 1e-3f, 0.5f, 0.999f, 1e-8f, 3);
    adam_ref(buf, buf + n, buf + 2 * n, buf + 3 * n, n, 1e-3, 0.5, 0.999, 1e-8, 3);
}

static void rmsprop_case(const gancl_runtime *rt, cl_mem m, double *buf, size_t n) {
    rmsprop_update(rt, m, n, 5e-3f, 0.99f, 1e-8f);
    rmsprop_ref(buf, buf + n, buf + 3 * n, n, 5e-3, 0.99, 1e-8);
}

static void clip_case(const gancl_runtime *rt, cl_mem m, double *buf, size_t n) {
    clip_params(rt, m, n, 0.25f); /* grads and moments untouched */
    for (size_t i = 0; i < n; i++) buf[i] = buf[i] > 0.25 ? 0.25 : buf[i] < -0.25 ? -0.25 : buf[i];
}

static void zero_grads_case(const gancl_runtime *rt, cl_mem m, double *buf, size_t n) {
    zero_grads(rt, m, n); /* params and moments untouched */
    for (size_t i = 0; i < n; i++) buf[n + i] = 0;
}

static double check_adam(const gancl_runtime *rt) { return optim_check(rt, 1001, 5, adam_case); }
static double check_rmsprop(const gancl_runtime *rt) { return optim_check(rt, 1001, 8, rmsprop_case); }
static double check_clip(const gancl_runtime *rt) { return optim_check(rt, 999, 9, clip_case); }
/* 1003: a tail of 3 past whole groups of four */
static double check_zero_grads(const gancl_runtime *rt) { return optim_check(rt, 1003, 10, zero_grads_case); }

static double check_ema(const gancl_runtime *rt) {
    const size_t n = 1001;
    uint64_t rng = 57;
    double *avg = ALLOC(n), *x = ALLOC(n);
    fill(avg, n, &rng, -1, 1);
    fill(x, n, &rng, -1, 1);
    gancl_ptr pa = upload(rt, avg, n), px = upload(rt, x, n);
    ema_update(rt, pa, px, n, 0.999f);
    ema_ref(avg, x, n, (double)0.999f);
    double err = max2(compare(rt, pa, avg, n), compare(rt, px, x, n)); /* x untouched */
    free(avg);
    free(x);
    return err;
}

static double check_gp_interpolate(const gancl_runtime *rt) {
    const int B = 5, I = 11;
    uint64_t rng = 12;
    double real[55], fake[55], out[55] = {0};
    fill(real, 55, &rng, -1, 1);
    fill(fake, 55, &rng, -1, 1);
    for (int b = 0; b < B; b++) {
        double e = gp_eps_ref(b, 3, 4, 5, 6);
        for (int k = 0; k < I; k++)
            out[b * I + k] = e * (float)real[b * I + k] + (1 - e) * (float)fake[b * I + k];
    }
    gancl_ptr pr = upload(rt, real, 55), pf = upload(rt, fake, 55), po = upload(rt, out, 55);
    gp_interpolate(rt, po, pr, pf, B, I, 3, 4, 5, 6);
    double err = compare(rt, po, out, 55);
    clReleaseMemObject(pr.mem);
    clReleaseMemObject(pf.mem);
    return err;
}

static double check_gp_direction(const gancl_runtime *rt) {
    const int B = 6, I = 13;
    uint64_t rng = 14;
    double g[78], sq[6] = {0};
    fill(g, 78, &rng, -0.6, 0.6);
    for (int k = 0; k < I; k++) g[2 * I + k] = 0; /* a zero gradient: no direction, no NaN */
    for (int i = 0; i < 78; i++) g[i] = (float)g[i];
    gancl_ptr pg = upload(rt, g, 78), ps = upload(rt, sq, 6);
    cl_mem acc = gancl_buffer(rt, 2 * sizeof(float));
    float acc0[2] = {0.5f, 0.0f};
    gancl_write(rt, acc, 0, sizeof acc0, acc0);
    gp_direction(rt, pg, ps, B, I, 10.0f);
    gp_sum(rt, acc, 1, ps, B, 10.0f);
    double gp = gp_direction_ref(g, B, I, 10.0);
    gancl_read(rt, acc, 0, sizeof acc0, acc0);
    clReleaseMemObject(acc);
    clReleaseMemObject(ps.mem);
    double err = compare(rt, pg, g, 78);
    if (acc0[0] != 0.5f) err = INFINITY; /* only the named slot changes */
    return fmax(err, fabs(acc0[1] - gp) / (1 + fabs(gp)));
}

/* conv2d (transposed = 0) or convt2d (1) on odd, non-square shapes, stride 2 or (stride1)
 * stride 1, forward or backward, against the direct loops. */
static double conv_check_once(const gancl_runtime *rt, int transposed, int backward, int stride1) {
    const int B = 3, OC = 4, Cin = 3;
    gancl_conv_geom g = transposed ? (stride1 ? gancl_convt_geom_make(2, 5, 4, 5, 1, 2, 0)  /* 3x5x4 -> 2x5x4 */
                                              : gancl_convt_geom_make(2, 4, 5, 5, 2, 2, 1)) /* 3x4x5 -> 2x8x10 */
                                   : (stride1 ? gancl_conv_geom_make(2, 5, 7, 5, 1, 2)      /* 2x5x7 -> 4x5x7 */
                                              : gancl_conv_geom_make(2, 7, 6, 3, 2, 1));    /* 2x7x6 -> 4x4x3 */
    const int in_ch = transposed ? Cin : g.C, out_ch = transposed ? g.C : OC;
    const size_t ni = (size_t)B * in_ch * (transposed ? g.OH * g.OW : g.H * g.W);
    const size_t no = (size_t)B * out_ch * (transposed ? g.H * g.W : g.OH * g.OW);
    const size_t nw = (size_t)(transposed ? Cin : OC) * g.C * g.K * g.K;
    const size_t ncol = (size_t)g.C * g.K * g.K * B * g.OH * g.OW, ntmp = (size_t)8 * B * g.OH * g.OW;
    uint64_t rng = 40 + 2 * (uint64_t)transposed + (uint64_t)backward + 4 * (uint64_t)stride1;
    double *x = ALLOC(ni), *w = ALLOC(nw), *b = ALLOC(OC), *y = ALLOC(no), *dy = ALLOC(no);
    double *dx = ALLOC(ni), *dw = ALLOC(nw), *db = ALLOC(OC), *scratch = ALLOC(ncol + ntmp);
    fill(x, ni, &rng, -1, 1);
    fill(w, nw, &rng, -0.5, 0.5);
    fill(b, OC, &rng, -0.5, 0.5);
    fill(dy, no, &rng, -1, 1);
    fill(dw, nw, &rng, -1, 1); /* accumulated into */
    fill(db, OC, &rng, -1, 1);
    gancl_ptr px = upload(rt, x, ni), pw = upload(rt, w, nw), pb = upload(rt, b, OC), py = upload(rt, y, no);
    gancl_ptr col = upload(rt, scratch, ncol), tmp = upload(rt, scratch, ntmp);
    double err;
    if (!backward) {
        if (transposed) {
            convt2d_forward(rt, py, px, pw, g, Cin, B, col, tmp);
            convt2d_forward_ref(y, x, w, g, Cin, B);
        } else {
            conv2d_forward(rt, py, px, pw, pb, g, OC, B, col, tmp);
            conv2d_forward_ref(y, x, w, b, g, OC, B);
        }
        err = compare(rt, py, y, no);
    } else {
        gancl_ptr pdy = upload(rt, dy, no), pdx = upload(rt, dx, ni), pdw = upload(rt, dw, nw), pdb = upload(rt, db, OC);
        if (transposed) {
            convt2d_backward(rt, pdx, pdw, pdy, px, pw, g, Cin, B, col, tmp);
            convt2d_backward_ref(dx, dw, dy, x, w, g, Cin, B);
        } else {
            conv2d_backward(rt, pdx, pdw, pdb, pdy, px, pw, g, OC, B, col, tmp);
            conv2d_backward_ref(dx, dw, db, dy, x, w, g, OC, B);
        }
        err = max2(max2(compare(rt, pdx, dx, ni), compare(rt, pdw, dw, nw)), compare(rt, pdb, db, OC));
        clReleaseMemObject(pdy.mem);
        clReleaseMemObject(py.mem);
    }
    clReleaseMemObject(px.mem);
    clReleaseMemObject(pw.mem);
    clReleaseMemObject(pb.mem);
    clReleaseMemObject(col.mem);
    clReleaseMemObject(tmp.mem);
    free(x); free(w); free(b); free(y); free(dy); free(dx); free(dw); free(db); free(scratch);
    return err;
}

/* ... with the batch whole and with one image per chunk (rt->panel_chunk) */
static double conv_check(const gancl_runtime *rt, int transposed, int backward, int stride1) {
    gancl_runtime r = *rt;
    r.panel_chunk = 1;
    return fmax(conv_check_once(rt, transposed, backward, stride1), conv_check_once(&r, transposed, backward, stride1));
}
static double check_conv_fw(const gancl_runtime *rt) { return fmax(conv_check(rt, 0, 0, 0), conv_check(rt, 0, 0, 1)); }
static double check_conv_bw(const gancl_runtime *rt) { return fmax(conv_check(rt, 0, 1, 0), conv_check(rt, 0, 1, 1)); }
static double check_convt_fw(const gancl_runtime *rt) { return fmax(conv_check(rt, 1, 0, 0), conv_check(rt, 1, 0, 1)); }
static double check_convt_bw(const gancl_runtime *rt) { return fmax(conv_check(rt, 1, 1, 0), conv_check(rt, 1, 1, 1)); }
/* The same with the panel GEMMs (both widths; op(A) packed or read in place), whose op(B)
 * im2col_pack writes straight from the image (pt-6x16: run as pb-6x16 there). */
static double packed(const gancl_runtime *rt, double (*check)(const gancl_runtime *)) {
    static const char *const methods[] = {"pk-8x32", "pk-6x16", "pb-8x32", "pb-6x16", "pt-6x16"};
    gancl_runtime r = *rt;
    double e = 0;
    for (int i = 0; i < 5; i++) {
        r.gemm = gancl_gemm_method_find(methods[i]);
        e = fmax(e, check(&r));
    }
    return e;
}
static double check_conv_fw_pk(const gancl_runtime *rt) { return packed(rt, check_conv_fw); }
static double check_conv_bw_pk(const gancl_runtime *rt) { return packed(rt, check_conv_bw); }
static double check_convt_bw_pk(const gancl_runtime *rt) { return packed(rt, check_convt_bw); }

static double check_dropout(const gancl_runtime *rt) {
    const size_t n = 1003;
    uint64_t rng = 50;
    double *x = ALLOC(n), *y = ALLOC(n);
    fill(x, n, &rng, -1, 1);
    for (size_t i = 0; i < n; i++)
        y[i] = i < 100 ? x[i] : dropout_keep_ref(i, 0.3f, 1, 2, 3, 4) ? (float)x[i] / (1.0f - 0.3f) : 0;
    gancl_ptr px = upload(rt, x, n), rest = gancl_at(px, 100);
    dropout_apply(rt, rest, rest, n - 100, 100, 0.3f, 1, 2, 3, 4); /* in place, elements 100.. */
    double err = compare(rt, px, y, n);
    free(x);
    free(y);
    return err;
}

static double check_noise(const gancl_runtime *rt) {
    const size_t n = 1003;
    uint64_t rng = 51;
    double *x = ALLOC(n), *y = ALLOC(n);
    fill(x, n, &rng, -1, 1);
    for (size_t i = 0; i < n; i++) y[i] = x[i] + (i < 101 ? 0 : 0.5 * noise_normal_ref(i, 5, 6, 7, 8));
    gancl_ptr px = upload(rt, x, n), rest = gancl_at(px, 101);
    noise_apply(rt, rest, rest, n - 101, 101, 0.5f, 5, 6, 7, 8); /* in place, elements 101.. */
    double err = compare(rt, px, y, n);
    free(x);
    free(y);
    return err;
}

static double weightnorm_check(const gancl_runtime *rt, int backward) {
    const int OUT = 9, IN = 21;
    uint64_t rng = 52;
    double *g = ALLOC(OUT), *v = ALLOC(OUT * IN), *w = ALLOC(OUT * IN), *dw = ALLOC(OUT * IN);
    double *dg = ALLOC(OUT), *dv = ALLOC(OUT * IN), *norm = ALLOC(OUT);
    fill(g, OUT, &rng, 0.5, 2);
    fill(v, OUT * IN, &rng, -1, 1);
    fill(dw, OUT * IN, &rng, -1, 1);
    fill(dg, OUT, &rng, -1, 1); /* accumulated into */
    fill(dv, OUT * IN, &rng, -1, 1);
    gancl_ptr pg = upload(rt, g, OUT), pv = upload(rt, v, OUT * IN), pw = upload(rt, w, OUT * IN);
    gancl_ptr pn = upload(rt, norm, OUT);
    weightnorm_forward(rt, pw, pn, pg, pv, OUT, IN);
    weightnorm_forward_ref(w, g, v, OUT, IN);
    double err;
    if (!backward) {
        for (int o = 0; o < OUT; o++) norm[o] = g[o] / (w[o * IN] / v[o * IN]);
        err = max2(compare(rt, pw, w, OUT * IN), compare(rt, pn, norm, OUT));
    } else {
        gancl_ptr pdw = upload(rt, dw, OUT * IN), pdg = upload(rt, dg, OUT), pdv = upload(rt, dv, OUT * IN);
        weightnorm_backward(rt, pdg, pdv, pdw, pg, pv, pn, OUT, IN);
        weightnorm_backward_ref(dg, dv, dw, g, v, OUT, IN);
        err = max2(compare(rt, pdg, dg, OUT), compare(rt, pdv, dv, OUT * IN));
        clReleaseMemObject(pdw.mem);
        clReleaseMemObject(pw.mem);
        clReleaseMemObject(pn.mem);
    }
    clReleaseMemObject(pg.mem);
    clReleaseMemObject(pv.mem);
    free(g); free(v); free(w); free(dw); free(dg); free(dv); free(norm);
    return err;
}

static double check_weightnorm_fw(const gancl_runtime *rt) { return weightnorm_check(rt, 0); }
static double check_weightnorm_bw(const gancl_runtime *rt) { return weightnorm_check(rt, 1); }

/* The embedding of labels (one out of range, clamped) concatenated to 5 features; backward. */
static double embed_check(const gancl_runtime *rt, int backward) {
    const int B = 6, IN = 5, E = 3, K = 4, F = IN + E;
    const int labels[6] = {2, 0, 3, 2, 7, 1};
    uint64_t rng = 53;
    double *x = ALLOC(B * IN), *t = ALLOC(K * E), *y = ALLOC(B * F), *dy = ALLOC(B * F), *dx = ALLOC(B * IN);
    double *dt = ALLOC(K * E);
    fill(x, B * IN, &rng, -1, 1);
    fill(t, K * E, &rng, -1, 1);
    fill(dy, B * F, &rng, -1, 1);
    fill(dt, K * E, &rng, -1, 1); /* accumulated into */
    cl_mem lab = gancl_buffer(rt, sizeof labels);
    gancl_write(rt, lab, 0, sizeof labels, labels);
    gancl_ptr pl = {lab, 0}, px = upload(rt, x, B * IN), pt = upload(rt, t, K * E);
    gancl_ptr py = upload(rt, y, B * F), pdy = upload(rt, dy, B * F), pdx = upload(rt, dx, B * IN);
    gancl_ptr pdt = upload(rt, dt, K * E);
    for (int b = 0; b < B; b++) {
        const int k = labels[b] < K ? labels[b] : K - 1;
        for (int c = 0; c < F; c++) y[b * F + c] = c < IN ? x[b * IN + c] : t[k * E + c - IN];
        for (int c = 0; c < IN; c++) dx[b * IN + c] = dy[b * F + c];
        for (int e = 0; e < E; e++) dt[k * E + e] += dy[b * F + IN + e];
    }
    double err;
    if (!backward) {
        embed_forward(rt, py, px, pt, pl, B, IN, E, K);
        err = compare(rt, py, y, B * F);
        clReleaseMemObject(pdx.mem);
        clReleaseMemObject(pdt.mem);
    } else {
        embed_backward(rt, pdx, pdt, pdy, pl, B, IN, E, K);
        err = max2(compare(rt, pdx, dx, B * IN), compare(rt, pdt, dt, K * E));
        clReleaseMemObject(py.mem);
    }
    clReleaseMemObject(pdy.mem);
    clReleaseMemObject(px.mem);
    clReleaseMemObject(pt.mem);
    clReleaseMemObject(lab);
    free(x); free(t); free(y); free(dy); free(dx); free(dt);
    return err;
}

static double check_embed_fw(const gancl_runtime *rt) { return embed_check(rt, 0); }
static double check_embed_bw(const gancl_runtime *rt) { return embed_check(rt, 1); }

/* The projection output on 7 features of 5 rows (one label out of range, clamped); backward
 * into the input and, accumulated, the weight, bias and embedding. */
static double projection_check(const gancl_runtime *rt, int backward) {
    const int B = 5, F = 7, K = 3;
    const int labels[5] = {1, 0, 2, 9, 1};
    uint64_t rng = 59;
    double *x = ALLOC(B * F), *w = ALLOC(F), *bias = ALLOC(1), *t = ALLOC(K * F), *y = ALLOC(B), *dy = ALLOC(B);
    double *dx = ALLOC(B * F), *dw = ALLOC(F), *db = ALLOC(1), *dt = ALLOC(K * F);
    fill(x, B * F, &rng, -1, 1);
    fill(w, F, &rng, -1, 1);
    fill(bias, 1, &rng, -1, 1);
    fill(t, K * F, &rng, -1, 1);
    fill(dy, B, &rng, -1, 1);
    fill(dw, F, &rng, -1, 1); /* accumulated into */
    fill(db, 1, &rng, -1, 1);
    fill(dt, K * F, &rng, -1, 1);
    cl_mem lab = gancl_buffer(rt, sizeof labels);
    gancl_write(rt, lab, 0, sizeof labels, labels);
    gancl_ptr pl = {lab, 0}, px = upload(rt, x, B * F), pw = upload(rt, w, F), pb = upload(rt, bias, 1);
    gancl_ptr pt = upload(rt, t, K * F), py = upload(rt, y, B), pdy = upload(rt, dy, B), pdx = upload(rt, dx, B * F);
    gancl_ptr pdw = upload(rt, dw, F), pdb = upload(rt, db, 1), pdt = upload(rt, dt, K * F);
    double err;
    if (!backward) {
        projection_forward_ref(y, x, w, bias, t, labels, B, F, K);
        projection_forward(rt, py, px, pw, pb, pt, pl, B, F, K);
        err = compare(rt, py, y, B);
    } else {
        projection_backward_ref(dx, dw, db, dt, dy, x, w, t, labels, B, F, K);
        projection_backward(rt, pdx, pdw, pdb, pdt, pdy, px, pw, pt, pl, B, F, K);
        err = max2(max2(compare(rt, pdx, dx, B * F), compare(rt, pdw, dw, F)),
                   max2(compare(rt, pdb, db, 1), compare(rt, pdt, dt, K * F)));
    }
    /* compare() released the buffers it read */
    gancl_ptr inputs[] = {px, pw, pb, pt, pdy}, fw[] = {pdx, pdw, pdb, pdt};
    for (size_t i = 0; i < 5; i++) clReleaseMemObject(inputs[i].mem);
    if (backward) clReleaseMemObject(py.mem);
    else
        for (size_t i = 0; i < 4; i++) clReleaseMemObject(fw[i].mem);
    clReleaseMemObject(lab);
    free(x); free(w); free(bias); free(t); free(y); free(dy); free(dx); free(dw); free(db); free(dt);
    return err;
}

static double check_projection_fw(const gancl_runtime *rt) { return projection_check(rt, 0); }
static double check_projection_bw(const gancl_runtime *rt) { return projection_check(rt, 1); }

/* 2 x 3 channels of 7 x 5 (a ragged edge for k = 2), with ties in one window. */
static double maxpool_check(const gancl_runtime *rt, int backward) {
    const int B = 2, C = 3, H = 7, W = 5, k = 2, NI = B * C * H * W, NO = B * C * (H / k) * (W / k);
    uint64_t rng = 54;
    double *x = ALLOC(NI), *y = ALLOC(NO), *dy = ALLOC(NO), *dx = ALLOC(NI);
    fill(x, NI, &rng, -1, 1);
    fill(dy, NO, &rng, -1, 1);
    x[0] = x[1] = x[W] = 2.0; /* a tie: the first maximum takes the gradient */
    gancl_ptr px = upload(rt, x, NI), py = upload(rt, y, NO);
    maxpool_forward(rt, py, px, B, C, H, W, k);
    maxpool_forward_ref(y, x, B, C, H, W, k);
    double err;
    if (!backward) {
        err = compare(rt, py, y, NO);
    } else {
        double *garbage = ALLOC(NI);
        fill(garbage, NI, &rng, 5, 6); /* every element must be written */
        gancl_ptr pdy = upload(rt, dy, NO), pdx = upload(rt, garbage, NI);
        maxpool_backward(rt, pdx, pdy, px, B, C, H, W, k);
        maxpool_backward_ref(dx, dy, x, B, C, H, W, k);
        err = compare(rt, pdx, dx, NI);
        clReleaseMemObject(pdy.mem);
        clReleaseMemObject(py.mem);
        free(garbage);
    }
    clReleaseMemObject(px.mem);
    free(x); free(y); free(dy); free(dx);
    return err;
}

static double check_maxpool_fw(const gancl_runtime *rt) { return maxpool_check(rt, 0); }
static double check_maxpool_bw(const gancl_runtime *rt) { return maxpool_check(rt, 1); }

static double check_softmax_xent(const gancl_runtime *rt) {
    const int B = 9, K = 10;
    int labels[9] = {0, 3, 9, 9, 5, 1, 2, 12, 4}; /* 12: clamped to 9 */
    uint64_t rng = 55;
    double *l = ALLOC(B * K), *d = ALLOC(B * K), want[GANCL_N_ACC_CHECK] = {0};
    fill(l, B * K, &rng, -4, 4);
    l[1 * K + 3] = 9; /* a few rows certainly right */
    l[2 * K + 9] = 9;
    cl_mem lab = gancl_buffer(rt, sizeof labels), pacc = gancl_buffer(rt, sizeof(float) * GANCL_N_ACC_CHECK);
    gancl_write(rt, lab, 0, sizeof labels, labels);
    float zero[GANCL_N_ACC_CHECK] = {0};
    gancl_write(rt, pacc, 0, sizeof zero, zero);
    gancl_ptr pl = upload(rt, l, B * K), pd = upload(rt, d, B * K), plab = {lab, 0};
    softmax_xent(rt, pd, pl, plab, B, K, 0.25f, pacc, 0, 2);
    int correct;
    want[0] = softmax_xent_ref(d, l, labels, B, K, 0.25, &correct);
    want[2] = correct;
    float got[GANCL_N_ACC_CHECK];
    gancl_read(rt, pacc, 0, sizeof got, got);
    double err = compare(rt, pd, d, B * K);
    for (int i = 0; i < GANCL_N_ACC_CHECK; i++) err = max2(err, fabs(got[i] - want[i]) / (1 + fabs(want[i])));
    clReleaseMemObject(pl.mem);
    clReleaseMemObject(lab);
    clReleaseMemObject(pacc);
    free(l);
    free(d);
    return err;
}

/* Precision and recall's kernels on small integer features (distances exact in float, so
 * ties on a radius count the same on the device and in the reference): Q = 37 queries, R = 53
 * references of 5 features, the references' own radii, then which queries lie inside. */
static double knn_check(const gancl_runtime *rt, int inside) {
    enum { Q = 37, R = 53, D = 5 };
    uint64_t rng = 56;
    float q[Q * D], r[R * D];
    for (int i = 0; i < Q * D; i++) q[i] = (float)(gancl_splitmix64(&rng) % 7);
    for (int i = 0; i < R * D; i++) r[i] = (float)(gancl_splitmix64(&rng) % 6);
    double gt_q[R * Q], gt_r[R * R], qn[Q], rn[R], radius[R];
    for (int a = 0; a < R; a++) {
        rn[a] = 0;
        for (int k = 0; k < D; k++) rn[a] += r[a * D + k] * r[a * D + k];
        for (int b = 0; b < Q; b++) {
            gt_q[a * Q + b] = 0;
            for (int k = 0; k < D; k++) gt_q[a * Q + b] += r[a * D + k] * q[b * D + k];
        }
        for (int b = 0; b < R; b++) {
            gt_r[a * R + b] = 0;
            for (int k = 0; k < D; k++) gt_r[a * R + b] += r[a * D + k] * r[b * D + k];
        }
    }
    for (int b = 0; b < Q; b++) {
        qn[b] = 0;
        for (int k = 0; k < D; k++) qn[b] += q[b * D + k] * q[b * D + k];
    }
    gancl_knn_radius_ref(radius, r, R, D);
    gancl_ptr prn = upload(rt, rn, R), prad = upload(rt, radius, R), pgr = upload(rt, gt_r, R * R);
    double err;
    if (!inside) {
        gancl_ptr out = upload(rt, rn, R); /* garbage for the kernel to overwrite */
        knn_radius(rt, out, pgr, prn, prn, R, R);
        err = compare(rt, out, radius, R);
        clReleaseMemObject(prad.mem);
    } else {
        gancl_ptr pgq = upload(rt, gt_q, R * Q), pqn = upload(rt, qn, Q);
        int flags[PAD + Q];
        for (int i = 0; i < PAD + Q; i++) flags[i] = 7;
        cl_mem fl = gancl_buffer(rt, sizeof flags);
        gancl_write(rt, fl, 0, sizeof flags, flags);
        gancl_ptr pf = {fl, PAD};
        knn_inside(rt, pf, pgq, pqn, prn, prad, Q, R);
        gancl_read(rt, fl, 0, sizeof flags, flags);
        err = 0;
        int count = 0;
        for (int i = 0; i < PAD; i++) err += flags[i] != 7;
        for (int b = 0; b < Q; b++) {
            const double want = gancl_coverage_ref(r, radius, R, q + b * D, 1, D);
            err += flags[PAD + b] != (int)want;
            count += flags[PAD + b];
        }
        if (count == 0 || count == Q) err += 1; /* the data must have both kinds */
        clReleaseMemObject(fl);
        clReleaseMemObject(pgq.mem);
        clReleaseMemObject(pqn.mem);
        clReleaseMemObject(prad.mem);
    }
    clReleaseMemObject(prn.mem);
    clReleaseMemObject(pgr.mem);
    return err;
}

static double check_knn_radius(const gancl_runtime *rt) { return knn_check(rt, 0); }
static double check_knn_inside(const gancl_runtime *rt) { return knn_check(rt, 1); }

/* A random fill (randn_fill, randu_fill) against its bit-exact reference; n not a multiple of 4,
 * so the tail is guarded. */
typedef void (*fill_fn)(const gancl_runtime *, gancl_ptr, size_t, uint32_t, uint32_t, uint32_t, uint32_t);
typedef void (*fill_ref_fn)(float *, size_t, uint32_t, uint32_t, uint32_t, uint32_t);

static double fill_check(const gancl_runtime *rt, fill_fn fill, fill_ref_fn ref_fill, size_t n) {
    float *ref = malloc(n * sizeof *ref);
    double *r = ALLOC(n);
    ref_fill(ref, n, 0x12345678u, 0x9abcdef0u, 7, 11);
    for (size_t i = 0; i < n; i++) r[i] = ref[i];
    gancl_ptr p = upload(rt, r, n);
    fill(rt, p, n, 0x12345678u, 0x9abcdef0u, 7, 11);
    double err = compare(rt, p, r, n);
    free(ref);
    free(r);
    return err;
}

static double check_randn(const gancl_runtime *rt) { return fill_check(rt, randn_fill, randn_ref, 4099); }
static double check_randu(const gancl_runtime *rt) { return fill_check(rt, randu_fill, randu_ref, 4097); }

static double gather_check(const gancl_runtime *rt, int unit) {
    const int count = 10, D = 13, B = 5;
    uint8_t img[130];
    int perm[2 + 5] = {0, 0, 7, 2, 9, 0, 4};
    double ref[65], zero[65] = {0};
    for (int i = 0; i < count * D; i++) img[i] = (uint8_t)(i * 37 + 3);
    for (int b = 0; b < B; b++)
        for (int k = 0; k < D; k++) ref[b * D + k] = unit ? img[perm[2 + b] * D + k] / 255.0 : img[perm[2 + b] * D + k] / 127.5 - 1.0;
    cl_mem dimg = gancl_buffer(rt, sizeof img), dperm = gancl_buffer(rt, sizeof perm);
    gancl_write(rt, dimg, 0, sizeof img, img);
    gancl_write(rt, dperm, 0, sizeof perm, perm);
    gancl_ptr p = upload(rt, zero, (size_t)B * D);
    gather_images(rt, p, dimg, dperm, 2, B, D, unit);
    double err = compare(rt, p, ref, (size_t)B * D);
    clReleaseMemObject(dimg);
    clReleaseMemObject(dperm);
    return err;
}

static double check_gather(const gancl_runtime *rt) { return max2(gather_check(rt, 0), gather_check(rt, 1)); }

/* The K+1 losses as the semi-supervised GAN weights them: real unlabelled rows (-1/2, 1/2) and
 * fakes (0, 1/2), logits spread wide enough that lse crosses 0 both ways. */
static double kplus1_check(const gancl_runtime *rt, float w_lse, float w_sp) {
    const int B = 13, K = 10;
    uint64_t rng = 71;
    double *l = ALLOC(B * K), *d = ALLOC(B * K), want[GANCL_N_ACC_CHECK] = {0};
    fill(l, B * K, &rng, -9, 6);
    cl_mem pacc = gancl_buffer(rt, sizeof(float) * GANCL_N_ACC_CHECK);
    float zero[GANCL_N_ACC_CHECK] = {0}, got[GANCL_N_ACC_CHECK];
    gancl_write(rt, pacc, 0, sizeof zero, zero);
    gancl_ptr pl = upload(rt, l, B * K), pd = upload(rt, d, B * K);
    kplus1_loss(rt, pd, pl, B, K, w_lse, w_sp, 0.5f, pacc, 0, 0.75f, 2);
    want[0] = 0.75 * kplus1_loss_ref(d, l, B, K, w_lse, w_sp, 0.5, &want[2]);
    gancl_read(rt, pacc, 0, sizeof got, got);
    double err = compare(rt, pd, d, B * K);
    for (int i = 0; i < GANCL_N_ACC_CHECK; i++) err = max2(err, fabs(got[i] - want[i]) / (1 + fabs(want[i])));
    clReleaseMemObject(pl.mem);
    clReleaseMemObject(pacc);
    free(l);
    free(d);
    return err;
}

static double check_kplus1(const gancl_runtime *rt) {
    return max2(kplus1_check(rt, -0.5f, 0.5f), kplus1_check(rt, 0.0f, 0.5f));
}

static double check_feature_match(const gancl_runtime *rt) {
    const int B = 7, F = 37;
    uint64_t rng = 73;
    double *real = ALLOC(B * F), *fake = ALLOC(B * F), *d = ALLOC(B * F), sq[37], loss_want;
    fill(real, B * F, &rng, 0, 3);
    fill(fake, B * F, &rng, 0, 2);
    loss_want = feature_match_ref(d, real, fake, B, F, 0.5);
    for (int k = 0; k < F; k++) {
        double sr = 0, sf = 0;
        for (int b = 0; b < B; b++) sr += real[b * F + k], sf += fake[b * F + k];
        sq[k] = (sf - sr) / B * (sf - sr) / B;
    }
    gancl_ptr pr = upload(rt, real, B * F), pf = upload(rt, fake, B * F), pd = upload(rt, d, B * F);
    double zeros[37] = {0};
    gancl_ptr ps = upload(rt, zeros, F);
    cl_mem pacc = gancl_buffer(rt, sizeof(float));
    float zero = 0, got;
    gancl_write(rt, pacc, 0, sizeof zero, &zero);
    feature_match(rt, pd, ps, pr, pf, B, F, 0.5f);
    gp_sum(rt, pacc, 0, ps, F, 1.0f);
    gancl_read(rt, pacc, 0, sizeof got, &got);
    double err = max2(compare(rt, pd, d, B * F), compare(rt, ps, sq, F));
    err = max2(err, fabs(got - loss_want) / (1 + loss_want));
    clReleaseMemObject(pr.mem);
    clReleaseMemObject(pf.mem);
    clReleaseMemObject(pacc);
    free(real);
    free(fake);
    free(d);
    return err;
}

const gancl_check GANCL_CHECKS[] = {
    {"gemm clblast A B", check_clblast_00, 1e-4, -1},
    {"gemm clblast A B^T", check_clblast_01, 1e-4, -1},
    {"gemm clblast A^T B", check_clblast_10, 1e-4, -1},
    {"gemm clblast A^T B^T", check_clblast_11, 1e-4, -1},
    {"gemm matmul A B", check_matmul_00, 1e-4, -1},
    {"gemm matmul A B^T", check_matmul_01, 1e-4, -1},
    {"gemm matmul A^T B", check_matmul_10, 1e-4, -1},
    {"gemm matmul A^T B^T", check_matmul_11, 1e-4, -1},
    {"gemm tiled-4x4 A B", check_tiled_4x4_00, 1e-4, -1},
    {"gemm tiled-4x4 A B^T", check_tiled_4x4_01, 1e-4, -1},
    {"gemm tiled-4x4 A^T B", check_tiled_4x4_10, 1e-4, -1},
    {"gemm tiled-4x4 A^T B^T", check_tiled_4x4_11, 1e-4, -1},
    {"gemm xn-8x32 A B", check_xn_8x32_00, 1e-4, -1},
    {"gemm xn-8x32 A^T B", check_xn_8x32_10, 1e-4, -1},
    {"gemm xn-4x64 A B", check_xn_4x64_00, 1e-4, -1},
    {"gemm xn-4x64 A^T B", check_xn_4x64_10, 1e-4, -1},
    {"gemm xn-6x32 A B", check_xn_6x32_00, 1e-4, -1},
    {"gemm xn-6x32 A^T B", check_xn_6x32_10, 1e-4, -1},
    {"gemm xn-4x32 A B", check_xn_4x32_00, 1e-4, -1},
    {"gemm xn-4x32 A^T B", check_xn_4x32_10, 1e-4, -1},
    {"gemm xn-6x16 A B", check_xn_6x16_00, 1e-4, -1},
    {"gemm xn-6x16 A^T B", check_xn_6x16_10, 1e-4, -1},
    {"gemm xn-4x16 A B", check_xn_4x16_00, 1e-4, -1},
    {"gemm xn-4x16 A^T B", check_xn_4x16_10, 1e-4, -1},
    {"gemm nt-4x4 A B^T", check_nt_4x4_01, 1e-4, -1},
    {"gemm nt-3x4 A B^T", check_nt_3x4_01, 1e-4, -1},
    {"gemm nt-2x4 A B^T", check_nt_2x4_01, 1e-4, -1},
    {"gemm nt-4x2 A B^T", check_nt_4x2_01, 1e-4, -1},
    {"gemm nt-2x2 A B^T", check_nt_2x2_01, 1e-4, -1},
    {"gemm blk-64x32 A B", check_blk_64x32_00, 1e-4, -1},
    {"gemm blk-64x32 A B^T", check_blk_64x32_01, 1e-4, -1},
    {"gemm blk-64x32 A^T B", check_blk_64x32_10, 1e-4, -1},
    {"gemm blk-64x32 A^T B^T", check_blk_64x32_11, 1e-4, -1},
    {"gemm pk-8x32 A B", check_pk_8x32_00, 1e-4, -1},
    {"gemm pk-8x32 A B^T", check_pk_8x32_01, 1e-4, -1},
    {"gemm pk-8x32 A^T B", check_pk_8x32_10, 1e-4, -1},
    {"gemm pk-8x32 A^T B^T", check_pk_8x32_11, 1e-4, -1},
    {"gemm pk-6x16 A B", check_pk_6x16_00, 1e-4, -1},
    {"gemm pk-6x16 A B^T", check_pk_6x16_01, 1e-4, -1},
    {"gemm pk-6x16 A^T B", check_pk_6x16_10, 1e-4, -1},
    {"gemm pk-6x16 A^T B^T", check_pk_6x16_11, 1e-4, -1},
    {"gemm pb-8x32 A B", check_pb_8x32_00, 1e-4, -1},
    {"gemm pb-8x32 A B^T", check_pb_8x32_01, 1e-4, -1},
    {"gemm pb-8x32 A^T B", check_pb_8x32_10, 1e-4, -1},
    {"gemm pb-8x32 A^T B^T", check_pb_8x32_11, 1e-4, -1},
    {"gemm pb-6x16 A B", check_pb_6x16_00, 1e-4, -1},
    {"gemm pb-6x16 A B^T", check_pb_6x16_01, 1e-4, -1},
    {"gemm pb-6x16 A^T B", check_pb_6x16_10, 1e-4, -1},
    {"gemm pb-6x16 A^T B^T", check_pb_6x16_11, 1e-4, -1},
    {"gemm pt-8x32 A B", check_pt_8x32_00, 1e-4, -1},
    {"gemm pt-8x32 A B^T", check_pt_8x32_01, 1e-4, -1},
    {"gemm pt-8x32 A^T B", check_pt_8x32_10, 1e-4, -1},
    {"gemm pt-8x32 A^T B^T", check_pt_8x32_11, 1e-4, -1},
    {"gemm pt-6x16 A B", check_pt_6x16_00, 1e-4, -1},
    {"gemm pt-6x16 A B^T", check_pt_6x16_01, 1e-4, -1},
    {"gemm pt-6x16 A^T B", check_pt_6x16_10, 1e-4, -1},
    {"gemm pt-6x16 A^T B^T", check_pt_6x16_11, 1e-4, -1},
    {"linear+leaky forward", check_linear_leaky, 1e-5, -1},
    {"linear+tanh forward", check_linear_tanh, 1e-5, -1},
    {"linear forward", check_linear_none, 1e-5, -1},
    {"linear+leaky backward", check_linear_leaky_bw, 1e-5, 0},
    {"linear+tanh backward", check_linear_tanh_bw, 1e-5, 0},
    {"linear backward", check_linear_none_bw, 1e-5, 0},
    {"batchnorm forward (train)", check_bn_train, 1e-5, 0},
    {"batchnorm forward (eval)", check_bn_eval, 1e-5, 0},
    {"batchnorm backward", check_bn_backward, 1e-5, 0},
    {"bias+leaky+batchnorm forward (train)", check_bn_fused_train, 1e-5, 0},
    {"bias+leaky+batchnorm forward (eval)", check_bn_fused_eval, 1e-5, 0},
    {"bias+leaky+batchnorm backward", check_bn_fused_backward, 1e-5, 0},
    {"batchnorm2d forward (train)", check_bn2d_train, 1e-5, 0},
    {"batchnorm2d forward (eval)", check_bn2d_eval, 1e-5, 0},
    {"batchnorm2d backward", check_bn2d_backward, 1e-5, 0},
    {"bias+leaky+batchnorm2d S=21 forward (train)", check_bn2d_long_train, 1e-5, 0},
    {"bias+leaky+batchnorm2d S=21 forward (eval)", check_bn2d_long_eval, 1e-5, 0},
    {"bias+leaky+batchnorm2d S=21 backward", check_bn2d_long_backward, 1e-5, 0},
    {"loss: bce on logits", check_bce, 1e-5, -1},
    {"loss: linear (wasserstein)", check_linear_loss, 1e-5, -1},
    {"loss: hinge", check_hinge, 1e-5, -1},
    {"rmsprop", check_rmsprop, 1e-5, -1},
    {"clip", check_clip, 0, -1},
    {"zero gradients", check_zero_grads, 0, -1},
    {"gp interpolate", check_gp_interpolate, 1e-6, -1},
    {"gp direction and sum", check_gp_direction, 1e-5, -1},
    {"adam", check_adam, 1e-5, -1},
    {"ema", check_ema, 1e-6, -1},
    {"randn (philox)", check_randn, 1e-5, -1},
    {"gather images ([-1, 1] and [0, 1])", check_gather, 1e-6, -1},
    {"conv2d forward (stride 2, 1)", check_conv_fw, 1e-5, 0},
    {"conv2d backward (stride 2, 1)", check_conv_bw, 1e-5, 0},
    {"conv-transpose2d forward (stride 2, 1)", check_convt_fw, 1e-5, 0},
    {"conv-transpose2d backward (stride 2, 1)", check_convt_bw, 1e-5, 0},
    {"conv2d forward (stride 2, 1) (packed GEMM)", check_conv_fw_pk, 1e-5, 0},
    {"conv2d backward (stride 2, 1) (packed GEMM)", check_conv_bw_pk, 1e-5, 0},
    {"conv-transpose2d backward (stride 2, 1) (packed GEMM)", check_convt_bw_pk, 1e-5, 0},
    {"dropout", check_dropout, 1e-6, -1},
    {"linear+relu/sigmoid/softplus forward", check_act_others, 1e-5, -1},
    {"linear+relu/sigmoid/softplus backward", check_act_others_bw, 1e-5, 0},
    {"gaussian noise", check_noise, 1e-5, -1},
    {"weight norm forward", check_weightnorm_fw, 1e-5, -1},
    {"weight norm backward", check_weightnorm_bw, 1e-5, -1},
    {"embedding concat forward", check_embed_fw, 0, -1},
    {"embedding concat backward", check_embed_bw, 1e-6, -1},
    {"projection output forward", check_projection_fw, 1e-5, -1},
    {"projection output backward", check_projection_bw, 1e-5, -1},
    {"maxpool2d forward", check_maxpool_fw, 0, -1},
    {"maxpool2d backward", check_maxpool_bw, 0, -1},
    {"softmax cross-entropy", check_softmax_xent, 1e-5, -1},
    {"k+1 class losses (ssgan)", check_kplus1, 1e-5, -1},
    {"feature matching (ssgan)", check_feature_match, 1e-5, -1},
    {"randu (philox)", check_randu, 1e-6, -1},
    {"k-nn radius (3rd neighbour)", check_knn_radius, 0, -1},
    {"k-nn inside the manifold", check_knn_inside, 0, -1},
    {"linear+leaky backward (GPU-shaped)", check_linear_leaky_bw, 1e-5, 1},
    {"linear+tanh backward (GPU-shaped)", check_linear_tanh_bw, 1e-5, 1},
    {"linear backward (GPU-shaped)", check_linear_none_bw, 1e-5, 1},
    {"batchnorm forward (train) (GPU-shaped)", check_bn_train, 1e-5, 1},
    {"batchnorm forward (eval) (GPU-shaped)", check_bn_eval, 1e-5, 1},
    {"batchnorm backward (GPU-shaped)", check_bn_backward, 1e-5, 1},
    {"bias+leaky+batchnorm forward (train) (GPU-shaped)", check_bn_fused_train, 1e-5, 1},
    {"bias+leaky+batchnorm forward (eval) (GPU-shaped)", check_bn_fused_eval, 1e-5, 1},
    {"bias+leaky+batchnorm backward (GPU-shaped)", check_bn_fused_backward, 1e-5, 1},
    {"batchnorm2d forward (train) (GPU-shaped)", check_bn2d_train, 1e-5, 1},
    {"batchnorm2d forward (eval) (GPU-shaped)", check_bn2d_eval, 1e-5, 1},
    {"batchnorm2d backward (GPU-shaped)", check_bn2d_backward, 1e-5, 1},
    {"bias+leaky+batchnorm2d S=21 backward (GPU-shaped)", check_bn2d_long_backward, 1e-5, 1},
    {"conv2d forward (stride 2, 1) (GPU-shaped)", check_conv_fw, 1e-5, 1},
    {"conv2d backward (stride 2, 1) (GPU-shaped)", check_conv_bw, 1e-5, 1},
    {"conv-transpose2d forward (stride 2, 1) (GPU-shaped)", check_convt_fw, 1e-5, 1},
    {"conv-transpose2d backward (stride 2, 1) (GPU-shaped)", check_convt_bw, 1e-5, 1},
    {"linear+relu/sigmoid/softplus backward (GPU-shaped)", check_act_others_bw, 1e-5, 1},
    {"gemm clblast, indirect kernel (last)", check_clblast_indirect, 1e-4, -1},
};
const int GANCL_N_CHECKS = sizeof GANCL_CHECKS / sizeof *GANCL_CHECKS;

double gancl_check_run(const gancl_check *c, const gancl_runtime *rt) {
    if (c->groups < 0) return c->run(rt);
    gancl_runtime r = *rt; /* the same device, program and queue; only the kernels of two shapes differ */
    r.gpu_shaped = c->groups;
    return c->run(&r);
}

int gancl_selftest_run(const gancl_runtime *rt, FILE *out) {
    int failures = 0;
    for (int i = 0; i < GANCL_N_CHECKS; i++) {
        double err = gancl_check_run(&GANCL_CHECKS[i], rt);
        int pass = err <= GANCL_CHECKS[i].tol;
        failures += !pass;
        fprintf(out, "  %-42s max error %.3e (tol %.0e)  %s\n", GANCL_CHECKS[i].name, err,
                GANCL_CHECKS[i].tol, pass ? "PASS" : "FAIL");
        fflush(out);
    }
    return failures;
}
