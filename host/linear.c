/* linear.c: the fully connected layer with its fused bias + activation (cl/activation.cl),
 * on the device (GEMMs through gemm.h) and as a C reference. */
#include "gancl/gemm.h"
#include "gancl/layers.h"

#include <math.h>

void linear_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight,
                    gancl_ptr bias, int B, int IN, int OUT, gancl_act act, float slope) {
    // out[B, OUT] = inp[B, IN] @ weight[OUT, IN]^T
    gancl_gemm(rt, 0, 1, B, OUT, IN, 1.0f, inp.mem, inp.off, weight.mem, weight.off, 0.0f,
               out.mem, out.off);
    bias_act_forward(rt, out, bias, B, OUT, act, slope);
}

void bias_act_forward(const gancl_runtime *rt, gancl_ptr y, gancl_ptr bias, int B, int N,
                      gancl_act act, float slope) {
    if (!bias.mem && act == GANCL_ACT_NONE) return;
    cl_kernel k = gancl_kernel(rt, "bias_act_forward");
    gancl_ptr b = bias.mem ? bias : y; /* any valid buffer when there is no bias */
    GANCL_LAUNCH_1D(rt, k, B * GANCL_LANE_GROUPS(N), GANCL_P(y), GANCL_P(b), GANCL_V(cl_int, bias.mem != NULL),
                    GANCL_A(B), GANCL_A(N), GANCL_V(cl_int, act), GANCL_A(slope));
}

void bias_act_backward(const gancl_runtime *rt, gancl_ptr dout, gancl_ptr out, gancl_ptr dbias,
                       int B, int N, gancl_act act, float slope) {
    if (!dbias.mem && act == GANCL_ACT_NONE) return;
    gancl_ptr db = dbias.mem ? dbias : dout; /* any valid buffer when there is no dbias */
    GANCL_LAUNCH_REDUCTION(rt, "bias_act_backward", (size_t)N, GANCL_LANES, GANCL_P(dout), GANCL_P(out), GANCL_P(db),
                           GANCL_V(cl_int, dbias.mem != NULL), GANCL_A(B), GANCL_A(N), GANCL_V(cl_int, act),
                           GANCL_A(slope));
}

void linear_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dbias,
                     gancl_ptr dout, gancl_ptr out, gancl_ptr inp, gancl_ptr weight, int B,
                     int IN, int OUT, gancl_act act, float slope) {
    // dout[B, OUT] <- dout * act'(out); dbias[OUT] += column sums
    bias_act_backward(rt, dout, out, dbias, B, OUT, act, slope);
    // dweight[OUT, IN] += dout^T[OUT, B] @ inp[B, IN]
    if (dweight.mem)
        gancl_gemm(rt, 1, 0, OUT, IN, B, 1.0f, dout.mem, dout.off, inp.mem, inp.off, 1.0f,
                   dweight.mem, dweight.off);
    // dinp[B, IN] = dout[B, OUT] @ weight[OUT, IN]
    if (dinp.mem)
        gancl_gemm(rt, 0, 0, B, IN, OUT, 1.0f, dout.mem, dout.off, weight.mem, weight.off, 0.0f,
                   dinp.mem, dinp.off);
}

double gancl_act_ref(gancl_act act, double v, double slope) {
    switch (act) {
    case GANCL_ACT_LEAKY: return v > 0 ? v : slope * v;
    case GANCL_ACT_TANH: return tanh(v);
    case GANCL_ACT_RELU: return v > 0 ? v : 0;
    case GANCL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case GANCL_ACT_SOFTPLUS: return v > 20 ? v : log1p(exp(v));
    default: return v;
    }
}

double gancl_act_grad_ref(gancl_act act, double y, double slope) {
    switch (act) {
    case GANCL_ACT_LEAKY: return y > 0 ? 1.0 : slope;
    case GANCL_ACT_TANH: return 1.0 - y * y;
    case GANCL_ACT_RELU: return y > 0 ? 1.0 : 0.0;
    case GANCL_ACT_SIGMOID: return y * (1.0 - y);
    case GANCL_ACT_SOFTPLUS: return 1.0 - exp(-y);
    default: return 1.0;
    }
}

void linear_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                        int B, int IN, int OUT, gancl_act act, double slope) {
    for (int b = 0; b < B; b++)
        for (int o = 0; o < OUT; o++) {
            double v = bias ? bias[o] : 0.0;
            for (int i = 0; i < IN; i++) v += inp[b * IN + i] * weight[o * IN + i];
            out[b * OUT + o] = gancl_act_ref(act, v, slope);
        }
}

void linear_backward_ref(double *dinp, double *dweight, double *dbias, double *dout,
                         const double *out, const double *inp, const double *weight, int B,
                         int IN, int OUT, gancl_act act, double slope) {
    for (int i = 0; i < B * OUT; i++) dout[i] *= gancl_act_grad_ref(act, out[i], slope);
    for (int b = 0; b < B; b++)
        for (int o = 0; o < OUT; o++) {
            double g = dout[b * OUT + o];
            if (dbias) dbias[o] += g;
            if (dweight)
                for (int i = 0; i < IN; i++) dweight[o * IN + i] += g * inp[b * IN + i];
        }
    if (dinp)
        for (int b = 0; b < B; b++)
            for (int i = 0; i < IN; i++) {
                double s = 0;
                for (int o = 0; o < OUT; o++) s += dout[b * OUT + o] * weight[o * IN + i];
                dinp[b * IN + i] = s;
            }
}
