/* batchnorm.c: BatchNorm over the batch per feature, fused with the bias and activation before
 * it (cl/batchnorm.cl), and its C reference. */
#include "gancl/layers.h"

#include <math.h>
#include <stdio.h>

/* kernel `name` over N features of S positions (args: its n arguments, S last): on a CPU its
 * _planes twin, one work item per channel, when S > 1, else the kernel itself, one item per
 * LANES features, which takes no S; on a GPU the _wg twin, a work group per feature */
static void launch(const gancl_runtime *rt, const char *name, int N, int S, const gancl_karg *args, int n) {
    if (rt->gpu_shaped) {
        gancl_launch_reduction(rt, name, (size_t)N, GANCL_LANES, args, n);
    } else if (S > 1) {
        char planes[64];
        snprintf(planes, sizeof planes, "%s_planes", name);
        cl_kernel k = gancl_kernel(rt, planes);
        gancl_set_args(k, args, n);
        gancl_launch_items(rt, k, (size_t)N, 1);
    } else {
        gancl_launch_reduction(rt, name, (size_t)N, GANCL_LANES, args, n - 1);
    }
}

void batchnorm_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr bias,
                       gancl_ptr gb, gancl_ptr saved, gancl_ptr running, int B, int N, float eps,
                       float momentum, int training, gancl_act act, float slope, int S) {
    gancl_ptr b = bias.mem ? bias : gb; /* any valid buffer when there is no bias */
    const gancl_karg args[] = {GANCL_P(out), GANCL_P(inp), GANCL_P(b), GANCL_V(cl_int, bias.mem != NULL),
                               GANCL_P(gb), GANCL_P(saved), GANCL_P(running), GANCL_A(B), GANCL_A(N),
                               GANCL_A(eps), GANCL_A(momentum), GANCL_A(training), GANCL_V(cl_int, act),
                               GANCL_A(slope), GANCL_A(S)};
    launch(rt, "batchnorm_forward", N, S, args, (int)(sizeof args / sizeof *args));
}

void batchnorm_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dgb, gancl_ptr dbias,
                        gancl_ptr dout, gancl_ptr inp, gancl_ptr gb, gancl_ptr saved, int B, int N,
                        gancl_act act, float slope, int S) {
    gancl_ptr db = dbias.mem ? dbias : dgb; /* any valid buffer when there is no dbias */
    const gancl_karg args[] = {GANCL_P(dinp), GANCL_P(dout), GANCL_P(inp), GANCL_P(gb), GANCL_P(dgb), GANCL_P(db),
                               GANCL_V(cl_int, dbias.mem != NULL), GANCL_P(saved), GANCL_A(B), GANCL_A(N),
                               GANCL_V(cl_int, act), GANCL_A(slope), GANCL_A(S)};
    launch(rt, "batchnorm_backward", N, S, args, (int)(sizeof args / sizeof *args));
}

/* The v-th of the B*S values of feature j in [B, N, S]. */
#define AT(v) (((v) / S * N + j) * S + (v) % S)

void batchnorm_forward_ref(double *out, double *saved, double *running, double *inp,
                           const double *bias, const double *gb, int B, int N, double eps,
                           double momentum, int training, gancl_act act, double slope, int S) {
    const int M = B * S;
    for (int j = 0; j < N; j++) {
        if (bias || act != GANCL_ACT_NONE)
            for (int v = 0; v < M; v++) inp[AT(v)] = gancl_act_ref(act, inp[AT(v)] + (bias ? bias[j] : 0), slope);
        double mean, invstd;
        if (training) {
            double s = 0, ss = 0;
            for (int v = 0; v < M; v++) s += inp[AT(v)];
            mean = s / M;
            for (int v = 0; v < M; v++) ss += (inp[AT(v)] - mean) * (inp[AT(v)] - mean);
            invstd = 1.0 / sqrt(ss / M + eps);
            saved[j] = mean;
            saved[N + j] = invstd;
            running[j] = (1 - momentum) * running[j] + momentum * mean;
            running[N + j] = (1 - momentum) * running[N + j] + momentum * (M > 1 ? ss / (M - 1) : ss);
        } else {
            mean = running[j];
            invstd = 1.0 / sqrt(running[N + j] + eps);
        }
        for (int v = 0; v < M; v++) out[AT(v)] = gb[j] * (inp[AT(v)] - mean) * invstd + gb[N + j];
    }
}

void batchnorm_backward_ref(double *dinp, double *dgb, double *dbias, const double *dout,
                            const double *inp, const double *gb, const double *saved, int B, int N,
                            gancl_act act, double slope, int S) {
    const int M = B * S;
    for (int j = 0; j < N; j++) {
        double mean = saved[j], invstd = saved[N + j], sdy = 0, sdyx = 0;
        for (int v = 0; v < M; v++) {
            sdy += dout[AT(v)];
            sdyx += dout[AT(v)] * (inp[AT(v)] - mean) * invstd;
        }
        dgb[j] += sdyx;
        dgb[N + j] += sdy;
        for (int v = 0; v < M; v++) {
            double xhat = (inp[AT(v)] - mean) * invstd;
            double d = gb[j] * invstd / M * (M * dout[AT(v)] - sdy - xhat * sdyx);
            dinp[AT(v)] = d * gancl_act_grad_ref(act, inp[AT(v)], slope);
            if (dbias) dbias[j] += dinp[AT(v)];
        }
    }
}
#undef AT
