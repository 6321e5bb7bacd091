/* batchnorm.c: BatchNorm over the batch per feature (cl/batchnorm.cl) and its C reference. */
#include "gancl/layers.h"

#include <math.h>

void batchnorm_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr gb,
                       gancl_ptr saved, gancl_ptr running, int B, int N, float eps,
                       float momentum, int training) {
    cl_kernel k = gancl_kernel(rt, "batchnorm_forward");
    GANCL_LAUNCH_1D(rt, k, (size_t)N, GANCL_P(out), GANCL_P(inp), GANCL_P(gb), GANCL_P(saved),
                    GANCL_P(running), GANCL_A(B), GANCL_A(N), GANCL_A(eps), GANCL_A(momentum),
                    GANCL_A(training));
}

void batchnorm_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dgb, gancl_ptr dout,
                        gancl_ptr inp, gancl_ptr gb, gancl_ptr saved, int B, int N) {
    cl_kernel k = gancl_kernel(rt, "batchnorm_backward");
    GANCL_LAUNCH_1D(rt, k, (size_t)N, GANCL_P(dinp), GANCL_P(dout), GANCL_P(inp), GANCL_P(gb),
                    GANCL_P(dgb), GANCL_P(saved), GANCL_A(B), GANCL_A(N));
}

void batchnorm_forward_ref(double *out, double *saved, double *running, const double *inp,
                           const double *gb, int B, int N, double eps, double momentum,
                           int training) {
    for (int j = 0; j < N; j++) {
        double mean, invstd;
        if (training) {
            double s = 0, ss = 0;
            for (int b = 0; b < B; b++) s += inp[b * N + j];
            mean = s / B;
            for (int b = 0; b < B; b++) ss += (inp[b * N + j] - mean) * (inp[b * N + j] - mean);
            invstd = 1.0 / sqrt(ss / B + eps);
            saved[j] = mean;
            saved[N + j] = invstd;
            running[j] = (1 - momentum) * running[j] + momentum * mean;
            running[N + j] = (1 - momentum) * running[N + j] + momentum * (B > 1 ? ss / (B - 1) : ss);
        } else {
            mean = running[j];
            invstd = 1.0 / sqrt(running[N + j] + eps);
        }
        for (int b = 0; b < B; b++)
            out[b * N + j] = gb[j] * (inp[b * N + j] - mean) * invstd + gb[N + j];
    }
}

void batchnorm_backward_ref(double *dinp, double *dgb, const double *dout, const double *inp,
                            const double *gb, const double *saved, int B, int N) {
    for (int j = 0; j < N; j++) {
        double mean = saved[j], invstd = saved[N + j], sdy = 0, sdyx = 0;
        for (int b = 0; b < B; b++) {
            sdy += dout[b * N + j];
            sdyx += dout[b * N + j] * (inp[b * N + j] - mean) * invstd;
        }
        dgb[j] += sdyx;
        dgb[N + j] += sdy;
        for (int b = 0; b < B; b++) {
            double xhat = (inp[b * N + j] - mean) * invstd;
            dinp[b * N + j] = gb[j] * invstd / B * (B * dout[b * N + j] - sdy - xhat * sdyx);
        }
    }
}
