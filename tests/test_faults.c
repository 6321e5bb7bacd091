/* test_faults.c: fault injection through the gan-cl binary, on a small generated data set.
 *   - kill -9 at random moments while checkpoints are being saved (50 trials): the last
 *     complete checkpoint always loads, and the next run removes the temporary files left;
 *   - the disk filling up, and the output directory turning read-only, while a sample grid,
 *     metrics.csv or the checkpoint is written: a message naming the file and the cause, exit 1,
 *     every file there still whole. As root the test mounts a small tmpfs (a real ENOSPC and
 *     EROFS); otherwise it uses RLIMIT_FSIZE (EFBIG) and a directory without write permission;
 *   - an output path that is not a regular file (/dev/null): refused, the device untouched;
 *   - networks too large for the device (PoCL's POCL_MEMORY_LIMIT): the need and the limits;
 *   - kernels that do not build (GANCL_KERNEL_DIR with a broken copy): the build log, exit 1;
 *   - a corrupted kernel-cache entry and a damaged tuning file at start-up: rebuilt and
 *     rejected, and training goes on. */
#define _GNU_SOURCE /* prlimit */
#include "gancl/device.h"
#include "testutil.h"
#include "gancl/checkpoint.h"
#include "gancl/check.h"
#include "gancl/fsutil.h"
#include "gancl/json.h"
#include "gancl/metrics.h"
#include "gancl/sha256.h"
#include "gancl/tune.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>

static char root[512], data[600], data8[600], cache[600];

static char *at(const char *sub) {
    static char p[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", root, sub);
    return p[k];
}

/* dir/name; static storage, 8 calls deep (so in(in(a, b), c) works). */
static char *in(const char *dir, const char *name) {
    static char p[8][1200];
    static int k;
    char joined[1200];
    snprintf(joined, sizeof joined, "%s/%s", dir, name);
    k = (k + 1) % 8;
    memcpy(p[k], joined, sizeof joined);
    return p[k];
}

/* The step a checkpoint holds; fails the test unless it opens and describes a model. */
static long checkpoint_step(const char *path) {
    gancl_checkpoint ck;
    gancl_arch arch;
    char err[GANCL_ERR_LEN];
    if (gancl_checkpoint_open(path, &ck, err)) fail_msg("%s", err);
    if (gancl_checkpoint_arch(&ck, &arch, err)) fail_msg("%s", err);
    const char *st = gancl_meta_get(&ck.meta, "step");
    assert_non_null(st);
    long step = atol(st);
    gancl_checkpoint_close(&ck);
    return step;
}

/* A whole PNG: signature, chunks whose CRCs match, IEND last. */
static void assert_png_whole(const char *path) {
    uint8_t *d;
    size_t n;
    char err[GANCL_ERR_LEN];
    if (gancl_read_file(path, &d, &n, err)) fail_msg("%s", err);
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (n < 8 || memcmp(d, sig, 8)) fail_msg("%s: not a PNG", path);
    size_t o = 8;
    int iend = 0;
    while (!iend) {
        if (o + 12 > n) fail_msg("%s: cut short at byte %zu", path, o);
        size_t len = (size_t)d[o] << 24 | (size_t)d[o + 1] << 16 | (size_t)d[o + 2] << 8 | d[o + 3];
        if (o + 12 + len > n) fail_msg("%s: chunk past the end", path);
        uLong crc = crc32(0, d + o + 4, (uInt)(len + 4));
        const uint8_t *c = d + o + 8 + len;
        if (crc != ((uLong)c[0] << 24 | (uLong)c[1] << 16 | (uLong)c[2] << 8 | c[3])) fail_msg("%s: bad CRC", path);
        iend = !memcmp(d + o + 4, "IEND", 4);
        o += 12 + len;
    }
    if (o != n) fail_msg("%s: bytes after IEND", path);
    free(d);
}

/* Every file of a run directory is whole: no temporary file, the checkpoint loads, the CSV
 * reads, the SVG is closed, config.json parses, every grid is a whole PNG. */
static void assert_run_whole(const char *run) {
    char err[GANCL_ERR_LEN], dir[1200];
    snprintf(dir, sizeof dir, "%s", run);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp-")) fail_msg("%s: temporary file %s left", dir, e->d_name);
    closedir(d);
    if (gancl_file_exists(in(dir, "checkpoint.safetensors"))) (void)checkpoint_step(in(dir, "checkpoint.safetensors"));
    if (gancl_file_exists(in(dir, "metrics.csv"))) {
        FILE *f = fopen(in(dir, "metrics.csv"), "r");
        assert_non_null(f);
        gancl_metrics m = {0};
        if (gancl_metrics_read(&m, f, "metrics.csv", 1L << 40, err)) fail_msg("%s", err);
        fclose(f);
        gancl_metrics_free(&m);
    }
    uint8_t *b;
    size_t n;
    if (gancl_file_exists(in(dir, "losses.svg"))) {
        if (gancl_read_file(in(dir, "losses.svg"), &b, &n, err)) fail_msg("%s", err);
        if (n < 7 || memcmp(b + n - 7, "</svg>\n", 7)) fail_msg("losses.svg cut short");
        free(b);
    }
    if (gancl_file_exists(in(dir, "config.json"))) {
        if (gancl_read_file(in(dir, "config.json"), &b, &n, err)) fail_msg("%s", err);
        gancl_json j;
        if (gancl_json_parse((const char *)b, n, &j, err)) fail_msg("config.json: %s", err);
        gancl_json_free(&j);
        free(b);
    }
    DIR *s = opendir(in(dir, "samples"));
    for (struct dirent *e; s && (e = readdir(s));)
        if (strstr(e->d_name, ".png")) {
            char p[2400];
            snprintf(p, sizeof p, "%s/samples/%s", dir, e->d_name);
            assert_png_whole(p);
        } else if (strstr(e->d_name, ".tmp-")) {
            fail_msg("%s/samples: temporary file %s left", dir, e->d_name);
        }
    if (s) closedir(s);
}

/* argv for a long training run on the data set in dir `set` into out (NULL-terminated, static
 * storage), with `extra` flags (NULL-terminated) and --resume when out holds a checkpoint. */
static char **train_argv(const char *set, const char *out, const char *const *extra) {
    static char *argv[40], outbuf[1200], ckpt[1300];
    int n = 0;
    snprintf(outbuf, sizeof outbuf, "%s", out);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", out);
    const char *base[] = {getenv("GANCL_BIN"), "--data", set, "--offline", "--seed", "5", "--quiet", "--epochs", "100000", "--score-every", "0", "--out", outbuf};
    for (size_t i = 0; i < sizeof base / sizeof *base; i++) argv[n++] = (char *)base[i];
    for (int i = 0; extra && extra[i]; i++) argv[n++] = (char *)extra[i];
    if (gancl_file_exists(ckpt)) {
        argv[n++] = "--resume";
        argv[n++] = ckpt;
    }
    argv[n] = NULL;
    return argv;
}

/* Waits up to 60 s for path to appear; fails otherwise. */
static void wait_for(const char *path) {
    for (int i = 0; i < 600 && !gancl_file_exists(path); i++) sleep_ms(100);
    if (!gancl_file_exists(path)) fail_msg("%s never appeared", path);
}

/* Waits up to 120 s for the process to end by itself, keeping its output in gan_out. */
static int finish_within(pid_t pid, int fd) {
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    size_t len = 0;
    for (int i = 0; i < 12000; i++) {
        ssize_t r;
        while ((r = read(fd, gan_out + len, sizeof gan_out - 1 - len)) > 0) len += (size_t)r;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            while ((r = read(fd, gan_out + len, sizeof gan_out - 1 - len)) > 0) len += (size_t)r;
            gan_out[len] = 0;
            close(fd);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    gan_out[len] = 0;
    fail_msg("gan-cl did not stop within 120 s; output:\n%s", gan_out);
    return -1;
}

static int has_temp_file(const char *dir) {
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *e; d && (e = readdir(d));) found |= strstr(e->d_name, ".tmp-") != NULL;
    if (d) closedir(d);
    return found;
}

static void test_kill_during_saves(void **state) {
    (void)state;
    char out[1200], ckpt[1300], config[1300];
    snprintf(out, sizeof out, "%s", at("K"));
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", out);
    snprintf(config, sizeof config, "%s/config.json", out);
    /* the default MLP, a 30 MB checkpoint written (and fsync'd) after every epoch, which on 8
     * images at batch 8 is one short step; one fixed GEMM kernel, because untuned CLBlast
     * (this test's cache is fresh) spends 0.6 s in its direct kernels on every step */
    const char *flags[] = {"--batch-size", "8", "--checkpoint-every", "1", "--sample-every", "100000",
                           "--log-every", "100000", "--gemm", "blk-64x32", NULL};
    unsigned rng = 12345;
    int mid_save = 0;
    long last_step = -1, save_ms = 35;
    const int trials = 50;
    for (int trial = 0; trial < trials; trial++) {
        remove(config); /* written again at start-up: the sign training began */
        int fd;
        pid_t pid = spawn(train_argv(data8, out, flags), NULL, &fd);
        wait_for(config);
        /* a save begins when its temporary file appears; the kill comes after 0-3 saves that
         * complete, at a random point of the next one's length as the last complete save took
         * (plus an eighth: some kills fall after the rename). A fixed 0-40 ms had assumed a
         * 35 ms save, and missed half of them where saves were faster */
        rng = rng * 1103515245u + 12345u;
        for (unsigned skip = (rng >> 20) % 4;; skip--) {
            for (int i = 0; i < 60000 && !has_temp_file(out); i++) sleep_ms(1);
            if (!skip) break;
            const long began = now_ms();
            for (int i = 0; i < 60000 && has_temp_file(out); i++) sleep_ms(1);
            save_ms = now_ms() - began;
        }
        sleep_ms((long)((rng >> 8) % (unsigned)(save_ms + save_ms / 8 + 1)));
        kill(pid, SIGKILL);
        char sink[4096];
        assert_int_equal(finish(pid, fd, sink, sizeof sink), 128 + SIGKILL);
        mid_save += has_temp_file(out);
        if (last_step >= 0 || gancl_file_exists(ckpt)) {
            long step = checkpoint_step(ckpt); /* once there is one, it always loads */
            assert_true(step >= last_step);
            last_step = step;
        }
    }
    /* the next run resumes from the last complete checkpoint and removes what the kills left */
    const char *more[] = {"--batch-size", "8", "--checkpoint-every", "1", "--sample-every", "100000",
                          "--log-every", "100000", "--gemm", "blk-64x32", "--steps", "0", NULL};
    char steps[32];
    snprintf(steps, sizeof steps, "%ld", last_step + 2);
    more[11] = steps;
    int fd;
    pid_t pid = spawn(train_argv(data8, out, more), NULL, &fd);
    assert_int_equal(finish_within(pid, fd), 0);
    assert_int_equal(checkpoint_step(ckpt), last_step + 2);
    assert_run_whole(out);
    print_message("kill -9: %d trials, %d of them during a checkpoint save (a temporary file was left), "
                  "last checkpoint at step %ld, the last complete save %ld ms\n", trials, mid_save, last_step, save_ms);
    assert_true(last_step > 0);
    assert_true(mid_save >= trials / 2); /* the kills did land inside saves */
}

/* How the output directory is broken, as root (tmpfs) or not. */
static int as_root;

static void mount_tmpfs(const char *dir) {
    assert_int_equal(mkdir(dir, 0755), 0);
    if (as_root) assert_int_equal(mount("gancl-test", dir, "tmpfs", 0, "size=64m"), 0);
}

static void unmount_tmpfs(const char *dir) {
    if (as_root) assert_int_equal(umount2(dir, MNT_DETACH), 0);
}

/* Fills the file system of dir (root) or forbids pid to grow files (RLIMIT_FSIZE = 0). */
static void disk_full(const char *dir, pid_t pid) {
    if (!as_root) {
        struct rlimit none = {0, 0};
        assert_int_equal(prlimit(pid, RLIMIT_FSIZE, &none, NULL), 0);
        return;
    }
    int fd = open(in(dir, "filler"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    static char block[1 << 16];
    while (write(fd, block, sizeof block) > 0) {}
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

/* Makes the run directory out (on the tmpfs dir) read-only: the tmpfs remounted (root) or
 * out's and out/samples' write permission removed. */
static void read_only(const char *dir, const char *out) {
    if (as_root) {
        assert_int_equal(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, "size=64m"), 0);
    } else {
        assert_int_equal(chmod(out, 0555), 0);
        assert_int_equal(chmod(in(out, "samples"), 0555), 0);
    }
}

static void writable_again(const char *dir, const char *out) {
    if (as_root) {
        assert_int_equal(mount(NULL, dir, NULL, MS_REMOUNT, "size=64m"), 0);
    } else {
        assert_int_equal(chmod(out, 0755), 0);
        assert_int_equal(chmod(in(out, "samples"), 0755), 0);
    }
}

/* Stops the process at a moment when it is not writing any file (no temporary file in out):
 * the next file it writes is then the next one its schedule names. */
static void stop_between_writes(pid_t pid, const char *out) {
    for (int i = 0; i < 10000; i++) {
        int st;
        assert_int_equal(kill(pid, SIGSTOP), 0);
        assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
        assert_true(WIFSTOPPED(st));
        if (!has_temp_file(out) && !has_temp_file(in(out, "samples"))) return;
        assert_int_equal(kill(pid, SIGCONT), 0);
        sleep_ms(1);
    }
    fail_msg("gan-cl was always writing");
}

/* A fault in the middle of run `name`, once it has written `first`; its flags make the next file
 * it writes one of `what` (NULL-terminated): files written back to back, each built in memory
 * before its temporary file exists, so that the stop can fall before any of them. */
static void fault_mid_run(const char *dir, const char *name, const char *first, const char *const *what,
                          const char *const *flags, int full, const char *cause) {
    char out[1200];
    snprintf(out, sizeof out, "%s/%s", dir, name);
    assert_int_equal(mkdir(out, 0755), 0);
    int fd;
    pid_t pid = spawn(train_argv(data, out, flags), NULL, &fd);
    wait_for(in(out, first));
    stop_between_writes(pid, out);
    if (full) disk_full(dir, pid);
    else read_only(dir, out);
    assert_int_equal(kill(pid, SIGCONT), 0);
    assert_int_equal(finish_within(pid, fd), 1);
    EXPECT(cause);
    int named = 0;
    for (int i = 0; what[i]; i++) named |= strstr(gan_out, what[i]) != NULL;
    if (!named) fail_msg("expected the error to name %s%s in:\n%s", what[0], what[1] ? " or a file written with it" : "", gan_out);
    EXPECT("hint:");
    if (full && as_root) assert_int_equal(remove(in(dir, "filler")), 0);
    if (!full) writable_again(dir, out);
    assert_run_whole(out);
}

static const char *const GRID_ONLY[] = {"--batch-size", "32", "--g-layers", "64", "--d-layers", "64", "--checkpoint-every", "100000",
                                        "--log-every", "100000", NULL};
/* what GRID_ONLY writes after each epoch, in this order (progress.png, every grid so far as an
 * animated PNG, is encoded in memory first: under ASan a stop fell there twice in CI) */
static const char *const GRID_FILES[] = {"/samples/epoch_", "/progress.png", "/metrics.csv", "/losses.svg", NULL};
static const char *const CSV_ONLY[] = {"--batch-size", "32", "--g-layers", "64", "--d-layers", "64", "--checkpoint-every", "100000",
                                       "--sample-every", "100000", "--log-every", "1", NULL};
/* what CSV_ONLY writes every 10 steps, and CKPT_ONLY after each epoch */
static const char *const CSV_FILES[] = {"/metrics.csv", "/losses.svg", NULL};
static const char *const CKPT_FILES[] = {"/checkpoint.safetensors", NULL};
static const char *const CKPT_ONLY[] = {"--batch-size", "32", "--g-layers", "64", "--d-layers", "64", "--sample-every", "100000",
                                        "--log-every", "100000", NULL};

static void test_disk_full(void **state) {
    (void)state;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", at("full"));
    mount_tmpfs(dir);
    const char *cause = as_root ? "No space left on device" : "File too large";
    signal(SIGXFSZ, SIG_IGN); /* inherited: without RLIMIT_FSIZE's signal a write fails with EFBIG */
    fault_mid_run(dir, "grid", "samples/epoch_001.png", GRID_FILES, GRID_ONLY, 1, cause);
    fault_mid_run(dir, "csv", "metrics.csv", CSV_FILES, CSV_ONLY, 1, cause);
    fault_mid_run(dir, "ckpt", "checkpoint.safetensors", CKPT_FILES, CKPT_ONLY, 1, cause);
    signal(SIGXFSZ, SIG_DFL);
    /* with room again, the run goes on from its checkpoint */
    char run[1300], ck[1400];
    snprintf(run, sizeof run, "%s/ckpt", dir);
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", run);
    const long step = checkpoint_step(ck);
    char steps[32];
    snprintf(steps, sizeof steps, "%ld", step + 1);
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--score-every", "0", "--steps", steps,
                             "--resume", ck, "--out", run, NULL), 0);
    assert_int_equal(checkpoint_step(ck), step + 1);
    unmount_tmpfs(dir);
}

static void test_read_only(void **state) {
    (void)state;
    char dir[1200], out[1300];
    snprintf(dir, sizeof dir, "%s", at("ro"));
    snprintf(out, sizeof out, "%s/start", dir);
    mount_tmpfs(dir);
    const char *cause = as_root ? "Read-only file system" : "Permission denied";
    /* read-only from the start: config.json is the first write, before any training */
    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(mkdir(in(out, "samples"), 0755), 0);
    read_only(dir, out);
    int fd;
    pid_t pid = spawn(train_argv(data, out, CKPT_ONLY), NULL, &fd);
    assert_int_equal(finish_within(pid, fd), 1);
    EXPECT("/config.json");
    EXPECT(cause);
    EXPECT("hint: --out");
    writable_again(dir, out);
    fault_mid_run(dir, "ckpt", "checkpoint.safetensors", CKPT_FILES, CKPT_ONLY, 0, cause);
    fault_mid_run(dir, "grid", "samples/epoch_001.png", GRID_FILES, GRID_ONLY, 0, cause);
    unmount_tmpfs(dir);
}

/* An output path that is a device: refused, and the device left as it is (an atomic rename
 * over /dev/null would replace it with a regular file for the whole machine). */
static void test_not_a_file(void **state) {
    (void)state;
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--score-every", "0", "--steps", "8",
                             "--batch-size", "32", "--g-layers", "64", "--d-layers", "64", "--out", at("nf"), NULL), 0);
    assert_int_equal(run_gan(NULL, "generate", "--checkpoint", at("nf/checkpoint.safetensors"), "--out", "/dev/null",
                             NULL), 1);
    EXPECT("/dev/null: not a regular file");
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void test_device_memory(void **state) {
    (void)state;
    char *env[] = {"POCL_MEMORY_LIMIT=1", NULL}; /* PoCL: 1 GiB of global memory, 256 MiB per buffer */
    assert_int_equal(run_gan(env, "--data", data, "--offline", "--quiet", "--score-every", "0", "--steps", "1",
                             "--g-layers", "16384,16384", "--out", at("mem"), NULL), 1);
    EXPECT("these networks at batch 64 need");
    EXPECT("MiB of device memory");
    EXPECT("at most");
    EXPECT("--batch-size");
    assert_false(gancl_file_exists(at("mem/checkpoint.safetensors")));
}

static void test_broken_kernels(void **state) {
    (void)state;
    char src[700], cmd[2400];
    snprintf(src, sizeof src, "%s/../../cl", getenv("GANCL_FIXTURES"));
    const char *kdir = at("kernels");
    assert_int_equal(mkdir(kdir, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp '%s'/*.cl '%s' && printf 'kernel void broken(global float *x) { x[0] = y; }\\n' >> '%s/loss.cl'",
             src, kdir, kdir);
    assert_int_equal(system(cmd), 0);
    char var[800];
    snprintf(var, sizeof var, "GANCL_KERNEL_DIR=%s", kdir);
    char *env[] = {var, NULL};
    assert_int_equal(run_gan(env, "--data", data, "--offline", "--quiet", "--score-every", "0", "--steps", "1",
                             "--out", at("broken"), NULL), 1);
    EXPECT("building the OpenCL kernels failed");
    EXPECT("build log:");
    EXPECT("'y'"); /* the compiler's own words about the undeclared identifier */
    EXPECT(kdir);
}

/* The single kernel-cache entry under the test's cache directory. */
static void cache_entry(char *path, size_t len) {
    DIR *d = opendir(in(cache, "gan-cl/kernels"));
    assert_non_null(d);
    path[0] = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".bin") && !strstr(e->d_name, ".tmp-")) {
            assert_int_equal(path[0], 0);
            snprintf(path, len, "%s/gan-cl/kernels/%s", cache, e->d_name);
        }
    closedir(d);
    assert_true(path[0] != 0);
}

/* The entry is whole: its length field and its SHA-256 match what follows the header. */
static void assert_entry_whole(const char *path) {
    uint8_t *b, digest[32];
    size_t n;
    char err[GANCL_ERR_LEN];
    if (gancl_read_file(path, &b, &n, err)) fail_msg("%s", err);
    assert_true(n > 84 && !memcmp(b, "GANCLBIN", 8));
    uint64_t len;
    memcpy(&len, b + 44, 8);
    assert_int_equal(len, n - 84);
    gancl_sha256 s;
    gancl_sha256_init(&s);
    gancl_sha256_update(&s, b + 84, (size_t)len);
    gancl_sha256_final(&s, digest);
    assert_memory_equal(digest, b + 52, 32);
    free(b);
}

static void test_corrupt_caches_at_start_up(void **state) {
    (void)state;
    char entry[1200], tuning[1200], err[GANCL_ERR_LEN];
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--quiet", "--score-every", "0", "--steps", "2",
                             "--out", at("c1"), NULL), 0);
    cache_entry(entry, sizeof entry);
    assert_entry_whole(entry);
    /* a flipped byte in the middle of the binary, as a bad disk block would leave it */
    uint8_t *b;
    size_t n;
    if (gancl_read_file(entry, &b, &n, err)) fail_msg("%s", err);
    b[84 + (n - 84) / 2] ^= 0x5a;
    write_bytes(entry, b, n);
    free(b);
    /* a tuning file cut short, as a crash in the middle of writing one would leave it */
    gancl_runtime rt;
    gancl_device_info dev;
    if (open_test_runtime(&rt, &dev, GANCL_GEMM_AUTO)) fail_msg("no OpenCL device");
    assert_int_equal(gancl_tuning_path(&rt, tuning, sizeof tuning), 0);
    gancl_runtime_free(&rt);
    const char *cut = "{\"format\": \"gan-cl-tuning\", \"version\": 4, \"device\": \"";
    char tdir[1200];
    snprintf(tdir, sizeof tdir, "%.*s", (int)(strrchr(tuning, '/') - tuning), tuning);
    if (gancl_mkdirs(tdir, err)) fail_msg("%s", err);
    write_bytes(tuning, cut, strlen(cut));
    assert_int_equal(run_gan(NULL, "--data", data, "--offline", "--score-every", "0", "--steps", "2",
                             "--out", at("c2"), NULL), 0);
    EXPECT("warning:");
    EXPECT("tuning");
    EXPECT("done: 2 iterations");
    assert_entry_whole(entry); /* rebuilt and stored again */
    /* rejected, deleted and written anew by the quick tune of first use */
    uint8_t *t;
    size_t tn;
    if (gancl_read_file(tuning, &t, &tn, err)) fail_msg("%s", err);
    if (gancl_tuning_check(dev.name, dev.driver_version, t, tn, err)) fail_msg("%s", err);
    free(t);
}

static int setup(void **state) {
    (void)state;
    make_temp_dir(root, sizeof root);
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(cache, sizeof cache, "%s/cache", root);
    assert_int_equal(mkdir(data, 0755), 0);
    assert_int_equal(mkdir(cache, 0755), 0);
    setenv("XDG_CACHE_HOME", cache, 1); /* gan-cl's kernel cache and tuning files, this test's own */
    write_bar_dataset(data, 256);
    snprintf(data8, sizeof data8, "%s/data8", root);
    assert_int_equal(mkdir(data8, 0755), 0);
    write_bar_dataset(data8, 8);
    /* root mounts a tmpfs (when it may: not in every container) */
    as_root = 0;
    if (geteuid() == 0) {
        char probe[700];
        snprintf(probe, sizeof probe, "%s/probe", root);
        assert_int_equal(mkdir(probe, 0755), 0);
        as_root = mount("gancl-test", probe, "tmpfs", 0, "size=1m") == 0;
        if (as_root) umount2(probe, MNT_DETACH);
    }
    print_message("output faults through %s\n", as_root ? "a tmpfs (root)" : "RLIMIT_FSIZE and permissions");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (as_root) { /* a failed test may have left them mounted */
        umount2(at("full"), MNT_DETACH);
        umount2(at("ro"), MNT_DETACH);
    }
    remove_tree(root);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_saves),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_not_a_file),
        cmocka_unit_test(test_device_memory),
        cmocka_unit_test(test_broken_kernels),
        cmocka_unit_test(test_corrupt_caches_at_start_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
