/* batchnorm.c: BatchNorm over the batch per feature (cl/batchnorm.cl) and its C reference. */
#include "gancl/layers.h"

#include <math.h>

void batchnorm_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr gb,
                       gancl_ptr saved, gancl_ptr running, int B, int N, float eps,
                       float momentum, int training) {
    cl_kernel k = gancl_kernel(rt, "batchnorm_forward");
    cl_uint y_off = (cl_uint)out.off, x_off = (cl_uint)inp.off, gb_off = (cl_uint)gb.off;
    cl_uint s_off = (cl_uint)saved.off, r_off = (cl_uint)running.off;
    cl_int tr = training;
    GANCL_ARG(k, 0, out.mem);
    GANCL_ARG(k, 1, y_off);
    GANCL_ARG(k, 2, inp.mem);
    GANCL_ARG(k, 3, x_off);
    GANCL_ARG(k, 4, gb.mem);
    GANCL_ARG(k, 5, gb_off);
    GANCL_ARG(k, 6, saved.mem);
    GANCL_ARG(k, 7, s_off);
    GANCL_ARG(k, 8, running.mem);
    GANCL_ARG(k, 9, r_off);
    GANCL_ARG(k, 10, B);
    GANCL_ARG(k, 11, N);
    GANCL_ARG(k, 12, eps);
    GANCL_ARG(k, 13, momentum);
    GANCL_ARG(k, 14, tr);
    gancl_launch_1d(rt, k, (size_t)N);
}

void batchnorm_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dgb, gancl_ptr dout,
                        gancl_ptr inp, gancl_ptr gb, gancl_ptr saved, int B, int N) {
    cl_kernel k = gancl_kernel(rt, "batchnorm_backward");
    cl_uint dx_off = (cl_uint)dinp.off, dy_off = (cl_uint)dout.off, x_off = (cl_uint)inp.off;
    cl_uint gb_off = (cl_uint)gb.off, dgb_off = (cl_uint)dgb.off, s_off = (cl_uint)saved.off;
    GANCL_ARG(k, 0, dinp.mem);
    GANCL_ARG(k, 1, dx_off);
    GANCL_ARG(k, 2, dout.mem);
    GANCL_ARG(k, 3, dy_off);
    GANCL_ARG(k, 4, inp.mem);
    GANCL_ARG(k, 5, x_off);
    GANCL_ARG(k, 6, gb.mem);
    GANCL_ARG(k, 7, gb_off);
    GANCL_ARG(k, 8, dgb.mem);
    GANCL_ARG(k, 9, dgb_off);
    GANCL_ARG(k, 10, saved.mem);
    GANCL_ARG(k, 11, s_off);
    GANCL_ARG(k, 12, B);
    GANCL_ARG(k, 13, N);
    gancl_launch_1d(rt, k, (size_t)N);
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
