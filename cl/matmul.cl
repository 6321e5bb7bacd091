/* matmul.cl: a plain tiled row-major GEMM, C = alpha * op(A) @ op(B) + beta * C.
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
