/* main.c: the gan-cl command line. Parses flags, picks the device and dispatches to the
 * library; all real work lives in the gancl_ modules. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/device.h"
#include "gancl/fsutil.h"
#include "gancl/gemm.h"
#include "gancl/mnist.h"
#include "gancl/selftest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#ifdef GANCL_HAVE_CURL
#include <curl/curl.h>
#endif

static const char USAGE[] =
    "usage: gan-cl [command] [options]\n"
    "\n"
    "Trains Generative Adversarial Networks on MNIST on any OpenCL device.\n"
    "\n"
    "commands:\n"
    "  download              fetch and verify the MNIST files, then report what is there\n"
    "\n"
    "options:\n"
    "  --list-devices        list the OpenCL devices (one index over all platforms) and exit\n"
    "  --self-test           check every kernel and both GEMM paths on the device against C\n"
    "                        references; exits non-zero on any failure\n"
    "  --device N|NAME       device index from --list-devices, or part of its name\n"
    "                        (default: the first GPU, else the first device)\n"
    "  --gemm clblast|matmul GEMM back end: CLBlast (default) or gan-cl's own tiled kernel\n"
    "  --data DIR            MNIST directory (default: $GANCL_DATA, else ~/.cache/gan-cl/mnist)\n"
    "  --mirror URL          download from this base URL only (default: $GANCL_MNIST_MIRROR,\n"
    "                        else the built-in mirror list)\n"
    "  --offline             never download; fail with a hint when files are missing\n"
    "  --quiet               no progress display\n"
    "  --version             print gan-cl's version and its libraries' versions\n"
    "  -h, --help            show this help\n"
    "\n"
    "environment:\n"
    "  GANCL_DATA            data directory (overridden by --data)\n"
    "  GANCL_MNIST_MIRROR    download base URL (overridden by --mirror)\n"
    "  GANCL_KERNEL_DIR      load the .cl kernels from this directory instead of the built-in copy\n"
    "  XDG_CACHE_HOME        cache root (kernel binaries, data): $XDG_CACHE_HOME/gan-cl\n";

typedef struct {
    const char *command; /* NULL or "download" */
    int list_devices, self_test, version, help, offline, quiet;
    const char *device, *data, *mirror;
    gancl_gemm_backend gemm;
} cli;

static _Noreturn void usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "gan-cl: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n  hint: gan-cl --help lists the commands and options\n");
    exit(2);
}

/* Matches "--name value" and "--name=value"; advances *i past a separate value. */
static const char *value_of(int argc, char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '=') {
        if (!a[n + 1]) usage_error("option %s needs a value", name);
        return a + n + 1;
    }
    if (a[n] != 0) return NULL;
    if (*i + 1 >= argc || argv[*i + 1][0] == 0) usage_error("option %s needs a value", name);
    return argv[++*i];
}

static cli parse(int argc, char **argv) {
    cli c;
    memset(&c, 0, sizeof c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) c.help = 1;
        else if (!strcmp(a, "--version") || !strcmp(a, "-V")) c.version = 1;
        else if (!strcmp(a, "--list-devices")) c.list_devices = 1;
        else if (!strcmp(a, "--self-test")) c.self_test = 1;
        else if (!strcmp(a, "--offline")) c.offline = 1;
        else if (!strcmp(a, "--quiet")) c.quiet = 1;
        else if ((v = value_of(argc, argv, &i, "--device"))) c.device = v;
        else if ((v = value_of(argc, argv, &i, "--data"))) c.data = v;
        else if ((v = value_of(argc, argv, &i, "--mirror"))) c.mirror = v;
        else if ((v = value_of(argc, argv, &i, "--gemm"))) {
            if (!strcmp(v, "clblast")) c.gemm = GANCL_GEMM_CLBLAST;
            else if (!strcmp(v, "matmul")) c.gemm = GANCL_GEMM_MATMUL;
            else usage_error("--gemm %s: expected clblast or matmul", v);
        } else if (a[0] == '-') usage_error("unknown option '%s'", a);
        else if (!c.command && !strcmp(a, "download")) c.command = a;
        else usage_error("unexpected argument '%s'", a);
    }
    return c;
}

static void print_version(void) {
    printf("gan-cl %s\n", GANCL_VERSION);
    printf("CLBlast %s (build), zlib %s", GANCL_CLBLAST_VERSION, zlibVersion());
#ifdef GANCL_HAVE_CURL
    printf(", libcurl %s", curl_version_info(CURLVERSION_NOW)->version);
#else
    printf(", built without libcurl (no downloads)");
#endif
    printf("\n");
    cl_uint np = 0;
    if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0) {
        printf("OpenCL: no platform found\n");
        return;
    }
    cl_platform_id plats[16];
    if (np > 16) np = 16;
    if (clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS) return;
    for (cl_uint i = 0; i < np; i++) {
        char name[128] = "?", ver[128] = "?";
        clGetPlatformInfo(plats[i], CL_PLATFORM_NAME, sizeof name, name, NULL);
        clGetPlatformInfo(plats[i], CL_PLATFORM_VERSION, sizeof ver, ver, NULL);
        name[127] = ver[127] = 0;
        printf("OpenCL platform: %s (%s)\n", name, ver);
    }
}

/* Lists devices and picks the one --device names; exits with the list on failure. */
static gancl_device_info pick_device(const cli *c, int *n_out, gancl_device_info **all) {
    char err[GANCL_ERR_LEN];
    if (gancl_devices_list(all, n_out)) gancl_die("out of host memory");
    int idx = gancl_devices_select(*all, *n_out, c->device, err);
    if (idx < 0) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        if (*n_out) {
            fprintf(stderr, "available devices:\n");
            gancl_devices_print(stderr, *all, *n_out);
        }
        exit(1);
    }
    return (*all)[idx];
}

static int cmd_list_devices(void) {
    gancl_device_info *devs;
    int n;
    if (gancl_devices_list(&devs, &n)) gancl_die("out of host memory");
    if (n == 0) {
        fprintf(stderr, "gan-cl: error: %s\n", GANCL_NO_DEVICE_HINT);
        return 1;
    }
    gancl_devices_print(stdout, devs, n);
    free(devs);
    return 0;
}

static int cmd_self_test(const cli *c) {
    gancl_device_info *all;
    int n;
    gancl_device_info dev = pick_device(c, &n, &all);
    free(all);
    printf("self-test on %s (%s, driver %s)\n", dev.name, dev.platform_name, dev.driver_version);
    gancl_runtime rt;
    gancl_runtime_init(&rt, &dev, c->gemm);
    static const char *cache_words[] = {"off (no cache directory)", "hit", "miss (built and stored)",
                                        "corrupt or stale entry rebuilt"};
    printf("kernel cache: %s%s%s\n", cache_words[rt.cache_status], rt.cache_path[0] ? " " : "",
           rt.cache_path);
    int failures = gancl_selftest_run(&rt, stdout);
    gancl_runtime_free(&rt);
    printf("%d of %d checks passed\n", GANCL_N_CHECKS - failures, GANCL_N_CHECKS);
    if (failures)
        fprintf(stderr, "gan-cl: error: %d check(s) failed on this device: its results cannot be trusted\n"
                        "  hint: try --gemm matmul (if only CLBlast failed), another --device, or a newer driver\n",
                failures);
    return failures ? 1 : 0;
}

static int cmd_download(const cli *c) {
    char dir[4096], err[GANCL_ERR_LEN];
    if (gancl_data_dir(c->data, dir, sizeof dir, err)) gancl_die("%s", err);
    int progress = !c->quiet && isatty(STDERR_FILENO);
    int rc = gancl_data_ensure(dir, c->mirror, c->offline, progress, err);
    if (rc) fprintf(stderr, "gan-cl: error: %s\n", err);
    printf("data directory: %s\n", dir);
    int bad = rc != 0;
    for (int w = 0; w < GANCL_N_FILES; w++) {
        char path[4096];
        if (gancl_data_find(dir, w, path, sizeof path)) {
            printf("  %-28s missing\n", GANCL_MNIST_FILES[w].name);
            bad = 1;
            continue;
        }
        gancl_idx idx;
        if (gancl_idx_load(path, &idx, err)) {
            printf("  %-28s INVALID: %s\n", gancl_basename(path), err);
            bad = 1;
            continue;
        }
        int official = gancl_data_is_official(path, w);
        printf("  %-28s %6u %s, %s\n", gancl_basename(path), idx.count,
               idx.magic == GANCL_IDX_IMAGES ? "images" : "labels",
               official == 1 ? "checksum OK (official MNIST)" : "not the official MNIST files");
        gancl_idx_free(&idx);
    }
    return bad ? 1 : 0;
}

int main(int argc, char **argv) {
    gancl_signals_install();
    cli c = parse(argc, argv);
    if (c.help) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (c.version) {
        print_version();
        return 0;
    }
    if (c.list_devices) return cmd_list_devices();
    if (c.self_test) return cmd_self_test(&c);
    if (c.command && !strcmp(c.command, "download")) return cmd_download(&c);
    fputs(USAGE, stderr);
    fprintf(stderr, "\ngan-cl: error: no command given\n");
    return 2;
}
