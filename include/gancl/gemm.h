/* gemm.h: row-major matrix products on the device, C = alpha * op(A) @ op(B) + beta * C,
 * with every operand given as (buffer, element offset) so tensors can share one buffer.
 * op(A) is M x K, op(B) is K x N, C is M x N; leading dimensions follow from the shapes:
 * lda = ta ? M : K, ldb = tb ? K : N, ldc = N. The back end is CLBlast or cl/matmul.cl. */
#ifndef GANCL_GEMM_H
#define GANCL_GEMM_H

#include "gancl/device.h"

void gancl_gemm(const gancl_runtime *rt, gancl_gemm_backend backend, int ta, int tb, size_t M,
                size_t N, size_t K, float alpha, cl_mem A, size_t a_off, cl_mem B, size_t b_off,
                float beta, cl_mem C, size_t c_off);

/* The same with the runtime's chosen back end (--gemm). */
#define GANCL_GEMM(rt, ...) gancl_gemm((rt), (rt)->gemm, __VA_ARGS__)

/* The C reference: the same product on host arrays, accumulated in double. */
void gancl_gemm_ref(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A,
                    const float *B, float beta, float *C);

const char *gancl_gemm_backend_name(gancl_gemm_backend b);

#endif
