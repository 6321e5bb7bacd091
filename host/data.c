/* data.c: gathering training batches on the device (cl/data.cl). */
#include "gancl/layers.h"

void gather_images(const gancl_runtime *rt, gancl_ptr out, cl_mem images, cl_mem perm,
                   size_t perm_off, int B, int D) {
    cl_kernel k = gancl_kernel(rt, "gather_images");
    cl_uint o = (cl_uint)out.off, p = (cl_uint)perm_off;
    GANCL_ARG(k, 0, out.mem);
    GANCL_ARG(k, 1, o);
    GANCL_ARG(k, 2, images);
    GANCL_ARG(k, 3, perm);
    GANCL_ARG(k, 4, p);
    GANCL_ARG(k, 5, B);
    GANCL_ARG(k, 6, D);
    gancl_launch_1d(rt, k, (size_t)B * D);
}
