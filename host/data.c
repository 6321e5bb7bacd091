/* data.c: gathering training batches on the device (cl/data.cl). */
#include "gancl/layers.h"

void gather_images(const gancl_runtime *rt, gancl_ptr out, cl_mem images, cl_mem perm,
                   size_t perm_off, int B, int D, int unit) {
    cl_kernel k = gancl_kernel(rt, "gather_images");
    GANCL_LAUNCH_1D(rt, k, (size_t)B * D, GANCL_P(out), GANCL_A(images), GANCL_A(perm),
                    GANCL_V(cl_uint, perm_off), GANCL_A(B), GANCL_A(D), GANCL_A(unit));
}
