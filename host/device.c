/* device.c: device enumeration and selection (--list-devices, --device), and the runtime:
 * context, queue, kernels, buffers and launches. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/device.h"
#include "gancl/profile.h"
#include "gancl/program.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const GANCL_NO_DEVICE_HINT =
    "no OpenCL device found.\n"
    "  hint: install an OpenCL driver (ICD): for the CPU, `sudo apt-get install pocl-opencl-icd`;\n"
    "        for a GPU, your vendor's driver (NVIDIA, AMD ROCm, intel-opencl-icd; Intel Gen8-11\n"
    "        iGPUs need the legacy compute runtime; Mesa's rusticl needs RUSTICL_ENABLE=<driver>).\n"
    "        `clinfo -l` shows what the ICD loader finds.";

static void info_str(cl_device_id d, cl_device_info what, char *out, size_t n) {
    out[0] = 0;
    if (clGetDeviceInfo(d, what, n, out, NULL) != CL_SUCCESS) snprintf(out, n, "?");
    out[n - 1] = 0;
}

static int has_extension(cl_device_id d, const char *ext) {
    size_t n = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &n) != CL_SUCCESS || n == 0) return 0;
    char *s = malloc(n + 1);
    if (!s) return 0;
    int found = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, n, s, NULL) == CL_SUCCESS) {
        s[n] = 0;
        size_t len = strlen(ext);
        for (char *p = strstr(s, ext); p && !found; p = strstr(p + 1, ext))
            found = (p == s || p[-1] == ' ') && (p[len] == ' ' || p[len] == 0);
    }
    free(s);
    return found;
}

static void describe(gancl_device_info *di, cl_platform_id p, cl_device_id d) {
    memset(di, 0, sizeof *di);
    di->platform = p;
    di->id = d;
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof di->platform_name, di->platform_name, NULL))
        strcpy(di->platform_name, "?");
    if (clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof di->platform_version,
                          di->platform_version, NULL))
        strcpy(di->platform_version, "?");
    di->platform_name[sizeof di->platform_name - 1] = 0;
    di->platform_version[sizeof di->platform_version - 1] = 0;
    info_str(d, CL_DEVICE_NAME, di->name, sizeof di->name);
    info_str(d, CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor);
    info_str(d, CL_DRIVER_VERSION, di->driver_version, sizeof di->driver_version);
    info_str(d, CL_DEVICE_VERSION, di->version, sizeof di->version);
    info_str(d, CL_DEVICE_OPENCL_C_VERSION, di->c_version, sizeof di->c_version);
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof di->type, &di->type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof di->compute_units, &di->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof di->global_mem, &di->global_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof di->max_alloc, &di->max_alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof di->local_mem, &di->local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof di->global_cache, &di->global_cache, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof di->max_work_group, &di->max_work_group, NULL);
    di->fp16 = has_extension(d, "cl_khr_fp16");
    di->fp64 = has_extension(d, "cl_khr_fp64");
}

int gancl_devices_list(gancl_device_info **devices, int *count) {
    *devices = NULL;
    *count = 0;
    cl_uint np = 0;
    if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0) return 0; /* e.g. -1001 */
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) return -1;
    if (clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS) np = 0;
    for (cl_uint i = 0; i < np; i++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue; /* CL_DEVICE_NOT_FOUND: a platform with no devices is skipped */
        cl_device_id *ids = calloc(nd, sizeof *ids);
        gancl_device_info *grown = realloc(*devices, (*count + nd) * sizeof **devices);
        if (!ids || !grown) {
            free(ids);
            free(grown ? grown : *devices);
            free(plats);
            *devices = NULL;
            *count = 0;
            return -1;
        }
        *devices = grown;
        if (clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, nd, ids, NULL) == CL_SUCCESS)
            for (cl_uint j = 0; j < nd; j++) describe(&(*devices)[(*count)++], plats[i], ids[j]);
        free(ids);
    }
    free(plats);
    return 0;
}

int gancl_devices_default(const gancl_device_info *devices, int count) {
    for (int i = 0; i < count; i++)
        if (devices[i].type & CL_DEVICE_TYPE_GPU) return i;
    return count > 0 ? 0 : -1;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

int gancl_devices_select(const gancl_device_info *devices, int count, const char *spec, char *err) {
    if (count == 0) {
        snprintf(err, GANCL_ERR_LEN, "%s", GANCL_NO_DEVICE_HINT);
        return -1;
    }
    if (!spec) return gancl_devices_default(devices, count);
    int numeric = spec[0] != 0;
    for (const char *p = spec; *p; p++) numeric &= isdigit((unsigned char)*p) != 0;
    if (numeric) {
        long idx = strtol(spec, NULL, 10);
        if (strlen(spec) < 6 && idx < count) return (int)idx;
        snprintf(err, GANCL_ERR_LEN, "--device %s: no such device (there %s %d, numbered 0 to %d)",
                 spec, count == 1 ? "is" : "are", count, count - 1);
        return -1;
    }
    for (int i = 0; i < count; i++)
        if (spec[0] && contains_nocase(devices[i].name, spec)) return i;
    snprintf(err, GANCL_ERR_LEN, "--device %s: no device name contains \"%s\"", spec, spec);
    return -1;
}

const char *gancl_device_type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "ACCEL";
    return "OTHER";
}

void gancl_devices_print(FILE *out, const gancl_device_info *d, int count) {
    int def = gancl_devices_default(d, count);
    for (int i = 0; i < count; i++) {
        fprintf(out, "%c[%d] %s  (%s, %s)\n", i == def ? '*' : ' ', i, d[i].name,
                gancl_device_type_name(d[i].type), d[i].platform_name);
        fprintf(out, "      compute units %u, global memory %.0f MiB, max allocation %.0f MiB, "
                     "max work-group %zu\n",
                d[i].compute_units, d[i].global_mem / 1048576.0, d[i].max_alloc / 1048576.0,
                d[i].max_work_group);
        fprintf(out, "      %s, driver %s, fp16 %s, fp64 %s\n", d[i].c_version, d[i].driver_version,
                d[i].fp16 ? "yes" : "no", d[i].fp64 ? "yes" : "no");
    }
    if (def >= 0) fprintf(out, "* = default device (the first GPU, else the first device)\n");
}

/* ---- runtime ---- */

void gancl_runtime_init(gancl_runtime *rt, const gancl_device_info *dev, gancl_gemm_method gemm) {
    memset(rt, 0, sizeof *rt);
    rt->dev = *dev;
    rt->gemm = gemm;
    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
    rt->context = clCreateContext(props, 1, &dev->id, NULL, NULL, &rc);
    CL_CHECK(rc);
    rt->queue = clCreateCommandQueue(rt->context, dev->id, CL_QUEUE_PROFILING_ENABLE, &rc);
    CL_CHECK(rc);
    /* Element-wise kernels use up to 256 items per group, never more than the device allows;
     * the matmul tile is 16x16 where a 256-item group fits, else 8x8. */
    rt->wg_size = dev->max_work_group < 256 ? dev->max_work_group : 256;
    rt->matmul_tile = dev->max_work_group >= 256 ? 16 : 8;
    rt->gpu_shaped = !(dev->type & CL_DEVICE_TYPE_CPU);
    /* a quarter of a CPU's last-level cache (on the 32 MiB L3 of a 2-core EPYC, 2 and 16 MiB
     * were 4-6% slower on the DCGAN than 8); GPUs take whole products */
    rt->panel_chunk = !rt->gpu_shaped && dev->global_cache ? (size_t)dev->global_cache / 4 : SIZE_MAX;
    rt->gemm_scratch = calloc(1, sizeof *rt->gemm_scratch);
    if (!rt->gemm_scratch) gancl_die("out of host memory");
    gancl_program_build(rt);
}

void gancl_runtime_free(gancl_runtime *rt) {
    gancl_profiler_free(rt);
    if (rt->gemm_scratch && rt->gemm_scratch->mem) clReleaseMemObject(rt->gemm_scratch->mem);
    free(rt->gemm_scratch);
    free(rt->gemm_plan);
    free(rt->tuner);
    for (int i = 0; i < rt->n_kernels; i++) clReleaseKernel(rt->kernels[i].kernel);
    free(rt->kernels);
    if (rt->program) clReleaseProgram(rt->program);
    if (rt->queue) clReleaseCommandQueue(rt->queue);
    if (rt->context) clReleaseContext(rt->context);
    memset(rt, 0, sizeof *rt);
}

cl_kernel gancl_kernel(const gancl_runtime *rt, const char *name) {
    for (int i = 0; i < rt->n_kernels; i++)
        if (strcmp(rt->kernels[i].name, name) == 0) return rt->kernels[i].kernel;
    gancl_die("kernel '%s' is not in the program (a kernel file in cl/ is out of date?)", name);
}

void gancl_set_args(cl_kernel k, const gancl_karg *args, int n) {
    for (int i = 0; i < n; i++) {
        cl_int rc = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS) {
            char name[64] = "?";
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
            fprintf(stderr, "gan-cl: error: setting argument %d of kernel %s:\n", i, name);
            gancl_cl_fail("clSetKernelArg", rc, __FILE__, __LINE__);
        }
    }
}

/* The runtime's entry for a kernel about to be launched (its name for the profile). */
static const gancl_named_kernel *launched(const gancl_runtime *rt, cl_kernel k) {
    for (int i = 0; i < rt->n_kernels; i++)
        if (rt->kernels[i].kernel == k) return &rt->kernels[i];
    gancl_die("a kernel from outside the runtime's program was launched");
}

void gancl_launch_1d(const gancl_runtime *rt, cl_kernel k, size_t n) {
    if (n == 0) return;
    const gancl_named_kernel *nk = launched(rt, k);
    size_t local = nk->wg_size;
    /* a small launch (one item per feature) in groups small enough to reach every compute
     * unit: PoCL runs a group on one core */
    const size_t share = (n + rt->dev.compute_units - 1) / rt->dev.compute_units;
    while (local > 32 && local / 2 >= share) local /= 2;
    size_t global = (n + local - 1) / local * local;
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, &local, 0, NULL,
                                    gancl_prof_event(rt, nk->name, 0)));
}

void gancl_launch_items(const gancl_runtime *rt, cl_kernel k, size_t n0, size_t n1) {
    if (n0 == 0 || n1 == 0) return;
    const gancl_named_kernel *nk = launched(rt, k);
    const size_t global[2] = {n0, n1}, local[2] = {1, 1};
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 2, NULL, global, local, 0, NULL,
                                    gancl_prof_event(rt, nk->name, 0)));
}

void gancl_launch_groups(const gancl_runtime *rt, cl_kernel k, size_t groups, cl_uint scratch_arg) {
    if (groups == 0) return;
    const gancl_named_kernel *nk = launched(rt, k);
    size_t local = 1;
    while (local * 2 <= nk->wg_size) local *= 2;
    CL_CHECK(clSetKernelArg(k, scratch_arg, 2 * local * sizeof(float), NULL));
    size_t global = groups * local;
    CL_CHECK(clEnqueueNDRangeKernel(rt->queue, k, 1, NULL, &global, &local, 0, NULL,
                                    gancl_prof_event(rt, nk->name, 0)));
}

void gancl_launch_reduction(const gancl_runtime *rt, const char *name, size_t n, size_t per_item,
                            const gancl_karg *args, int nargs) {
    char wg[80];
    snprintf(wg, sizeof wg, "%s_wg", name);
    cl_kernel k = gancl_kernel(rt, rt->gpu_shaped ? wg : name);
    gancl_set_args(k, args, nargs);
    if (rt->gpu_shaped) gancl_launch_groups(rt, k, n, (cl_uint)nargs);
    else gancl_launch_1d(rt, k, (n + per_item - 1) / per_item);
}

cl_mem gancl_buffer(const gancl_runtime *rt, size_t bytes) {
    if (bytes > rt->dev.max_alloc)
        gancl_die("a %.1f MiB buffer exceeds the device's max allocation of %.1f MiB\n"
                  "  hint: try a smaller --batch-size or another --device",
                  bytes / 1048576.0, rt->dev.max_alloc / 1048576.0);
    cl_int rc;
    cl_mem m = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &rc);
    CL_CHECK(rc);
    return m;
}

void gancl_write(const gancl_runtime *rt, cl_mem buf, size_t off, size_t bytes, const void *src) {
    if (bytes) CL_CHECK(clEnqueueWriteBuffer(rt->queue, buf, CL_TRUE, off, bytes, src, 0, NULL, NULL));
}

void gancl_read(const gancl_runtime *rt, cl_mem buf, size_t off, size_t bytes, void *dst) {
    if (bytes) CL_CHECK(clEnqueueReadBuffer(rt->queue, buf, CL_TRUE, off, bytes, dst, 0, NULL, NULL));
}
