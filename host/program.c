/* program.c: kernel sources (embedded or from GANCL_KERNEL_DIR), the on-disk cache of compiled
 * program binaries, and program building with the build log on failure. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/program.h"
#include "gancl/fsutil.h"
#include "gancl/sha256.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cache entry: magic, format version, key, binary length, SHA-256 of the binary, binary. */
#define CACHE_MAGIC "GANCLBIN"
#define CACHE_VERSION 1u
#define CACHE_HEADER (8 + 4 + 32 + 8 + 32)

/* Concatenates all kernel sources into one program text (malloc'd). */
static char *load_sources(void) {
    const char *dir = getenv("GANCL_KERNEL_DIR");
    size_t cap = 1, len = 0;
    char *all = NULL;
    for (int i = 0; i < gancl_kernel_source_count; i++) {
        const gancl_kernel_source *s = &gancl_kernel_sources[i];
        uint8_t *disk = NULL;
        size_t n = s->len;
        const char *text = s->text;
        if (dir && dir[0]) {
            char path[4096], err[GANCL_ERR_LEN];
            snprintf(path, sizeof path, "%s/%s", dir, s->name);
            if (gancl_read_file(path, &disk, &n, err))
                gancl_die("GANCL_KERNEL_DIR: %s", err);
            text = (const char *)disk;
        }
        char line[160];
        int hl = snprintf(line, sizeof line, "\n/* ---- %s ---- */\n", s->name);
        cap += (size_t)hl + n;
        char *grown = realloc(all, cap);
        if (!grown) gancl_die("out of host memory");
        all = grown;
        memcpy(all + len, line, (size_t)hl);
        memcpy(all + len + hl, text, n);
        len += (size_t)hl + n;
        free(disk);
    }
    if (!all) gancl_die("no kernel sources were embedded");
    all[len] = 0;
    return all;
}

static void cache_key(const gancl_runtime *rt, const char *src, const char *opts, uint8_t key[32]) {
    gancl_sha256 s;
    gancl_sha256_init(&s);
    const char *parts[] = {src, opts, rt->dev.name, rt->dev.vendor, rt->dev.driver_version,
                           rt->dev.version, rt->dev.platform_name, rt->dev.platform_version};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        gancl_sha256_update(&s, parts[i], strlen(parts[i]) + 1); /* the NUL separates fields */
    gancl_sha256_final(&s, key);
}

static int build(cl_program prog, const gancl_runtime *rt, const char *opts, int fatal) {
    cl_int rc = clBuildProgram(prog, 1, &rt->dev.id, opts, NULL, NULL);
    if (rc == CL_SUCCESS) return 0;
    if (!fatal) return -1;
    size_t n = 0;
    clGetProgramBuildInfo(prog, rt->dev.id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
    char *log = malloc(n + 1);
    if (log && clGetProgramBuildInfo(prog, rt->dev.id, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS)
        log[n] = 0;
    else if (log)
        log[0] = 0;
    fprintf(stderr,
            "gan-cl: error: building the OpenCL kernels failed: %s (%d)\n"
            "  device:  %s (%s, driver %s)\n  options: %s\n  kernels: %s\n  build log:\n%s\n",
            gancl_cl_error_name(rc), rc, rt->dev.name, rt->dev.platform_name,
            rt->dev.driver_version, opts,
            getenv("GANCL_KERNEL_DIR") ? getenv("GANCL_KERNEL_DIR") : "embedded",
            log ? log : "(out of memory)");
    free(log);
    exit(1);
}

int gancl_cache_entry_parse(const uint8_t *buf, size_t n, const uint8_t key[32], const uint8_t **bin,
                            size_t *len) {
    if (n < CACHE_HEADER || memcmp(buf, CACHE_MAGIC, 8)) return -1;
    uint32_t version;
    uint64_t blen;
    memcpy(&version, buf + 8, 4);
    memcpy(&blen, buf + 44, 8);
    if (version != CACHE_VERSION || memcmp(buf + 12, key, 32) || blen != n - CACHE_HEADER) return -1;
    uint8_t digest[32];
    gancl_sha256 s;
    gancl_sha256_init(&s);
    gancl_sha256_update(&s, buf + CACHE_HEADER, (size_t)blen);
    gancl_sha256_final(&s, digest);
    if (memcmp(digest, buf + 52, 32)) return -1;
    *bin = buf + CACHE_HEADER;
    *len = (size_t)blen;
    return 0;
}

/* Returns a built program from the cache entry at `path`, or NULL when the entry is missing
 * (*existed = 0) or unusable (*existed = 1). */
static cl_program cache_load(const gancl_runtime *rt, const char *path, const uint8_t key[32],
                             const char *opts, int *existed) {
    uint8_t *buf;
    size_t n, blen;
    const uint8_t *bin;
    char err[GANCL_ERR_LEN];
    *existed = gancl_file_exists(path);
    if (!*existed || gancl_read_file(path, &buf, &n, err)) return NULL;
    cl_program prog = NULL;
    if (gancl_cache_entry_parse(buf, n, key, &bin, &blen) == 0) {
        cl_int rc, status;
        const unsigned char *b = bin;
        prog = clCreateProgramWithBinary(rt->context, 1, &rt->dev.id, &blen, &b, &status, &rc);
        if (rc != CL_SUCCESS || status != CL_SUCCESS) {
            if (prog) clReleaseProgram(prog);
            prog = NULL;
        } else if (build(prog, rt, opts, 0) != 0) {
            clReleaseProgram(prog);
            prog = NULL;
        }
    }
    free(buf);
    return prog;
}

static void cache_store(const gancl_runtime *rt, cl_program prog, const char *path,
                        const uint8_t key[32]) {
    size_t blen = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof blen, &blen, NULL) != CL_SUCCESS ||
        blen == 0)
        return; /* the driver cannot export binaries: run uncached */
    uint8_t *buf = malloc(CACHE_HEADER + blen);
    if (!buf) return;
    unsigned char *bin = buf + CACHE_HEADER;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        uint32_t version = CACHE_VERSION;
        uint64_t len = blen;
        memcpy(buf, CACHE_MAGIC, 8);
        memcpy(buf + 8, &version, 4);
        memcpy(buf + 12, key, 32);
        memcpy(buf + 44, &len, 8);
        gancl_sha256 s;
        gancl_sha256_init(&s);
        gancl_sha256_update(&s, bin, blen);
        gancl_sha256_final(&s, buf + 52);
        char err[GANCL_ERR_LEN];
        if (gancl_write_file_atomic(path, buf, CACHE_HEADER + blen, err))
            fprintf(stderr, "gan-cl: warning: kernel cache not written: %s\n", err);
    }
    free(buf);
    (void)rt;
}

void gancl_program_build(gancl_runtime *rt) {
    char opts[256];
    /* -w: on AVX2 CPUs PoCL's compiler wrote "39 warnings generated." to our stderr at the first
     * build (clang's ABI note on 16-wide vector arguments, which PoCL inlines); the kernels'
     * own warnings fail tools/check-kernels-offline instead */
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 -w -DMATMUL_TILE=%d", rt->matmul_tile);
    char *src = load_sources();
    uint8_t key[32];
    cache_key(rt, src, opts, key);

    char dir[4096], hex[65], err[GANCL_ERR_LEN];
    rt->cache_status = GANCL_CACHE_OFF;
    rt->cache_path[0] = 0;
    if (gancl_cache_dir("kernels", dir, sizeof dir) == 0 && gancl_mkdirs(dir, err) == 0) {
        gancl_hex(key, 32, hex);
        snprintf(rt->cache_path, sizeof rt->cache_path, "%s/%s.bin", dir, hex);
    }

    cl_program prog = NULL;
    int existed = 0;
    if (rt->cache_path[0]) {
        prog = cache_load(rt, rt->cache_path, key, opts, &existed);
        if (prog) rt->cache_status = GANCL_CACHE_HIT;
    }
    if (!prog) {
        cl_int rc;
        const char *text = src;
        prog = clCreateProgramWithSource(rt->context, 1, &text, NULL, &rc);
        CL_CHECK(rc);
        build(prog, rt, opts, 1);
        if (rt->cache_path[0]) {
            cache_store(rt, prog, rt->cache_path, key);
            rt->cache_status = existed ? GANCL_CACHE_REBUILT : GANCL_CACHE_MISS;
        }
    }
    free(src);
    rt->program = prog;

    cl_uint nk = 0;
    CL_CHECK(clCreateKernelsInProgram(prog, 0, NULL, &nk));
    cl_kernel *ks = calloc(nk ? nk : 1, sizeof *ks);
    rt->kernels = calloc(nk ? nk : 1, sizeof *rt->kernels);
    if (!ks || !rt->kernels) gancl_die("out of host memory");
    CL_CHECK(clCreateKernelsInProgram(prog, nk, ks, NULL));
    for (cl_uint i = 0; i < nk; i++) {
        rt->kernels[i].kernel = ks[i];
        CL_CHECK(clGetKernelInfo(ks[i], CL_KERNEL_FUNCTION_NAME, sizeof rt->kernels[i].name,
                                 rt->kernels[i].name, NULL));
        size_t limit = 0; /* what this kernel can run with on this device (registers, local memory) */
        CL_CHECK(clGetKernelWorkGroupInfo(ks[i], rt->dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit, &limit, NULL));
        rt->kernels[i].wg_size = limit < rt->wg_size ? limit : rt->wg_size;
    }
    rt->n_kernels = (int)nk;
    free(ks);
}
