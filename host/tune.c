/* tune.c: choosing CLBlast kernel parameters for this device on the model's own GEMM shapes,
 * storing the choice, and applying it (after a correctness check) when training starts. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/tune.h"
#include "gancl/fsutil.h"
#include "gancl/gan.h"
#include "gancl/gemm.h"
#include "gancl/json.h"
#include "gancl/selftest.h"
#include "gancl/sha256.h"
#include "gancl/train.h"

#include <clblast_c.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TUNING_FORMAT "gan-cl-tuning"
#define TUNING_VERSION 1

void gancl_shape_log_add(gancl_shape_log *log, int ta, int tb, size_t M, size_t N, size_t K) {
    for (int i = 0; i < log->n; i++) {
        gancl_gemm_shape *s = &log->shapes[i];
        if (s->ta == ta && s->tb == tb && s->M == M && s->N == N && s->K == K) {
            s->count++;
            return;
        }
    }
    if (log->n == GANCL_MAX_SHAPES) return;
    gancl_gemm_shape s = {ta, tb, M, N, K, 1};
    log->shapes[log->n++] = s;
}

/* ---- candidates: CLBlast parameter sets (all parameters of the kernel must be given) ---- */

static const char *const XGEMM_NAMES[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                          "NDIMC", "NWG", "SA", "SB", "STRM", "STRN", "VWM", "VWN"};
static const char *const DIRECT_NAMES[] = {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD",
                                           "PADA", "PADB", "VWMD", "VWND", "WGD"};
#define ALWAYS_INDIRECT 1
#define ALWAYS_DIRECT 100000000

typedef struct {
    const char *name;
    int direct;          /* 0: Xgemm (indirect path), 1: XgemmDirect */
    size_t values[16];   /* in the order of XGEMM_NAMES or DIRECT_NAMES */
} candidate;

/* "default" (CLBlast's own choice) first, so it is measured before anything is overridden.
 * Around 64x64 tiles with vectors of 8 (fast on CPUs through PoCL), a local-memory variant
 * (typical of GPUs), and one direct-kernel set; direct sets with wider vectors took minutes
 * to compile on PoCL and were slower, so they are not in the list. */
static const candidate CANDIDATES[] = {
    {"default", 0, {0}},
    {"xgemm-64x64-k16-v8", 0, {0, 1, 16, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-64x64-k32-v8", 0, {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-64x64-k16-v8-c4", 0, {0, 1, 16, 2, 8, 4, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-64x64-k16-v8-c4n4", 0, {0, 1, 16, 2, 8, 4, 64, 8, 4, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-64x64-k32-v8-c4", 0, {0, 1, 32, 2, 8, 4, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-64x64-k16-v8-c2", 0, {0, 1, 16, 2, 8, 2, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-32x64-k16-v8-c4", 0, {0, 1, 16, 2, 4, 4, 32, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-128x64-k16-v8", 0, {0, 1, 16, 2, 8, 8, 128, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"xgemm-32x32-k16-v8", 0, {0, 1, 16, 2, 4, 4, 32, 4, 4, 32, 0, 0, 0, 0, 8, 8}},
    {"xgemm-64x64-k16-v4-local", 0, {0, 1, 16, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 4, 4}},
    {"xgemm-32x32-k16-v2", 0, {0, 1, 16, 2, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 2, 2}},
    {"direct-32-v4", 1, {2, 8, 8, 8, 8, 1, 1, 4, 4, 32}},
};
#define N_CANDIDATES (int)(sizeof CANDIDATES / sizeof *CANDIDATES)

static int find_candidate(const char *name) {
    for (int i = 0; i < N_CANDIDATES; i++)
        if (!strcmp(CANDIDATES[i].name, name)) return i;
    return -1;
}

/* CLBlast status, 0 on success. */
static int apply_candidate(const gancl_runtime *rt, const candidate *c) {
    if (!strcmp(c->name, "default")) return 0;
    const char *names[16];
    size_t n = c->direct ? 10 : 16;
    for (size_t i = 0; i < n; i++) names[i] = c->direct ? DIRECT_NAMES[i] : XGEMM_NAMES[i];
    int rc = CLBlastOverrideParameters(rt->dev.id, c->direct ? "XgemmDirect" : "Xgemm",
                                       CLBlastPrecisionSingle, n, names, c->values);
    if (rc) return rc;
    const char *rn[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
    size_t rv[1] = {c->direct ? ALWAYS_DIRECT : ALWAYS_INDIRECT};
    return CLBlastOverrideParameters(rt->dev.id, "GemmRoutine", CLBlastPrecisionSingle, 1, rn, rv);
}

int gancl_tuning_path(const gancl_runtime *rt, char *out, size_t len) {
    char dir[4096], hex[65], key[1024];
    if (gancl_cache_dir("tuning", dir, sizeof dir)) return -1;
    snprintf(key, sizeof key, "%s|%s|%s|%s|%s", rt->dev.name, rt->dev.vendor, rt->dev.driver_version,
             rt->dev.platform_name, rt->dev.platform_version);
    gancl_sha256_hex(key, strlen(key), hex);
    hex[16] = 0;
    return snprintf(out, len, "%s/%s.json", dir, hex) < (int)len ? 0 : -1;
}

/* What a tuning file holds. */
typedef struct {
    double gflops[N_CANDIDATES]; /* NaN: not measured yet; -1: failed verification or launch */
    int best;                    /* -1 until complete */
} tuning;

static void tuning_clear(tuning *t) {
    for (int i = 0; i < N_CANDIDATES; i++) t->gflops[i] = NAN;
    t->best = -1;
}

/* Reads and validates a tuning file; -1 with err when it is damaged or for another device. */
static int tuning_read(const gancl_runtime *rt, const char *path, tuning *t, char *err) {
    uint8_t *buf;
    size_t n;
    tuning_clear(t);
    if (gancl_read_file(path, &buf, &n, err)) return -1;
    gancl_json j;
    char jerr[GANCL_ERR_LEN];
    int rc = gancl_json_parse((const char *)buf, n, &j, jerr);
    free(buf);
    if (rc) {
        snprintf(err, GANCL_ERR_LEN, "%s: %s", path, jerr);
        return -1;
    }
    const gancl_json *f = gancl_json_get(&j, "format"), *v = gancl_json_get(&j, "version");
    const gancl_json *dev = gancl_json_get(&j, "device"), *drv = gancl_json_get(&j, "driver");
    const gancl_json *m = gancl_json_get(&j, "measured"), *best = gancl_json_get(&j, "best");
    rc = -1;
    if (!f || f->type != GANCL_JSON_STRING || strcmp(f->string, TUNING_FORMAT) || !v ||
        v->type != GANCL_JSON_NUMBER || v->number != TUNING_VERSION)
        snprintf(err, GANCL_ERR_LEN, "%s: not a gan-cl tuning file of version %d", path, TUNING_VERSION);
    else if (!dev || dev->type != GANCL_JSON_STRING || strcmp(dev->string, rt->dev.name) || !drv ||
             drv->type != GANCL_JSON_STRING || strcmp(drv->string, rt->dev.driver_version))
        snprintf(err, GANCL_ERR_LEN, "%s: made for another device or driver", path);
    else if (!m || m->type != GANCL_JSON_OBJECT)
        snprintf(err, GANCL_ERR_LEN, "%s: no measurements", path);
    else
        rc = 0;
    for (int i = 0; rc == 0 && i < m->n; i++) {
        int c = find_candidate(m->keys[i]);
        if (c < 0 || m->items[i].type != GANCL_JSON_NUMBER || !(m->items[i].number >= -1)) {
            snprintf(err, GANCL_ERR_LEN, "%s: bad measurement '%s'", path, m->keys[i]);
            rc = -1;
        } else {
            t->gflops[c] = m->items[i].number;
        }
    }
    if (rc == 0 && best) {
        t->best = best->type == GANCL_JSON_STRING ? find_candidate(best->string) : -1;
        if (t->best < 0 || !(t->gflops[t->best] > 0)) {
            snprintf(err, GANCL_ERR_LEN, "%s: its best parameter set is unknown or unmeasured", path);
            rc = -1;
        }
    }
    gancl_json_free(&j);
    return rc;
}

static int tuning_write(const gancl_runtime *rt, const char *path, const tuning *t, char *err) {
    gancl_atomic_file f;
    if (gancl_atomic_open(&f, path, err)) return -1;
    fprintf(f.fp, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"device\": ", TUNING_FORMAT, TUNING_VERSION);
    gancl_json_write_string(f.fp, rt->dev.name);
    fputs(",\n  \"driver\": ", f.fp);
    gancl_json_write_string(f.fp, rt->dev.driver_version);
    fputs(",\n  \"platform\": ", f.fp);
    gancl_json_write_string(f.fp, rt->dev.platform_name);
    fputs(",\n  \"measured\": {", f.fp);
    int first = 1;
    for (int i = 0; i < N_CANDIDATES; i++) {
        if (isnan(t->gflops[i])) continue;
        fprintf(f.fp, "%s\n    \"%s\": %.2f", first ? "" : ",", CANDIDATES[i].name, t->gflops[i]);
        first = 0;
    }
    fputs("\n  }", f.fp);
    if (t->best >= 0) fprintf(f.fp, ",\n  \"best\": \"%s\"", CANDIDATES[t->best].name);
    fputs("\n}\n", f.fp);
    return gancl_atomic_commit(&f, err);
}

/* Every CLBlast transpose on odd shapes and offsets against the C reference. */
static int clblast_correct(const gancl_runtime *rt) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            if (!(gancl_check_gemm(rt, GANCL_GEMM_CLBLAST, ta, tb) <= 1e-4)) return 0;
    return 1;
}

gancl_tuning_status gancl_tuning_apply(gancl_runtime *rt, char *msg, size_t msglen) {
    char path[4096], err[GANCL_ERR_LEN];
    msg[0] = 0;
    if (gancl_tuning_path(rt, path, sizeof path) || !gancl_file_exists(path)) return GANCL_TUNING_NONE;
    tuning t;
    int rc = tuning_read(rt, path, &t, err);
    if (rc == 0 && t.best < 0) return GANCL_TUNING_NONE; /* an interrupted tune: nothing chosen yet */
    if (rc) {
        remove(path);
        snprintf(msg, msglen, "the GEMM tuning file was rejected and deleted (%s); run `gan-cl tune` again", err);
        return GANCL_TUNING_REJECTED;
    }
    const candidate *c = &CANDIDATES[t.best];
    if (apply_candidate(rt, c) || !clblast_correct(rt)) {
        remove(path);
        rt->gemm = GANCL_GEMM_MATMUL;
        snprintf(msg, msglen, "the tuned CLBlast parameters (%s) give wrong results on this device: "
                 "deleted them, using gan-cl's matmul kernel for now", c->name);
        return GANCL_TUNING_REJECTED;
    }
    snprintf(msg, msglen, "CLBlast tuned for this device: %s (%.1f GFLOP/s in tuning), from %s", c->name,
             t.gflops[t.best], path);
    return GANCL_TUNING_APPLIED;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    cl_mem a, b, c;
    float *A, *B, *C;
} shape_bufs;

/* Checks every shape against the C reference, then times 7 rounds of one iteration's GEMMs;
 * returns GFLOP/s of the best round, or -1 when a result is wrong. */
static double measure(const gancl_runtime *rt, const gancl_shape_log *log, shape_bufs *sb) {
    for (int s = 0; s < log->n; s++) {
        const gancl_gemm_shape *g = &log->shapes[s];
        gancl_gemm(rt, GANCL_GEMM_CLBLAST, g->ta, g->tb, g->M, g->N, g->K, 1.0f, sb[s].a, 0, sb[s].b, 0,
                   0.0f, sb[s].c, 0);
        gancl_read(rt, sb[s].c, 0, g->M * g->N * sizeof(float), sb[s].C);
        float *ref = malloc(g->M * g->N * sizeof *ref);
        if (!ref) gancl_die("out of host memory");
        gancl_gemm_ref(g->ta, g->tb, g->M, g->N, g->K, 1.0f, sb[s].A, sb[s].B, 0.0f, ref);
        int ok = 1;
        for (size_t i = 0; i < g->M * g->N && ok; i++)
            ok = fabs(sb[s].C[i] - ref[i]) <= 1e-4 * (1 + fabs(ref[i]));
        free(ref);
        if (!ok) return -1;
    }
    double flops = 0, best = INFINITY;
    for (int s = 0; s < log->n; s++)
        flops += 2.0 * log->shapes[s].M * log->shapes[s].N * log->shapes[s].K * log->shapes[s].count;
    for (int round = 0; round < 7; round++) { /* the best of 7: robust to other load */
        double t0 = now_s();
        for (int s = 0; s < log->n; s++) {
            const gancl_gemm_shape *g = &log->shapes[s];
            for (int k = 0; k < g->count; k++)
                gancl_gemm(rt, GANCL_GEMM_CLBLAST, g->ta, g->tb, g->M, g->N, g->K, 1.0f, sb[s].a, 0,
                           sb[s].b, 0, 0.0f, sb[s].c, 0);
        }
        CL_CHECK(clFinish(rt->queue));
        double dt = now_s() - t0;
        best = dt < best ? dt : best;
    }
    return flops / best * 1e-9;
}

/* The GEMM shapes of one training iteration of the MLP GAN at `batch`. */
static void record_shapes(gancl_runtime *rt, int batch, gancl_shape_log *log) {
    gancl_gan gan;
    gancl_gan_init(&gan, rt, gancl_gan_default_dims(100), batch, batch, 0);
    gancl_gan_init_params(&gan, 1);
    cl_mem img = gancl_buffer(rt, (size_t)batch * 784), perm = gancl_buffer(rt, (size_t)batch * sizeof(int));
    uint8_t zero = 0;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, img, &zero, 1, 0, (size_t)batch * 784, 0, NULL, NULL));
    int zi = 0;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, perm, &zi, sizeof zi, 0, (size_t)batch * sizeof(int), 0, NULL, NULL));
    gancl_step_config opt = gancl_step_defaults(GANCL_LOSS_BCE);
    memset(log, 0, sizeof *log);
    rt->shape_log = log;
    gancl_train_iteration(&gan, &opt, img, perm, 0, 1, 0);
    rt->shape_log = NULL;
    CL_CHECK(clFinish(rt->queue));
    clReleaseMemObject(img);
    clReleaseMemObject(perm);
    gancl_gan_free(&gan);
}

int gancl_tune(gancl_runtime *rt, int batch, FILE *out) {
    char path[4096], err[GANCL_ERR_LEN], dir[4096];
    if (gancl_tuning_path(rt, path, sizeof path) || gancl_cache_dir("tuning", dir, sizeof dir) ||
        gancl_mkdirs(dir, err)) {
        fprintf(stderr, "gan-cl: error: no cache directory for the tuning results (set HOME or XDG_CACHE_HOME)\n");
        return 1;
    }
    tuning t;
    tuning_clear(&t);
    if (gancl_file_exists(path)) {
        if (tuning_read(rt, path, &t, err)) {
            fprintf(out, "starting over: %s\n", err);
            tuning_clear(&t);
        } else {
            int done = 0;
            for (int i = 0; i < N_CANDIDATES; i++) done += !isnan(t.gflops[i]);
            fprintf(out, "resuming: %d of %d parameter sets already measured (%s)\n", done, N_CANDIDATES, path);
        }
        t.best = -1;
    }
    gancl_shape_log log;
    record_shapes(rt, batch, &log);
    fprintf(out, "tuning CLBlast's GEMM on %s for the %d GEMM shapes of an MLP iteration at batch %d\n",
            rt->dev.name, log.n, batch);
    shape_bufs sb[GANCL_MAX_SHAPES];
    uint64_t rng = 3;
    for (int s = 0; s < log.n; s++) {
        const gancl_gemm_shape *g = &log.shapes[s];
        size_t na = g->M * g->K, nb = g->K * g->N, nc = g->M * g->N;
        sb[s].A = malloc(na * sizeof(float));
        sb[s].B = malloc(nb * sizeof(float));
        sb[s].C = malloc(nc * sizeof(float));
        if (!sb[s].A || !sb[s].B || !sb[s].C) gancl_die("out of host memory");
        for (size_t i = 0; i < na; i++) sb[s].A[i] = gancl_uniform(&rng, -1, 1);
        for (size_t i = 0; i < nb; i++) sb[s].B[i] = gancl_uniform(&rng, -1, 1);
        sb[s].a = gancl_buffer(rt, na * sizeof(float));
        sb[s].b = gancl_buffer(rt, nb * sizeof(float));
        sb[s].c = gancl_buffer(rt, nc * sizeof(float));
        gancl_write(rt, sb[s].a, 0, na * sizeof(float), sb[s].A);
        gancl_write(rt, sb[s].b, 0, nb * sizeof(float), sb[s].B);
    }
    double t_start = now_s();
    int status = 0;
    for (int i = 0; i < N_CANDIDATES; i++) {
        if (!isnan(t.gflops[i])) {
            fprintf(out, "  %-28s %7.1f GFLOP/s (measured before)\n", CANDIDATES[i].name, t.gflops[i]);
            continue;
        }
        double t0 = now_s();
        int rc = apply_candidate(rt, &CANDIDATES[i]);
        double g = rc ? -1 : measure(rt, &log, sb);
        t.gflops[i] = g;
        if (g < 0) fprintf(out, "  %-28s rejected (%s)\n", CANDIDATES[i].name, rc ? "CLBlast refused it" : "wrong results");
        else fprintf(out, "  %-28s %7.1f GFLOP/s  (%.1f s)\n", CANDIDATES[i].name, g, now_s() - t0);
        fflush(out);
        if (tuning_write(rt, path, &t, err)) { /* progress survives an interruption */
            fprintf(stderr, "gan-cl: error: %s\n", err);
            status = 1;
            break;
        }
    }
    for (int i = 0; status == 0 && i < N_CANDIDATES; i++)
        if (t.gflops[i] > 0 && (t.best < 0 || t.gflops[i] > t.gflops[t.best])) t.best = i;
    if (status == 0 && t.best < 0) {
        fprintf(stderr, "gan-cl: error: no parameter set gave correct results on this device\n");
        status = 1;
    }
    if (status == 0 && tuning_write(rt, path, &t, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        status = 1;
    }
    if (status == 0) {
        double base = t.gflops[0] > 0 ? t.gflops[0] : NAN;
        fprintf(out, "best: %s, %.1f GFLOP/s", CANDIDATES[t.best].name, t.gflops[t.best]);
        if (!isnan(base)) fprintf(out, " (CLBlast's default: %.1f GFLOP/s, %.2fx)", base, t.gflops[t.best] / base);
        fprintf(out, "; tuning took %.0f s; stored in %s\n", now_s() - t_start, path);
    }
    for (int s = 0; s < log.n; s++) {
        clReleaseMemObject(sb[s].a);
        clReleaseMemObject(sb[s].b);
        clReleaseMemObject(sb[s].c);
        free(sb[s].A);
        free(sb[s].B);
        free(sb[s].C);
    }
    return status;
}
