/* gemm.h: row-major matrix products on the device, C = alpha * op(A) @ op(B) + beta * C,
 * with every operand given as (buffer, element offset) so tensors can share one buffer.
 * op(A) is M x K, op(B) is K x N, C is M x N; leading dimensions follow from the shapes:
 * lda = ta ? M : K, ldb = tb ? K : N, ldc = N. With beta == 0, C is not read.
 *
 * A GEMM runs by one of several methods: CLBlast, gan-cl's tiled kernel (matmul) or one of its
 * register-blocked kernels (cl/matmul.cl). `gan-cl tune` measures them on each GEMM shape a
 * model uses and stores the fastest correct one per shape (tune.h); the runtime's plan holds
 * those choices and gancl_gemm follows it. */
#ifndef GANCL_GEMM_H
#define GANCL_GEMM_H

#include "gancl/device.h"

/* Runs one GEMM with the runtime's method: the forced one (--gemm), else the plan's choice
 * for this shape, else CLBlast. */
void gancl_gemm(const gancl_runtime *rt, int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                cl_mem A, size_t a_off, cl_mem B, size_t b_off, float beta, cl_mem C, size_t c_off);
/* The method gancl_gemm runs this shape with (tuning it first when the plan meets it for the
 * first time and tunes on the fly). */
gancl_gemm_method gancl_gemm_choose(const gancl_runtime *rt, int ta, int tb, size_t M, size_t N, size_t K);
/* The same GEMM with a given method (which must support ta, tb). */
void gancl_gemm_with(const gancl_runtime *rt, gancl_gemm_method method, int ta, int tb, size_t M,
                     size_t N, size_t K, float alpha, cl_mem A, size_t a_off, cl_mem B, size_t b_off,
                     float beta, cl_mem C, size_t c_off);

/* The methods: 0 .. gancl_gemm_method_count() - 1 (GANCL_GEMM_CLBLAST, GANCL_GEMM_MATMUL, then
 * the register-blocked kernels); "auto" is GANCL_GEMM_AUTO. */
int gancl_gemm_method_count(void);
const char *gancl_gemm_method_name(gancl_gemm_method m);
/* The method called `name`, or -2 when there is none. */
gancl_gemm_method gancl_gemm_method_find(const char *name);
/* Whether method m handles these transposes (CLBlast and matmul handle all four). */
int gancl_gemm_method_supports(gancl_gemm_method m, int ta, int tb);
/* Whether m is one of the kernels blocked for CPUs, which spill registers on GPUs; and whether
 * it suits the device (a CPU-only method suits only CPU devices). Tuning measures and plans
 * only the methods that suit the device. */
int gancl_gemm_method_cpu_only(gancl_gemm_method m);
int gancl_gemm_method_suits(gancl_gemm_method m, const gancl_device_info *dev);
/* Whether m stages tiles in local memory (matmul, tiled-4x4): far slower than the blocked
 * kernels on CPUs, where the quick tune leaves it out. */
int gancl_gemm_method_gpu_shaped(gancl_gemm_method m);

/* One GEMM shape, and how often an iteration runs it. */
typedef struct {
    int ta, tb;
    size_t M, N, K;
    int count;
} gancl_gemm_shape;

/* Whether m packs op(B) into panels first (pk-, pb-). Such a GEMM also runs in steps, for an
 * op(B) that is not a matrix in memory (conv.c packs an im2col matrix straight from the image,
 * a chunk of it at a time): gancl_gemm_panels_begin packs op(A) [M, K] (pk-) and makes room in
 * the runtime's scratch buffer (returned) for op(B)'s panels of bn columns by bk steps of k, and
 * says where they go: from element *b_off, bn/width panels of bk x width (panel q, row k, lane
 * w: op(B)[k, width q + w]), zero past bn. Once they are written, gancl_gemm_panels_run computes
 * C[M, n] = alpha op(A)[:, k0 .. k0 + kn) op(B) + beta C from them, C's rows ldc apart (a block
 * of columns of a wider C, or a block of k added into C with beta 1). `whole` is the product
 * the steps make up (its transposes, M and K, and its name in the profile). */
int gancl_gemm_method_packs(gancl_gemm_method m);
/* m, or for a pt- method the pb- one on the same kernel: pt- reads op(B) where it lies, so for a
 * convolution it would need the im2col matrix written first, which the tuner's timing of the
 * product alone does not count (for the DCGAN's 128x1600x25088 weight gradient an im2col of 38
 * ms per iteration, to gain 7% on the product) */
gancl_gemm_method gancl_gemm_method_with_panels(gancl_gemm_method m);
cl_mem gancl_gemm_panels_begin(const gancl_runtime *rt, gancl_gemm_method m, int ta, size_t M, size_t K, cl_mem A,
                               size_t a_off, size_t bn, size_t bk, size_t *b_off, int *width);
void gancl_gemm_panels_run(const gancl_runtime *rt, gancl_gemm_method m, const gancl_gemm_shape *whole, size_t n,
                           size_t k0, size_t kn, float alpha, cl_mem A, size_t a_off, float beta, cl_mem C,
                           size_t c_off, size_t ldc);
/* Sends every CLBlast GEMM on rt's device, for the rest of the process, through CLBlast's
 * indirect kernel (Xgemm, on padded copies; indirect 1) or its direct one (XgemmDirect; 0),
 * where CLBlast would choose by size. CLBlast's status (0: done). */
int gancl_gemm_clblast_route(const gancl_runtime *rt, int indirect);
/* Grows (and writes once) the scratch buffer that m needs for this shape, so that timing m
 * (tune.c) does not count the allocation. Nothing for the methods that do not pack. */
void gancl_gemm_reserve(const gancl_runtime *rt, gancl_gemm_method m, size_t M, size_t N, size_t K);

#define GANCL_MAX_SHAPES 512
#define GANCL_GEMM_MAX_METHODS 32 /* the most GEMM methods there may be (gemm.c checks its table) */

/* The method chosen for each tuned shape. */
typedef struct gancl_gemm_plan {
    gancl_gemm_shape shapes[GANCL_MAX_SHAPES];
    gancl_gemm_method method[GANCL_MAX_SHAPES];
    int n;
} gancl_gemm_plan;

/* Tuning on the fly (tune.c sets it up for the AUTO method): gancl_gemm meeting a shape that
 * the plan has no choice for calls tune(rt, shape) first, which may add one to the plan. */
typedef struct gancl_tuner {
    void (*tune)(const gancl_runtime *rt, const gancl_gemm_shape *s);
    int off; /* set when tuning failed (no cache directory, a full plan): not tried again */
} gancl_tuner;

/* Index of the shape in the plan, or -1. */
int gancl_gemm_plan_find(const gancl_gemm_plan *p, int ta, int tb, size_t M, size_t N, size_t K);

/* The distinct shapes gancl_gemm is asked for while attached to a runtime (rt->shape_log);
 * while it is attached, GEMMs are only recorded, not run. */
typedef struct gancl_shape_log {
    gancl_gemm_shape shapes[GANCL_MAX_SHAPES];
    int n;
} gancl_shape_log;

/* The C reference: the same product on host arrays, accumulated in double. */
void gancl_gemm_ref(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A,
                    const float *B, float beta, float *C);

#endif
