/* device.h: OpenCL devices and the runtime gan-cl computes with.
 * Devices are listed in one flat index over all platforms. A gancl_runtime owns the context,
 * the in-order queue, the compiled program of every kernel in cl/ and the GEMM back end. */
#ifndef GANCL_DEVICE_H
#define GANCL_DEVICE_H

#include "gancl/check.h"

#include <stddef.h>
#include <stdio.h>

typedef struct {
    cl_platform_id platform;
    cl_device_id id;
    char platform_name[128], platform_version[128];
    char name[128], vendor[128], driver_version[64], version[128], c_version[64];
    cl_device_type type;
    cl_uint compute_units;
    cl_ulong global_mem, max_alloc, local_mem, global_cache; /* global_cache: bytes, 0 if none */
    size_t max_work_group;
    int fp16, fp64;
} gancl_device_info;

/* All devices of all platforms. A missing ICD or platform is 0 devices, not an error.
 * The array is malloc'd (free it); returns -1 only on out-of-memory. */
int gancl_devices_list(gancl_device_info **devices, int *count);
/* Index of the default device: the first GPU, else the first device. -1 when count == 0. */
int gancl_devices_default(const gancl_device_info *devices, int count);
/* Resolves --device: NULL → default, digits → index, otherwise a case-insensitive substring of
 * the device name. -1 with `err` when out of range, no match or no devices. */
int gancl_devices_select(const gancl_device_info *devices, int count, const char *spec, char *err);
/* "GPU", "CPU", "ACCEL" or "OTHER". */
const char *gancl_device_type_name(cl_device_type type);
/* Prints the table shown by --list-devices. */
void gancl_devices_print(FILE *out, const gancl_device_info *devices, int count);
/* The install hint printed when no device is found. */
extern const char *const GANCL_NO_DEVICE_HINT;

/* How GEMMs are computed (gemm.h): AUTO follows the tuned per-shape plan (CLBlast where there
 * is none); any other value forces one method for every GEMM. */
typedef int gancl_gemm_method;
enum { GANCL_GEMM_AUTO = -1, GANCL_GEMM_CLBLAST = 0, GANCL_GEMM_MATMUL = 1 };

typedef enum {
    GANCL_CACHE_OFF = 0,   /* no cache directory available */
    GANCL_CACHE_HIT,       /* loaded a valid binary */
    GANCL_CACHE_MISS,      /* built from source, entry written */
    GANCL_CACHE_REBUILT,   /* an entry existed but was corrupt or stale: rebuilt and replaced */
} gancl_cache_status;

typedef struct {
    cl_kernel kernel;
    char name[64];
    size_t wg_size; /* the 1-D work-group size for this kernel: min(runtime's, kernel's limit) */
} gancl_named_kernel;

struct gancl_profiler;  /* profile.h */
struct gancl_shape_log; /* tune.h */
struct gancl_gemm_plan; /* gemm.h */
struct gancl_tuner;     /* gemm.h */

/* A device buffer that grows on demand (CLBlast's temporary buffer). */
struct gancl_scratch {
    cl_mem mem;
    size_t bytes;
};

typedef struct {
    gancl_device_info dev;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    gancl_named_kernel *kernels; /* every kernel of the program, by name */
    int n_kernels;
    size_t wg_size;    /* 1-D work-group size used for element-wise launches */
    int matmul_tile;   /* tile edge of cl/matmul.cl, chosen from the device's limits */
    int gpu_shaped;    /* GPU-shaped kernels: per-feature sums (BatchNorm, bias gradients) by
                          one work group per feature (the _wg kernels) instead of one work item
                          per feature, and im2col/col2im by one item per row instead of per
                          channel plane (the _planes kernels): set for every device that is
                          not a CPU */
    gancl_gemm_method gemm; /* --gemm */
    struct gancl_gemm_plan *gemm_plan; /* the method per GEMM shape chosen by `tune` (AUTO) */
    struct gancl_tuner *tuner; /* when set, a GEMM shape with no choice is tuned when first met */
    gancl_cache_status cache_status;
    char cache_path[4096]; /* cache entry used ("" when the cache is off) */
    struct gancl_profiler *prof; /* NULL unless profiling */
    struct gancl_shape_log *shape_log; /* when set, gancl_gemm records shapes instead of running */
    struct gancl_scratch *gemm_scratch; /* CLBlast's temporary buffer, kept between calls */
    size_t panel_chunk; /* the bytes of im2col panels (or col2im input) that a convolution writes
                           and reads back in one step, a chunk of the batch's images at a time, so
                           that they are still in the cache (conv.c); SIZE_MAX: whole batches */
} gancl_runtime;

/* Creates the context and queue on `dev` and builds (or loads from cache) all kernels.
 * Failures that a user can cause (no device memory, build failure) print a message and exit. */
void gancl_runtime_init(gancl_runtime *rt, const gancl_device_info *dev, gancl_gemm_method gemm);
void gancl_runtime_free(gancl_runtime *rt);
/* The kernel named `name`; exits with a message when the program has no such kernel. */
cl_kernel gancl_kernel(const gancl_runtime *rt, const char *name);
/* Enqueues a 1-D launch of `n` work items, rounded up to the runtime's work-group size. */
void gancl_launch_1d(const gancl_runtime *rt, cl_kernel k, size_t n);
/* Enqueues n0 x n1 work items, each its own work group (for kernels declared with
 * reqd_work_group_size(1, 1, 1), whose items loop over a block themselves: CPU-shaped). */
void gancl_launch_items(const gancl_runtime *rt, cl_kernel k, size_t n0, size_t n1);
/* Enqueues `groups` work groups of the largest power-of-two size the kernel allows (at most
 * the runtime's), after giving argument `scratch_arg` 2 floats of local memory per item (the
 * _wg kernels' reductions). */
void gancl_launch_groups(const gancl_runtime *rt, cl_kernel k, size_t groups, cl_uint scratch_arg);
/* Device buffers: create (exits with a hint when the device has no memory), write, read. */
cl_mem gancl_buffer(const gancl_runtime *rt, size_t bytes);
void gancl_write(const gancl_runtime *rt, cl_mem buf, size_t byte_off, size_t bytes, const void *src);
void gancl_read(const gancl_runtime *rt, cl_mem buf, size_t byte_off, size_t bytes, void *dst);

/* A kernel argument: the size and address of an lvalue. */
typedef struct {
    size_t size;
    const void *value;
} gancl_karg;
#define GANCL_A(x) ((gancl_karg){sizeof(x), &(x)})
/* A value of an OpenCL type, e.g. GANCL_V(cl_uint, n). */
#define GANCL_V(type, expr) ((gancl_karg){sizeof(type), &(type){(type)(expr)}})
/* A gancl_ptr as the kernel's (buffer, uint element offset) argument pair. */
#define GANCL_P(p) GANCL_A((p).mem), GANCL_V(cl_uint, (p).off)
#define GANCL_NARGS(...) (int)(sizeof((gancl_karg[]){__VA_ARGS__}) / sizeof(gancl_karg))

/* Sets arguments 0 .. n-1 of k. */
void gancl_set_args(cl_kernel k, const gancl_karg *args, int n);
/* Sets the arguments, then enqueues n work items as gancl_launch_1d does. */
#define GANCL_LAUNCH_1D(rt, k, n, ...)                                          \
    do {                                                                      \
        gancl_set_args((k), (const gancl_karg[]){__VA_ARGS__}, GANCL_NARGS(__VA_ARGS__)); \
        gancl_launch_1d((rt), (k), (n));                                      \
    } while (0)
/* Launches the per-feature reduction kernel `name` over n features (or rows) with the given
 * arguments: one work item per `per_item` features, or, with rt->gpu_shaped, `name`_wg
 * with one work group per feature (its local scratch the argument after the given ones). */
void gancl_launch_reduction(const gancl_runtime *rt, const char *name, size_t n, size_t per_item,
                            const gancl_karg *args, int nargs);
#define GANCL_LAUNCH_REDUCTION(rt, name, n, per_item, ...)                                   \
    gancl_launch_reduction((rt), (name), (n), (per_item), (const gancl_karg[]){__VA_ARGS__}, \
                           GANCL_NARGS(__VA_ARGS__))

#endif
