/* gemm.c: the row-major GEMM helper over CLBlast or our tiled kernel, and its C reference. */
#include "gancl/gemm.h"
#include "gancl/profile.h"
#include "gancl/tune.h"

#include <clblast_c.h>

static void matmul_launch(const gancl_runtime *rt, int ta, int tb, size_t M, size_t N, size_t K,
                          float alpha, cl_mem A, size_t a_off, cl_mem B, size_t b_off, float beta,
                          cl_mem C, size_t c_off) {
    cl_kernel k = gancl_kernel(rt, "matmul");
    const gancl_karg args[] = {GANCL_V(cl_int, M), GANCL_V(cl_int, N), GANCL_V(cl_int, K),
                               GANCL_A(ta), GANCL_A(tb), GANCL_A(alpha), GANCL_A(A),
                               GANCL_V(cl_uint, a_off), GANCL_A(B), GANCL_V(cl_uint, b_off),
                               GANCL_A(beta), GANCL_A(C), GANCL_V(cl_uint, c_off)};
    gancl_set_args(k, args, (int)(sizeof args / sizeof *args));
    size_t t = (size_t)rt->matmul_tile;
    size_t local[2] = {t, t};
    size_t global[2] = {(N + t - 1) / t * t, (M + t - 1) / t * t};
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 2, NULL, global, local, 0, NULL,
                                    gancl_prof_event(rt, "gemm matmul", 2.0 * M * N * K)));
}

void gancl_gemm(const gancl_runtime *rt, gancl_gemm_backend backend, int ta, int tb, size_t M,
                size_t N, size_t K, float alpha, cl_mem A, size_t a_off, cl_mem B, size_t b_off,
                float beta, cl_mem C, size_t c_off) {
    if (M == 0 || N == 0) return;
    if (rt->shape_log) gancl_shape_log_add(rt->shape_log, ta, tb, M, N, K);
    if (backend == GANCL_GEMM_MATMUL || K == 0) {
        matmul_launch(rt, ta, tb, M, N, K, alpha, A, a_off, B, b_off, beta, C, c_off);
        return;
    }
    cl_command_queue q = rt->queue;
    const CLBlastTranspose at = ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    const CLBlastTranspose bt = tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    // CLBlast's indirect path pads and transposes into a temporary buffer; allocating one per
    // call made the allocator hold on to 1.5 GB on PoCL, so one buffer is kept and grown
    size_t need = 0;
    CLBLAST_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, at, bt, M, N, K, a_off, lda, b_off,
                                             ldb, c_off, N, &q, &need));
    struct gancl_scratch *s = rt->gemm_scratch;
    if (!s->mem || need > s->bytes) {
        if (s->mem) clReleaseMemObject(s->mem); /* kept alive by OpenCL until queued GEMMs finish */
        s->bytes = need > s->bytes * 2 ? need : s->bytes * 2;
        s->mem = gancl_buffer(rt, s->bytes ? s->bytes : 4);
    }
    cl_event begin = gancl_prof_span_begin(rt);
    CLBLAST_CHECK(CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, at, bt, M, N, K, alpha, A, a_off,
                                             lda, B, b_off, ldb, beta, C, c_off, N, &q, NULL, s->mem));
    gancl_prof_span_end(rt, begin, "gemm clblast", 2.0 * M * N * K);
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

const char *gancl_gemm_backend_name(gancl_gemm_backend b) {
    return b == GANCL_GEMM_MATMUL ? "matmul" : "clblast";
}
