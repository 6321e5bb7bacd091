/* embed.c: a class embedding concatenated to a layer's input (cl/embed.cl), the conditional
 * models' label input. Dimensions: B rows, IN input features, E embedding size. */
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
