/* embed.c: class embeddings (cl/embed.cl), the conditional models' label input: concatenated
 * to a layer's input, or projected onto a discriminator's features. Dimensions: B rows, IN
 * input features, E embedding size; the projection's F features. */
#include "gancl/layers.h"

void embed_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr table, gancl_ptr labels,
                   int B, int IN, int E, int classes) {
    cl_kernel k = gancl_kernel(rt, "embed_forward");
    gancl_ptr t = table.mem ? table : out; /* any valid buffer when there is no table */
    GANCL_LAUNCH_1D(rt, k, (size_t)B * (IN + E), GANCL_P(out), GANCL_P(inp), GANCL_P(t),
                    GANCL_V(cl_int, table.mem != NULL), GANCL_P(labels), GANCL_A(B), GANCL_A(IN), GANCL_A(E),
                    GANCL_A(classes));
}

void embed_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dtable, gancl_ptr dout, gancl_ptr labels,
                    int B, int IN, int E, int classes) {
    if (dinp.mem) {
        cl_kernel k = gancl_kernel(rt, "embed_backward_input");
        GANCL_LAUNCH_1D(rt, k, (size_t)B * IN, GANCL_P(dinp), GANCL_P(dout), GANCL_A(B), GANCL_A(IN), GANCL_A(E));
    }
    if (dtable.mem) {
        cl_kernel k = gancl_kernel(rt, "embed_backward_table");
        GANCL_LAUNCH_1D(rt, k, (size_t)classes * E, GANCL_P(dtable), GANCL_P(dout), GANCL_P(labels), GANCL_A(B),
                        GANCL_A(IN), GANCL_A(E), GANCL_A(classes));
    }
}

void projection_forward(const gancl_runtime *rt, gancl_ptr out, gancl_ptr inp, gancl_ptr weight, gancl_ptr bias,
                        gancl_ptr table, gancl_ptr labels, int B, int F, int classes) {
    cl_kernel k = gancl_kernel(rt, "projection_forward");
    gancl_ptr b = bias.mem ? bias : weight; /* any valid buffer when there is no bias */
    GANCL_LAUNCH_1D(rt, k, (size_t)B, GANCL_P(out), GANCL_P(inp), GANCL_P(weight), GANCL_P(b),
                    GANCL_V(cl_int, bias.mem != NULL), GANCL_P(table), GANCL_P(labels), GANCL_A(B), GANCL_A(F),
                    GANCL_A(classes));
}

void projection_backward(const gancl_runtime *rt, gancl_ptr dinp, gancl_ptr dweight, gancl_ptr dbias,
                         gancl_ptr dtable, gancl_ptr dout, gancl_ptr inp, gancl_ptr weight, gancl_ptr table,
                         gancl_ptr labels, int B, int F, int classes) {
    /* the parameters first: dinp may be inp's buffer (the tangent pass) */
    if (dweight.mem) {
        cl_kernel k = gancl_kernel(rt, "projection_backward_params");
        gancl_ptr db = dbias.mem ? dbias : dweight;
        GANCL_LAUNCH_1D(rt, k, (size_t)F * (1 + classes) + 1, GANCL_P(dweight), GANCL_P(db),
                        GANCL_V(cl_int, dbias.mem != NULL), GANCL_P(dtable), GANCL_P(dout), GANCL_P(inp),
                        GANCL_P(labels), GANCL_A(B), GANCL_A(F), GANCL_A(classes));
    }
    if (dinp.mem) {
        cl_kernel k = gancl_kernel(rt, "projection_backward_input");
        GANCL_LAUNCH_1D(rt, k, (size_t)B * F, GANCL_P(dinp), GANCL_P(dout), GANCL_P(weight), GANCL_P(table),
                        GANCL_P(labels), GANCL_A(B), GANCL_A(F), GANCL_A(classes));
    }
}

/* ---- C references ---- */

void projection_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                            const double *table, const int *labels, int B, int F, int classes) {
    for (int b = 0; b < B; b++) {
        const double *e = table + (size_t)gancl_label_clamp(labels[b], classes) * F;
        double s = bias ? bias[0] : 0;
        for (int f = 0; f < F; f++) s += (weight[f] + e[f]) * inp[(size_t)b * F + f];
        out[b] = s;
    }
}

void projection_backward_ref(double *dinp, double *dweight, double *dbias, double *dtable, const double *dout,
                             const double *inp, const double *weight, const double *table, const int *labels,
                             int B, int F, int classes) {
    for (int b = 0; b < B; b++) {
        const int k = gancl_label_clamp(labels[b], classes);
        for (int f = 0; f < F; f++) {
            const double x = inp[(size_t)b * F + f];
            if (dinp) dinp[(size_t)b * F + f] = dout[b] * (weight[f] + table[(size_t)k * F + f]);
            if (dweight) dweight[f] += dout[b] * x;
            if (dtable) dtable[(size_t)k * F + f] += dout[b] * x;
        }
        if (dbias) dbias[0] += dout[b];
    }
}
