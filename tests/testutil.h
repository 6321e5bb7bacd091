/* testutil.h (tests are built with _XOPEN_SOURCE=700): small helpers shared by the test programs (temporary directories, files,
 * running a command and capturing its output). Header-only; each test includes it once. */
#ifndef GANCL_TESTUTIL_H
#define GANCL_TESTUTIL_H


#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <png.h>
#include <zlib.h>

/* A fresh directory under $TMPDIR (or /tmp); the path is static storage per call site. */
static inline void make_temp_dir(char *out, size_t len) {
    const char *base = getenv("TMPDIR");
    snprintf(out, len, "%s/gancl-test-XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(out));
}

static inline void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Big-endian 32-bit store, as IDX headers hold their numbers. */
static inline void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static inline void write_gz(const char *path, const uint8_t *b, size_t n) {
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, b, (unsigned)n), (int)n);
    assert_int_equal(gzclose(g), Z_OK);
}

/* The four MNIST files (gzip) in dir, training and test sets alike: n images of a bright bar
 * whose position and length depend on the index, labelled index % 10. */
static inline void write_bar_dataset(const char *dir, uint32_t n) {
    size_t ni = 16 + (size_t)n * 784, nl = 8 + n;
    uint8_t *img = calloc(ni, 1), *lab = calloc(nl, 1);
    assert_non_null(img);
    assert_non_null(lab);
    put_be32(img, 2051); put_be32(img + 4, n); put_be32(img + 8, 28); put_be32(img + 12, 28);
    put_be32(lab, 2049); put_be32(lab + 4, n);
    for (uint32_t i = 0; i < n; i++) {
        int row = 4 + (int)(i % 20), len = 6 + (int)(i % 13);
        for (int x = 4; x < 4 + len; x++) {
            img[16 + (size_t)i * 784 + row * 28 + x] = 255;
            img[16 + (size_t)i * 784 + (row + 1) * 28 + x] = 200;
        }
        lab[8 + i] = (uint8_t)(i % 10);
    }
    char p[4200];
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[k]);
        write_gz(p, k % 2 ? lab : img, k % 2 ? nl : ni);
    }
    free(img);
    free(lab);
}

/* A PNG of w x h pixels laid out as libpng's `format` says (PNG_FORMAT_GRAY, _RGB, _RGBA,
 * _GA, _LINEAR_Y ...), written by libpng's own encoder: the pictures a user would have. */
static inline uint8_t *png_encode_format(const void *pix, int w, int h, png_uint_32 format, size_t *n) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = format;
    png_alloc_size_t size = 0;
    assert_true(png_image_write_to_memory(&im, NULL, &size, 0, pix, 0, NULL));
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    assert_true(png_image_write_to_memory(&im, buf, &size, 0, pix, 0, NULL));
    *n = size;
    return buf;
}

/* Milliseconds on the monotonic clock. */
static inline long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Number of directory entries other than . and .. */
static inline int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static inline void remove_tree(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Starts argv (NULL-terminated) with extra environment assignments "K=V" (NULL-terminated),
 * its stdout and stderr going to the pipe whose read end is *fd. */
static inline pid_t spawn(char *const argv[], char *const env[], int *fd) {
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        for (int i = 0; env && env[i]; i++) putenv(env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    *fd = pipefd[0];
    return pid;
}

/* Reads the process's output (truncated) into out, waits, returns its exit status. */
static inline int finish(pid_t pid, int fd, char *out, size_t outlen) {
    size_t len = 0;
    char buf[4096];
    for (ssize_t r; (r = read(fd, buf, sizeof buf)) > 0;) {
        size_t take = (size_t)r < outlen - 1 - len ? (size_t)r : outlen - 1 - len;
        memcpy(out + len, buf, take);
        len += take;
    }
    out[len] = 0;
    close(fd);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static inline int run_capture(char *const argv[], char *const env[], char *out, size_t outlen) {
    int fd;
    pid_t pid = spawn(argv, env, &fd);
    return finish(pid, fd, out, outlen);
}

/* The output of the last run_gan. */
static char gan_out[1 << 16];

/* Runs $GANCL_BIN with the arguments after env (NULL-terminated); output in gan_out. */
static inline int run_gan(char *const env[], ...) {
    char *argv[40];
    int n = 0;
    argv[n++] = getenv("GANCL_BIN");
    va_list ap;
    va_start(ap, env);
    for (char *a; n < 39 && (a = va_arg(ap, char *));) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return run_capture(argv, env, gan_out, sizeof gan_out);
}

#define EXPECT(text)                                                                  \
    do {                                                                              \
        if (!strstr(gan_out, text)) fail_msg("expected \"%s\" in:\n%s", text, gan_out); \
    } while (0)

#ifdef GANCL_DEVICE_H
/* The runtime on $GANCL_TEST_DEVICE (default: the default device); -1 when there is none. */
static inline int open_test_runtime(gancl_runtime *rt, gancl_device_info *dev, gancl_gemm_method gemm) {
    gancl_device_info *all;
    int n;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_devices_list(&all, &n), 0);
    int idx = gancl_devices_select(all, n, getenv("GANCL_TEST_DEVICE"), err);
    if (idx < 0) {
        fprintf(stderr, "%s\n", err);
        free(all);
        return -1;
    }
    *dev = all[idx];
    free(all);
    gancl_runtime_init(rt, dev, gemm);
    return 0;
}

/* The same with gan-cl's caches (XDG_CACHE_HOME) in a fresh directory, and its undoing. */
static inline int open_test_runtime_fresh_cache(gancl_runtime *rt, gancl_device_info *dev, char *root, size_t len) {
    make_temp_dir(root, len);
    setenv("XDG_CACHE_HOME", root, 1);
    return open_test_runtime(rt, dev, GANCL_GEMM_AUTO);
}

static inline void close_test_runtime_fresh_cache(gancl_runtime *rt, const char *root) {
    gancl_runtime_free(rt);
    remove_tree(root);
}

/* cmocka's group `setup` and `teardown` for a program whose tests share one runtime `rt` (on
 * `device`) with gan-cl's caches in a fresh directory `root` (a char array) */
#define FRESH_RUNTIME_GROUP(rt, device, root)                                          \
    static int setup(void **state) {                                                   \
        (void)state;                                                                   \
        return open_test_runtime_fresh_cache(&(rt), &(device), (root), sizeof(root));  \
    }                                                                                  \
    static int teardown(void **state) {                                                \
        (void)state;                                                                   \
        close_test_runtime_fresh_cache(&(rt), (root));                                 \
        return 0;                                                                      \
    }
#endif

#endif
