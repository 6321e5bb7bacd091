/* linear.c: the fully connected layer with its fused bias + activation (cl/activation.cl),
 * on the device (GEMMs through gemm.h) and as a C reference. */
#include "gancl/gemm.h"
#include "gancl/layers.h"

#include <math.h>

void linear_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight,
                    gancl_ptr bias, int B, int IN, int OUT, gancl_act act, float slope) {
    // out[B, OUT] = inp[B, IN] @ weight[OUT, IN]^T
    GANCL_GEMM(rt, 0, 1, B, OUT, IN, 1.0f, inp.mem, inp.off, weight.mem, weight.off, 0.0f,
               out.mem, out.off);
    if (!bias.mem && act == GANCL_ACT_NONE) return;
    cl_kernel k = gancl_kernel(rt, "bias_act_forward");
    cl_uint y_off = (cl_uint)out.off, b_off = (cl_uint)bias.off;
    cl_int has_bias = bias.mem != NULL, ia = act;
    cl_mem bmem = bias.mem ? bias.mem : out.mem;
    GANCL_ARG(k, 0, out.mem);
    GANCL_ARG(k, 1, y_off);
    GANCL_ARG(k, 2, bmem);
    GANCL_ARG(k, 3, b_off);
    GANCL_ARG(k, 4, has_bias);
    GANCL_ARG(k, 5, B);
    GANCL_ARG(k, 6, OUT);
    GANCL_ARG(k, 7, ia);
    GANCL_ARG(k, 8, slope);
    gancl_launch_1d(rt, k, (size_t)B * OUT);
}

void linear_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dbias,
                     gancl_ptr dout, gancl_ptr out, gancl_ptr inp, gancl_ptr weight, int B,
                     int IN, int OUT, gancl_act act, float slope) {
    // dout[B, OUT] <- dout * act'(out); dbias[OUT] += column sums
    if (dbias.mem || act != GANCL_ACT_NONE) {
        cl_kernel k = gancl_kernel(rt, "bias_act_backward");
        cl_uint dy_off = (cl_uint)dout.off, y_off = (cl_uint)out.off, db_off = (cl_uint)dbias.off;
        cl_int has_dbias = dbias.mem != NULL, ia = act;
        cl_mem dbmem = dbias.mem ? dbias.mem : dout.mem;
        GANCL_ARG(k, 0, dout.mem);
        GANCL_ARG(k, 1, dy_off);
        GANCL_ARG(k, 2, out.mem);
        GANCL_ARG(k, 3, y_off);
        GANCL_ARG(k, 4, dbmem);
        GANCL_ARG(k, 5, db_off);
        GANCL_ARG(k, 6, has_dbias);
        GANCL_ARG(k, 7, B);
        GANCL_ARG(k, 8, OUT);
        GANCL_ARG(k, 9, ia);
        GANCL_ARG(k, 10, slope);
        gancl_launch_1d(rt, k, (size_t)OUT);
    }
    // dweight[OUT, IN] += dout^T[OUT, B] @ inp[B, IN]
    if (dweight.mem)
        GANCL_GEMM(rt, 1, 0, OUT, IN, B, 1.0f, dout.mem, dout.off, inp.mem, inp.off, 1.0f,
                   dweight.mem, dweight.off);
    // dinp[B, IN] = dout[B, OUT] @ weight[OUT, IN]
    if (dinp.mem)
        GANCL_GEMM(rt, 0, 0, B, IN, OUT, 1.0f, dout.mem, dout.off, weight.mem, weight.off, 0.0f,
                   dinp.mem, dinp.off);
}

void linear_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                        int B, int IN, int OUT, gancl_act act, double slope) {
    for (int b = 0; b < B; b++)
        for (int o = 0; o < OUT; o++) {
            double v = bias ? bias[o] : 0.0;
            for (int i = 0; i < IN; i++) v += inp[b * IN + i] * weight[o * IN + i];
            if (act == GANCL_ACT_LEAKY) v = v > 0 ? v : slope * v;
            else if (act == GANCL_ACT_TANH) v = tanh(v);
            out[b * OUT + o] = v;
        }
}

void linear_backward_ref(double *dinp, double *dweight, double *dbias, double *dout,
                         const double *out, const double *inp, const double *weight, int B,
                         int IN, int OUT, gancl_act act, double slope) {
    for (int i = 0; i < B * OUT; i++) {
        if (act == GANCL_ACT_LEAKY) dout[i] *= out[i] > 0 ? 1.0 : slope;
        else if (act == GANCL_ACT_TANH) dout[i] *= 1.0 - out[i] * out[i];
    }
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
