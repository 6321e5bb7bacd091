/* tune.c: `gan-cl tune`: choosing how each GEMM shape of a model runs on this device, storing
 * the choice, and applying it (after a correctness check) when training starts.
 * Two stages: a CLBlast kernel parameter set for the device (CLBlast ships tuned parameters
 * for many GPUs, not for PoCL or many laptop GPUs), then per GEMM shape the fastest correct
 * method among CLBlast with that set, gan-cl's tiled kernel and its register-blocked kernels. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/tune.h"
#include "gancl/ssgan.h"
#include "gancl/fsutil.h"
#include "gancl/classifier.h"
#include "gancl/gan.h"
#include "gancl/gemm.h"
#include "gancl/json.h"
#include "gancl/selftest.h"
#include "gancl/sha256.h"
#include "gancl/train.h"

#include <clblast_c.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TUNING_FORMAT "gan-cl-tuning"
/* 3 since 2026-12-03: version 2's quick tunes timed short products at 30-60% below their rate
 * (time_gemms' repetitions) and never measured the pb-/pt- methods for shapes already planned,
 * so its files are replaced, shapes tuned again as they are met */
/* 4 since 2026-12-04: version 3's quick tunes sliced products until their operands fitted the
 * cache (xn-8x32 chosen at a fifth of pb-8x32's speed in training), and did not say which
 * shapes a full tune must time again */
#define TUNING_VERSION 4
#define MAX_WORKLOADS 16
/* a quick tune starts no new shape after this many seconds (the next run goes on) */
#define QUICK_BUDGET_S 90.0
/* a quick tune times the RUNOFF fastest candidates of a product shorter than RUNOFF_S once more,
 * after all the others: on a shared machine one slow moment had decided between methods within
 * 10% of each other, and cost up to 40% on the product in training */
#define RUNOFF 3
#define RUNOFF_S 0.02
/* a quick tune times a product that ran longer than 2 SLICE_S once on a slice of it that takes
 * about SLICE_S: timed whole, the score's 10000 x 1677 x 128 distances took 1.4 s to tune */
#define SLICE_S 0.005
/* (the slice keeps twice the device's global memory cache in its inputs' bytes when the whole
 * product's exceed it: a slice whose inputs fit the cache times the kernels that stream one
 * too fast. DCGAN, 256 x 12544 x 3200: xn-8x32 timed at 497 GFLOP/s on a slice with 13 MB of
 * inputs in a 32 MiB cache, and ran at 86 in training, against 467 for pb-8x32) */

/* ---- candidates: CLBlast parameter sets (all parameters of the kernel must be given) ---- */

static const char *const XGEMM_NAMES[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                          "NDIMC", "NWG", "SA", "SB", "STRM", "STRN", "VWM", "VWN"};
static const char *const DIRECT_NAMES[] = {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD",
                                           "PADA", "PADB", "VWMD", "VWND", "WGD"};

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
    return rc ? rc : gancl_gemm_clblast_route(rt, !c->direct);
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


/* What a tuning file holds. GFLOP/s values: NaN not measured yet, -1 wrong results or refused. */
typedef struct {
    double clblast[N_CANDIDATES]; /* each CLBlast parameter set over a model's GEMMs */
    int clblast_best;             /* -1 until chosen */
    gancl_gemm_plan plan;         /* measured shapes; method -1 until chosen */
    double gflops[GANCL_MAX_SHAPES][GANCL_GEMM_MAX_METHODS];
    unsigned char sliced[GANCL_MAX_SHAPES]; /* measured by a quick tune on a slice: a full tune times it again */
    char workloads[MAX_WORKLOADS][32]; /* "mlp b64": models and batch sizes fully tuned */
    int n_workloads;
} tuning;

static void tuning_clear(tuning *t) {
    memset(t, 0, sizeof *t);
    for (int i = 0; i < N_CANDIDATES; i++) t->clblast[i] = NAN;
    t->clblast_best = -1;
}

static int add_shape(tuning *t, const gancl_gemm_shape *s) {
    int i = gancl_gemm_plan_find(&t->plan, s->ta, s->tb, s->M, s->N, s->K);
    if (i >= 0 || t->plan.n == GANCL_MAX_SHAPES) return i;
    i = t->plan.n++;
    t->plan.shapes[i] = *s;
    t->plan.method[i] = -1;
    for (int m = 0; m < GANCL_GEMM_MAX_METHODS; m++) t->gflops[i][m] = NAN;
    return i;
}

static void shape_key(const gancl_gemm_shape *s, char *out, size_t len) {
    snprintf(out, len, "%c%c %zux%zux%zu", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K);
}

static int parse_shape_key(const char *key, gancl_gemm_shape *s) {
    char a, b, end;
    memset(s, 0, sizeof *s);
    if (sscanf(key, "%c%c %zux%zux%zu%c", &a, &b, &s->M, &s->N, &s->K, &end) != 5) return -1;
    if ((a != 'N' && a != 'T') || (b != 'N' && b != 'T') || !s->M || !s->N || !s->K) return -1;
    s->ta = a == 'T';
    s->tb = b == 'T';
    s->count = 1;
    return 0;
}

static int is_gflops(const gancl_json *v) { return v->type == GANCL_JSON_NUMBER && v->number >= -1; }

/* Validates the tuning file text buf[0..n) (named `path` in messages) for the device `device`
 * with driver `driver`; -1 with err when it is damaged or for another device. */
static int tuning_parse(const char *device, const char *driver, const char *path, const uint8_t *buf,
                        size_t n, tuning *t, char *err) {
    tuning_clear(t);
    gancl_json j;
    char jerr[GANCL_ERR_LEN];
    int rc = gancl_json_parse((const char *)buf, n, &j, jerr);
    if (rc) {
        snprintf(err, GANCL_ERR_LEN, "%s: %s", path, jerr);
        return -1;
    }
    const gancl_json *f = gancl_json_get(&j, "format"), *v = gancl_json_get(&j, "version");
    const gancl_json *dev = gancl_json_get(&j, "device"), *drv = gancl_json_get(&j, "driver");
    const gancl_json *cm = gancl_json_get(&j, "clblast"), *cb = gancl_json_get(&j, "clblast_best");
    const gancl_json *sh = gancl_json_get(&j, "shapes"), *pl = gancl_json_get(&j, "plan");
    const gancl_json *wl = gancl_json_get(&j, "tuned_for"), *sl = gancl_json_get(&j, "sliced");
#define BAD(...) do { snprintf(err, GANCL_ERR_LEN, __VA_ARGS__); goto fail; } while (0)
    const int format = f && f->type == GANCL_JSON_STRING && !strcmp(f->string, TUNING_FORMAT);
    if (format && v && v->type == GANCL_JSON_NUMBER && v->number >= 1 && v->number < TUNING_VERSION)
        BAD("%s: written by an earlier gan-cl (format version %d; this one reads %d)", path, (int)v->number,
            TUNING_VERSION);
    if (!format || !v || v->type != GANCL_JSON_NUMBER || v->number != TUNING_VERSION)
        BAD("%s: not a gan-cl tuning file of version %d", path, TUNING_VERSION);
    if (!dev || dev->type != GANCL_JSON_STRING || strcmp(dev->string, device) || !drv ||
        drv->type != GANCL_JSON_STRING || strcmp(drv->string, driver))
        BAD("%s: made for another device or driver", path);
    if (!cm || cm->type != GANCL_JSON_OBJECT) BAD("%s: no CLBlast measurements", path);
    for (int i = 0; i < cm->n; i++) {
        int c = find_candidate(cm->keys[i]);
        if (c < 0 || !is_gflops(&cm->items[i])) BAD("%s: bad CLBlast measurement '%s'", path, cm->keys[i]);
        t->clblast[c] = cm->items[i].number;
    }
    if ((sh && sh->type != GANCL_JSON_OBJECT) || (pl && pl->type != GANCL_JSON_OBJECT) ||
        (wl && wl->type != GANCL_JSON_ARRAY) || (sl && sl->type != GANCL_JSON_ARRAY))
        BAD("%s: shapes, plan, sliced or tuned_for of the wrong type", path);
    if (cb) {
        t->clblast_best = cb->type == GANCL_JSON_STRING ? find_candidate(cb->string) : -1;
        if (t->clblast_best < 0 || !(t->clblast[t->clblast_best] > 0))
            BAD("%s: its CLBlast parameter set is unknown or unmeasured", path);
    }
    for (int i = 0; sh && i < sh->n; i++) {
        gancl_gemm_shape s;
        const gancl_json *ms = &sh->items[i];
        if (parse_shape_key(sh->keys[i], &s) || ms->type != GANCL_JSON_OBJECT ||
            gancl_gemm_plan_find(&t->plan, s.ta, s.tb, s.M, s.N, s.K) >= 0)
            BAD("%s: bad shape '%s'", path, sh->keys[i]);
        int k = add_shape(t, &s);
        if (k < 0) BAD("%s: too many shapes", path);
        for (int m = 0; m < ms->n; m++) {
            gancl_gemm_method method = gancl_gemm_method_find(ms->keys[m]);
            if (method < 0 || !gancl_gemm_method_supports(method, s.ta, s.tb) || !is_gflops(&ms->items[m]))
                BAD("%s: bad measurement '%s' of shape %s", path, ms->keys[m], sh->keys[i]);
            t->gflops[k][method] = ms->items[m].number;
        }
    }
    for (int i = 0; pl && i < pl->n; i++) {
        gancl_gemm_shape s;
        int k = -1;
        gancl_gemm_method method = -2;
        if (parse_shape_key(pl->keys[i], &s) == 0) k = gancl_gemm_plan_find(&t->plan, s.ta, s.tb, s.M, s.N, s.K);
        if (k >= 0 && pl->items[i].type == GANCL_JSON_STRING) method = gancl_gemm_method_find(pl->items[i].string);
        if (k < 0 || method < 0 || !(t->gflops[k][method] > 0))
            BAD("%s: bad choice for shape '%s'", path, pl->keys[i]);
        t->plan.method[k] = method;
    }
    for (int i = 0; sl && i < sl->n; i++) {
        gancl_gemm_shape s;
        int k = -1;
        if (sl->items[i].type == GANCL_JSON_STRING && parse_shape_key(sl->items[i].string, &s) == 0)
            k = gancl_gemm_plan_find(&t->plan, s.ta, s.tb, s.M, s.N, s.K);
        if (k < 0) BAD("%s: bad sliced shape", path);
        t->sliced[k] = 1;
    }
    for (int i = 0; wl && i < wl->n; i++) {
        if (wl->items[i].type != GANCL_JSON_STRING ||
            strlen(wl->items[i].string) >= sizeof t->workloads[0] || t->n_workloads == MAX_WORKLOADS)
            BAD("%s: bad list of tuned models", path);
        snprintf(t->workloads[t->n_workloads++], sizeof t->workloads[0], "%s", wl->items[i].string);
    }
#undef BAD
    gancl_json_free(&j);
    return 0;
fail:
    gancl_json_free(&j);
    return -1;
}

static int tuning_read(const gancl_runtime *rt, const char *path, tuning *t, char *err) {
    uint8_t *buf;
    size_t n;
    tuning_clear(t);
    if (gancl_read_file(path, &buf, &n, err)) return -1;
    int rc = tuning_parse(rt->dev.name, rt->dev.driver_version, path, buf, n, t, err);
    free(buf);
    return rc;
}

int gancl_tuning_check(const char *device, const char *driver, const uint8_t *buf, size_t n, char *err) {
    tuning *t = malloc(sizeof *t);
    if (!t) {
        snprintf(err, GANCL_ERR_LEN, "out of host memory");
        return -1;
    }
    int rc = tuning_parse(device, driver, "tuning file", buf, n, t, err);
    free(t);
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
    fputs(",\n  \"clblast\": {", f.fp);
    const char *sep = "";
    for (int i = 0; i < N_CANDIDATES; i++) {
        if (isnan(t->clblast[i])) continue;
        fprintf(f.fp, "%s\n    \"%s\": %.2f", sep, CANDIDATES[i].name, t->clblast[i]);
        sep = ",";
    }
    fputs("\n  }", f.fp);
    if (t->clblast_best >= 0) fprintf(f.fp, ",\n  \"clblast_best\": \"%s\"", CANDIDATES[t->clblast_best].name);
    char key[96];
    fputs(",\n  \"shapes\": {", f.fp);
    for (int i = 0; i < t->plan.n; i++) {
        shape_key(&t->plan.shapes[i], key, sizeof key);
        fprintf(f.fp, "%s\n    \"%s\": {", i ? "," : "", key);
        sep = "";
        for (int m = 0; m < GANCL_GEMM_MAX_METHODS; m++) {
            if (isnan(t->gflops[i][m])) continue;
            fprintf(f.fp, "%s\"%s\": %.2f", sep, gancl_gemm_method_name(m), t->gflops[i][m]);
            sep = ", ";
        }
        fputs("}", f.fp);
    }
    fputs("\n  },\n  \"plan\": {", f.fp);
    sep = "";
    for (int i = 0; i < t->plan.n; i++) {
        if (t->plan.method[i] < 0) continue;
        shape_key(&t->plan.shapes[i], key, sizeof key);
        fprintf(f.fp, "%s\n    \"%s\": \"%s\"", sep, key, gancl_gemm_method_name(t->plan.method[i]));
        sep = ",";
    }
    fputs("\n  },\n  \"sliced\": [", f.fp);
    sep = "";
    for (int i = 0; i < t->plan.n; i++) {
        if (!t->sliced[i]) continue;
        shape_key(&t->plan.shapes[i], key, sizeof key);
        fprintf(f.fp, "%s\"%s\"", sep, key);
        sep = ", ";
    }
    fputs("],\n  \"tuned_for\": [", f.fp);
    for (int i = 0; i < t->n_workloads; i++) {
        fputs(i ? ", " : "", f.fp);
        gancl_json_write_string(f.fp, t->workloads[i]);
    }
    fputs("]\n}\n", f.fp);
    return gancl_atomic_commit(&f, err);
}

void gancl_tuning_workload(gancl_model model, int batch, char *out, size_t len) {
    snprintf(out, len, "%s b%d", gancl_model_name(model), batch);
}

static int has_workload(const tuning *t, const char *w) {
    for (int i = 0; i < t->n_workloads; i++)
        if (!strcmp(t->workloads[i], w)) return 1;
    return 0;
}

gancl_tuning_status gancl_tuning_apply(gancl_runtime *rt, const gancl_workload *w, char *msg, size_t msglen) {
    char path[4096], err[GANCL_ERR_LEN];
    msg[0] = 0;
    if (gancl_tuning_path(rt, path, sizeof path) || !gancl_file_exists(path)) return GANCL_TUNING_NONE;
    tuning *t = malloc(sizeof *t);
    if (!t) gancl_die("out of host memory");
    gancl_tuning_status status = GANCL_TUNING_NONE;
    if (tuning_read(rt, path, t, err)) {
        remove(path);
        snprintf(msg, msglen, "the GEMM tuning file was rejected and deleted (%s); shapes are tuned again as they are met", err);
        status = GANCL_TUNING_REJECTED;
        goto done;
    }
    int planned = 0, own = 0;
    for (int i = 0; i < t->plan.n; i++) planned += t->plan.method[i] >= 0;
    if (t->clblast_best < 0 && !planned) goto done; /* interrupted before anything was chosen */
    const char *wrong = NULL, *unsuited = NULL;
    for (int i = 0; i < t->plan.n; i++) /* a CPU-only kernel chosen for a GPU (an old file) */
        if (t->plan.method[i] >= 0 && !gancl_gemm_method_suits(t->plan.method[i], &rt->dev))
            unsuited = gancl_gemm_method_name(t->plan.method[i]);
    if (unsuited) {
        remove(path);
        snprintf(msg, msglen, "the GEMM tuning chose %s, a kernel blocked for CPUs, for this GPU: deleted it; "
                 "run `gan-cl tune` again", unsuited);
        status = GANCL_TUNING_REJECTED;
        goto done;
    }
    /* CLBlast's parameters, when a full tune chose them (a quick tune leaves CLBlast's own) */
    const candidate *c = &CANDIDATES[t->clblast_best >= 0 ? t->clblast_best : 0];
    if (t->clblast_best >= 0 && apply_candidate(rt, c)) wrong = c->name;
    for (int ta = 0; ta < 2 && !wrong && t->clblast_best >= 0; ta++) /* every transpose, odd shapes and offsets */
        for (int tb = 0; tb < 2 && !wrong; tb++)
            if (!(gancl_check_gemm(rt, GANCL_GEMM_CLBLAST, ta, tb) <= 1e-4)) wrong = c->name;
    for (int i = 0; i < t->plan.n && !wrong; i++) { /* each of our kernels the plan uses */
        const gancl_gemm_shape *s = &t->plan.shapes[i];
        gancl_gemm_method m = t->plan.method[i];
        int seen = 0;
        for (int k = 0; k < i; k++)
            seen |= t->plan.method[k] == m && t->plan.shapes[k].ta == s->ta && t->plan.shapes[k].tb == s->tb;
        if (m > GANCL_GEMM_CLBLAST) own++;
        if (m > GANCL_GEMM_CLBLAST && !seen && !(gancl_check_gemm(rt, m, s->ta, s->tb) <= 1e-4))
            wrong = gancl_gemm_method_name(m);
    }
    if (wrong) {
        remove(path);
        apply_candidate(rt, &CANDIDATES[0]);
        rt->gemm = GANCL_GEMM_MATMUL;
        snprintf(msg, msglen, "the tuned GEMM (%s) gives wrong results on this device: deleted the "
                 "tuning, using gan-cl's matmul kernel for now", wrong);
        status = GANCL_TUNING_REJECTED;
        goto done;
    }
    if (!rt->gemm_plan && !(rt->gemm_plan = malloc(sizeof *rt->gemm_plan))) gancl_die("out of host memory");
    *rt->gemm_plan = t->plan;
    int n = snprintf(msg, msglen, "GEMM tuned for this device: CLBlast %s, own kernels for %d of %d shapes (%s)",
                     t->clblast_best >= 0 ? c->name : "with its own parameters", own, planned, path);
    status = GANCL_TUNING_APPLIED;
    gancl_shape_log log;
    if (w && gancl_workload_shapes(rt, w, &log, err) == 0) { /* this run's shapes without a choice
                                                                (a run that cannot start says why itself) */
        int missing = 0;
        for (int i = 0; i < log.n; i++) {
            const gancl_gemm_shape *s = &log.shapes[i];
            int k = gancl_gemm_plan_find(&t->plan, s->ta, s->tb, s->M, s->N, s->K);
            missing += k < 0 || t->plan.method[k] < 0;
        }
        if (missing && n > 0 && (size_t)n < msglen) {
            snprintf(msg + n, msglen - n, "\nnote: %d of this run's %d GEMM shapes are not tuned yet", missing, log.n);
            status = GANCL_TUNING_OTHER_SHAPES;
        }
    }
done:
    free(t);
    return status;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Random operands large enough for every shape (each shape uses a prefix), and C. */
typedef struct {
    cl_mem a, b, c;
    float *A, *B, *C;
} operands;

/* Runs shape s by `method` on NaN-filled C and compares 64 entries (the first and last rows
 * and columns among them) with the double reference; every entry must be finite (written). */
static int shape_correct(const gancl_runtime *rt, gancl_gemm_method method, const gancl_gemm_shape *s,
                         operands *o) {
    const float nan = NAN;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, o->c, &nan, sizeof nan, 0, s->M * s->N * sizeof(float), 0, NULL, NULL));
    gancl_gemm_with(rt, method, s->ta, s->tb, s->M, s->N, s->K, 1.0f, o->a, 0, o->b, 0, 0.0f, o->c, 0);
    gancl_read(rt, o->c, 0, s->M * s->N * sizeof(float), o->C);
    for (size_t i = 0; i < s->M * s->N; i++)
        if (!isfinite(o->C[i])) return 0;
    uint64_t rng = 11;
    for (int p = 0; p < 64; p++) {
        size_t i = p % 8 == 0 ? 0 : p % 8 == 1 ? s->M - 1 : gancl_splitmix64(&rng) % s->M;
        size_t j = p / 8 == 0 ? 0 : p / 8 == 1 ? s->N - 1 : gancl_splitmix64(&rng) % s->N;
        double ref = 0, mag = 0;
        for (size_t k = 0; k < s->K; k++) {
            double t = (double)(s->ta ? o->A[k * s->M + i] : o->A[i * s->K + k]) *
                       (s->tb ? o->B[j * s->K + k] : o->B[k * s->N + j]);
            ref += t;
            mag += fabs(t);
        }
        /* float rounding grows with K: allow 4 sqrt(K) eps of the terms' magnitude (a wrong
         * result is off by about |ref| ~ sqrt(K) / 3 here, far more) */
        double tol = fmax(1e-4 * (1 + fabs(ref)), 4 * sqrt((double)s->K) * FLT_EPSILON * mag);
        if (!(fabs(o->C[i * s->N + j] - ref) <= tol)) return 0;
    }
    return 1;
}

/* Seconds for one round of the n shapes, each run `count` times, by `method`: the best of up
 * to 7 rounds (at least 2, more while under a second in all; quick, after the correctness
 * check or a first launch has run it once: at most 4, more than one only while under 0.1 s in
 * all); one round when it already takes longer than give_up. A round of a product that takes
 * under 2 ms is repeated to about 2 ms (timing a single short launch is mostly noise). */
static double time_gemms(const gancl_runtime *rt, gancl_gemm_method method, const gancl_gemm_shape *shapes,
                         int n, operands *o, double give_up, int quick) {
    double best = INFINITY, spent = 0;
    const int rounds = quick ? 4 : 7, least = quick ? 1 : 2;
    const double enough = quick ? 0.1 : 1.0;
    int reps = 1;
    for (int round = 0; round < rounds && (round < least || spent < enough); round++) {
        double t0 = now_s();
        for (int r = 0; r < reps; r++)
            for (int s = 0; s < n; s++)
                for (int k = 0; k < shapes[s].count; k++)
                    gancl_gemm_with(rt, method, shapes[s].ta, shapes[s].tb, shapes[s].M, shapes[s].N, shapes[s].K,
                                    1.0f, o->a, 0, o->b, 0, 0.0f, o->c, 0);
        CL_CHECK(clFinish(rt->queue));
        double dt = now_s() - t0;
        spent += dt;
        dt /= reps;
        best = dt < best ? dt : best;
        if (best > give_up) break; /* far slower than the best method: one round tells */
        /* from the first round under 2 ms: a quick tune's first round of a method can include
         * the driver's set-up for this launch size, and repeating it only once after that had
         * timed short products at 30-60% below a full tune's rate */
        if (reps == 1 && dt < 0.002) reps = dt * 64 < 0.002 ? 64 : (int)(0.002 / dt) + 1;
    }
    return best;
}

static double flops_of(const gancl_gemm_shape *s, int n) {
    double f = 0;
    for (int i = 0; i < n; i++) f += 2.0 * s[i].M * s[i].N * s[i].K * s[i].count;
    return f;
}

/* the bytes of a product's two inputs (C is written once, in any slice as in the whole) */
static double footprint(const gancl_gemm_shape *s) { return 4.0 * ((double)s->M * s->K + (double)s->K * s->N); }

gancl_gemm_shape gancl_tune_slice(gancl_gemm_shape s, double fraction, double cache_bytes) {
    const double min_bytes = footprint(&s) > cache_bytes ? 2 * cache_bytes : 0;
    size_t *d = s.M >= s.N && s.M >= s.K ? &s.M : s.N >= s.K ? &s.N : &s.K;
    const size_t whole = *d;
    *d = 0; /* the footprint is b + a * d along the cut dimension */
    const double b = footprint(&s);
    *d = 1;
    const double a = footprint(&s) - b;
    size_t cut = (size_t)ceil(whole * fraction / 192) * 192;
    if (b + a * cut < min_bytes) cut = (size_t)ceil((min_bytes - b) / a / 192) * 192;
    cut = cut < 768 ? 768 : cut;
    *d = cut < whole ? cut : whole;
    return s;
}

gancl_workload gancl_workload_default(gancl_model model, int batch, gancl_loss loss) {
    gancl_workload w = {model, gancl_arch_default(model, 100), loss, batch};
    return w;
}

int gancl_workload_shapes(gancl_runtime *rt, const gancl_workload *w, gancl_shape_log *log, char *err) {
    memset(log, 0, sizeof *log);
    if (w->model == GANCL_MODEL_CLASSIFIER) {
        gancl_classifier_record_shapes(rt, log);
        return 0;
    }
    gancl_gan gan;
    const int batch = w->batch;
    if (gancl_gan_init(&gan, rt, &w->arch, batch, batch, w->loss == GANCL_LOSS_WGAN_GP, err)) return -1;
    gancl_gan_init_params(&gan, 1);
    cl_mem img = gancl_buffer(rt, (size_t)batch * 784), perm = gancl_buffer(rt, (size_t)batch * sizeof(int));
    uint8_t zero = 0;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, img, &zero, 1, 0, (size_t)batch * 784, 0, NULL, NULL));
    int zi = 0;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, perm, &zi, sizeof zi, 0, (size_t)batch * sizeof(int), 0, NULL, NULL));
    gancl_step_config opt = gancl_step_defaults(w->loss);
    rt->shape_log = log; /* GEMMs are recorded, not run: the other kernels see garbage, harmlessly */
    if (w->model == GANCL_MODEL_SSGAN) /* perm's zeros serve as the orders and the classes */
        gancl_ssgan_iteration(&gan, &opt, 0.003f, 1.0f, img, perm, perm, perm, perm, 0, 1, 0);
    else /* the step that ends in a G step, so that both networks' products are seen */
        gancl_train_iteration(&gan, &opt, img, perm, perm, 0, 1, opt.n_critic - 1);
    CL_CHECK(clFinish(rt->queue));
    rt->shape_log = NULL;
    clReleaseMemObject(img);
    clReleaseMemObject(perm);
    gancl_gan_free(&gan);
    return 0;
}

static int save(const gancl_runtime *rt, const char *path, const tuning *t) {
    char err[GANCL_ERR_LEN];
    if (tuning_write(rt, path, t, err) == 0) return 0;
    fprintf(stderr, "gan-cl: error: %s\n", err);
    return -1;
}

/* Stage 1: CLBlast's parameter sets, each over all of the iteration's GEMMs: the first n of
 * them (CLBlast's own first), out NULL: silently. */
static int tune_clblast(const gancl_runtime *rt, const char *path, tuning *t, const gancl_shape_log *log,
                        operands *o, int n, FILE *out) {
    const double flops = flops_of(log->shapes, log->n);
    if (out) fprintf(out, "CLBlast parameter sets, over all GEMMs of one iteration (%.2f GFLOP):\n", flops * 1e-9);
    for (int i = 0; i < n; i++) {
        if (!isnan(t->clblast[i])) {
            if (out) fprintf(out, "  %-28s %7.1f GFLOP/s (measured before)\n", CANDIDATES[i].name, t->clblast[i]);
            continue;
        }
        double t0 = now_s();
        int rc = apply_candidate(rt, &CANDIDATES[i]), ok = rc == 0;
        for (int s = 0; s < log->n && ok; s++) ok = shape_correct(rt, GANCL_GEMM_CLBLAST, &log->shapes[s], o);
        t->clblast[i] = ok ? flops / time_gemms(rt, GANCL_GEMM_CLBLAST, log->shapes, log->n, o, INFINITY, !out) * 1e-9 : -1;
        if (!out);
        else if (!ok) fprintf(out, "  %-28s rejected (%s)\n", CANDIDATES[i].name, rc ? "CLBlast refused it" : "wrong results");
        else fprintf(out, "  %-28s %7.1f GFLOP/s  (%.1f s)\n", CANDIDATES[i].name, t->clblast[i], now_s() - t0);
        if (out) fflush(out);
        if (save(rt, path, t)) return -1; /* progress survives an interruption */
    }
    t->clblast_best = -1;
    for (int i = 0; i < N_CANDIDATES; i++)
        if (t->clblast[i] > 0 && (t->clblast_best < 0 || t->clblast[i] > t->clblast[t->clblast_best])) t->clblast_best = i;
    if (t->clblast_best < 0) {
        fprintf(stderr, "gan-cl: error: no CLBlast parameter set gave correct results on this device\n");
        return -1;
    }
    return save(rt, path, t);
}

/* Stage 2: every method on each shape, CLBlast (with the parameters chosen, if any) included
 * when `with_clblast`. Quick: no line per shape (a progress line on a tty), and no new shape
 * started after `deadline`; *done counts the shapes with a choice. */
static int tune_shapes(const gancl_runtime *rt, const char *path, tuning *t, const gancl_shape_log *log,
                       operands *o, gancl_tune_mode mode, int with_clblast, double deadline, FILE *out,
                       int tty, int *done) {
    const int quick = mode == GANCL_TUNE_QUICK, cpu = (rt->dev.type & CL_DEVICE_TYPE_CPU) != 0;
    *done = 0;
    if (!quick) fprintf(out, "each GEMM shape (ta tb MxNxK, runs per iteration): the fastest correct method\n");
    else /* quick tunes time a candidate once when it is slow: its first launch (the driver's own
            compilation) goes first, on a 1 x 1 x 1 product (the operands may hold no more) */
        for (gancl_gemm_method m = 1; m < gancl_gemm_method_count(); m++)
            if (gancl_gemm_method_suits(m, &rt->dev) && !(cpu && gancl_gemm_method_gpu_shaped(m)))
                gancl_gemm_with(rt, m, 0, !gancl_gemm_method_supports(m, 0, 0), 1, 1, 1, 1.0f, o->a, 0, o->b, 0,
                                0.0f, o->c, 0);
    for (int s = 0; s < log->n; s++) {
        gancl_gemm_shape one = log->shapes[s];
        one.count = 1;
        int k = add_shape(t, &one);
        char key[96];
        shape_key(&one, key, sizeof key);
        if (k < 0) {
            if (!quick) fprintf(out, "  %-22s not tuned: the tuning file holds %d shapes at most\n", key, GANCL_MAX_SHAPES);
            continue;
        }
        if (!quick && t->sliced[k]) { /* a quick tune's numbers from a slice: all timed again, whole */
            for (gancl_gemm_method m = 0; m < gancl_gemm_method_count(); m++) t->gflops[k][m] = NAN;
            t->plan.method[k] = -1;
            t->sliced[k] = 0;
        }
        /* the methods not measured on this shape yet: all of them for a new shape, or those
         * added to gan-cl (or to the search) since it was tuned */
        int chosen = t->plan.method[k], measured = 0, retimed[GANCL_GEMM_MAX_METHODS] = {0};
        if (quick && chosen < 0 && now_s() > deadline) continue;
        if (quick && out && tty) {
            fprintf(out, "\rtuning GEMMs for this device (once): shape %d of %d ", s + 1, log->n);
            fflush(out);
        }
        double best_s = chosen >= 0 ? flops_of(&one, 1) / (t->gflops[k][chosen] * 1e9) : INFINITY;
        gancl_gemm_shape timed = one; /* the product the candidates are timed on */
        int probed = !quick;
        /* the register-blocked kernels first: a slower method measured later gives up sooner */
        for (gancl_gemm_method m = gancl_gemm_method_count() - 1; m >= 0; m--) {
            if (!gancl_gemm_method_supports(m, one.ta, one.tb) || !gancl_gemm_method_suits(m, &rt->dev) ||
                !isnan(t->gflops[k][m]) || (m == GANCL_GEMM_CLBLAST && !with_clblast) ||
                (quick && cpu && gancl_gemm_method_gpu_shaped(m)))
                continue;
            measured = 1;
            /* full: every candidate checked before it is timed; quick: only the one chosen
             * (below), so that a slow candidate costs one run (the faster ones are all checked:
             * whichever is chosen later, the fastest measured, has passed) */
            if (!quick && !shape_correct(rt, m, &one, o)) {
                t->gflops[k][m] = -1;
                fprintf(out, "  %-22s %s gave wrong results\n", key, gancl_gemm_method_name(m));
                continue;
            }
            if (!probed) { /* quick: one launch of the first candidate tells how long it is */
                probed = 1;
                gancl_gemm_reserve(rt, m, one.M, one.N, one.K);
                const double probe = time_gemms(rt, m, &one, 1, o, 0, 1);
                if (probe > 2 * SLICE_S)
                    timed = gancl_tune_slice(one, SLICE_S / probe, (double)rt->dev.global_cache);
                t->sliced[k] = flops_of(&timed, 1) < flops_of(&one, 1);
                best_s *= flops_of(&timed, 1) / flops_of(&one, 1);
            }
            gancl_gemm_reserve(rt, m, timed.M, timed.N, timed.K);
            double sec = time_gemms(rt, m, &timed, 1, o, (quick ? 2 : 4) * best_s, quick);
            best_s = sec < best_s ? sec : best_s;
            t->gflops[k][m] = flops_of(&timed, 1) / sec * 1e-9;
        }
        if (quick && measured && best_s < RUNOFF_S)
            for (int round = 0; round < RUNOFF; round++) { /* the fastest not yet timed again */
                gancl_gemm_method top = -1;
                for (gancl_gemm_method m = 0; m < gancl_gemm_method_count(); m++)
                    if (t->gflops[k][m] > 0 && !retimed[m] && gancl_gemm_method_suits(m, &rt->dev) &&
                        (top < 0 || t->gflops[k][m] > t->gflops[k][top])) top = m;
                if (top < 0) break;
                retimed[top] = 1;
                const double g = flops_of(&timed, 1) / time_gemms(rt, top, &timed, 1, o, INFINITY, 1) * 1e-9;
                if (g > t->gflops[k][top]) t->gflops[k][top] = g;
            }
        for (int checked = !(measured || chosen < 0); !checked;) {
            t->plan.method[k] = -1;
            for (gancl_gemm_method m = 0; m < gancl_gemm_method_count(); m++)
                if (t->gflops[k][m] > 0 && gancl_gemm_method_suits(m, &rt->dev) &&
                    (t->plan.method[k] < 0 || t->gflops[k][m] > t->gflops[k][t->plan.method[k]]))
                    t->plan.method[k] = m;
            const gancl_gemm_method m = t->plan.method[k];
            if (m < 0) {
                fprintf(stderr, "gan-cl: error: no GEMM method gave correct results for %s\n", key);
                return -1;
            }
            checked = !quick || shape_correct(rt, m, &one, o);
            if (!checked) {
                t->gflops[k][m] = -1; /* and the next fastest */
                fprintf(stderr, "\ngan-cl: warning: %s gave wrong results on GEMM %s\n", gancl_gemm_method_name(m), key);
            }
            if (checked && save(rt, path, t)) return -1;
        }
        ++*done;
        gancl_gemm_method m = t->plan.method[k];
        if (quick) continue;
        fprintf(out, "  %-22s x%-2d %-9s %7.1f GFLOP/s (CLBlast %5.1f)\n", key, log->shapes[s].count,
                gancl_gemm_method_name(m), t->gflops[k][m], t->gflops[k][GANCL_GEMM_CLBLAST]);
        fflush(out);
    }
    return 0;
}

/* Tunes the shapes of log (named `workload` in the file once fully tuned; NULL: no name) as
 * gancl_tune describes; plan_out, when given, receives the file's plan afterwards. */
static int tune_log(const gancl_runtime *rt, const gancl_shape_log *log, const char *workload,
                    gancl_tune_mode mode, FILE *out, int tty, gancl_gemm_plan *plan_out) {
    const int quick = mode == GANCL_TUNE_QUICK;
    char path[4096], err[GANCL_ERR_LEN], dir[4096];
    if (gancl_tuning_path(rt, path, sizeof path) || gancl_cache_dir("tuning", dir, sizeof dir) ||
        gancl_mkdirs(dir, err)) {
        fprintf(stderr, "gan-cl: %s: no cache directory for the tuning results (set HOME or XDG_CACHE_HOME)\n",
                quick ? "warning" : "error");
        return 1;
    }
    tuning *t = malloc(sizeof *t);
    if (!t) gancl_die("out of host memory");
    tuning_clear(t);
    if (gancl_file_exists(path)) {
        if (tuning_read(rt, path, t, err)) {
            if (out) fprintf(out, "starting over: %s\n", err);
            tuning_clear(t);
        } else if (!quick) {
            fprintf(out, "resuming from %s\n", path);
        }
    }
    size_t na = 1, nb = 1, nc = 1;
    for (int s = 0; s < log->n; s++) {
        const gancl_gemm_shape *g = &log->shapes[s];
        na = g->M * g->K > na ? g->M * g->K : na;
        nb = g->K * g->N > nb ? g->K * g->N : nb;
        nc = g->M * g->N > nc ? g->M * g->N : nc;
    }
    operands o = {gancl_buffer(rt, na * 4), gancl_buffer(rt, nb * 4), gancl_buffer(rt, nc * 4),
                  malloc(na * 4), malloc(nb * 4), malloc(nc * 4)};
    if (!o.A || !o.B || !o.C) gancl_die("out of host memory");
    uint64_t rng = 3;
    for (size_t i = 0; i < na; i++) o.A[i] = gancl_uniform(&rng, -1, 1);
    for (size_t i = 0; i < nb; i++) o.B[i] = gancl_uniform(&rng, -1, 1);
    gancl_write(rt, o.a, 0, na * 4, o.A);
    gancl_write(rt, o.b, 0, nb * 4, o.B);
    /* C written once before any timing: the first method to write a fresh buffer would pay
     * for its pages (on PoCL 160 MB of the DCGAN's took 60 ms, and a quick tune timed pk-8x32,
     * the first candidate, at half its speed on the largest product) */
    const float zero = 0.0f;
    CL_CHECK(clEnqueueFillBuffer(rt->queue, o.c, &zero, sizeof zero, 0, nc * 4, 0, NULL, NULL));

    double t_start = now_s();
    int status = 1, done_shapes = 0;
    const int cpu = (rt->dev.type & CL_DEVICE_TYPE_CPU) != 0;
    int unmeasured = 0;
    for (int i = 0; i < N_CANDIDATES; i++) unmeasured += isnan(t->clblast[i]);
    if (!quick && (t->clblast_best < 0 || unmeasured)) {
        const int before = t->clblast_best;
        if (tune_clblast(rt, path, t, log, &o, N_CANDIDATES, out)) goto done;
        for (int s = 0; s < log->n && t->clblast_best != before; s++) { /* measured with other parameters */
            int k = gancl_gemm_plan_find(&t->plan, log->shapes[s].ta, log->shapes[s].tb, log->shapes[s].M,
                                         log->shapes[s].N, log->shapes[s].K);
            if (k >= 0) t->gflops[k][GANCL_GEMM_CLBLAST] = NAN;
        }
    } else if (quick && !cpu && isnan(t->clblast[0]) && tune_clblast(rt, path, t, log, &o, 1, NULL)) {
        goto done; /* a GPU: CLBlast's own parameters (tuned for many GPUs), nothing searched */
    }
    if (t->clblast_best >= 0) apply_candidate(rt, &CANDIDATES[t->clblast_best]);
    if (!quick)
        fprintf(out, "CLBlast parameter set: %s (%.1f GFLOP/s; CLBlast's defaults %.1f)\n",
                CANDIDATES[t->clblast_best].name, t->clblast[t->clblast_best], t->clblast[0]);
    /* quick, on a CPU: gan-cl's kernels beat CLBlast there unless its parameters were searched */
    const int with_clblast = !quick || !cpu || t->clblast_best > 0;
    if (tune_shapes(rt, path, t, log, &o, mode, with_clblast, t_start + QUICK_BUDGET_S, out, tty, &done_shapes))
        goto done;
    if (!quick && workload && !has_workload(t, workload) && t->n_workloads < MAX_WORKLOADS)
        snprintf(t->workloads[t->n_workloads++], sizeof t->workloads[0], "%s", workload);
    if (save(rt, path, t)) goto done;
    /* the iteration's GEMM time by the plan, by tuned CLBlast alone and by untuned CLBlast */
    double plan_s = 0, clblast_s = 0, flops = 0;
    for (int s = 0; s < log->n; s++) {
        int k = gancl_gemm_plan_find(&t->plan, log->shapes[s].ta, log->shapes[s].tb, log->shapes[s].M,
                                     log->shapes[s].N, log->shapes[s].K);
        if (k < 0 || t->plan.method[k] < 0) continue;
        double f = flops_of(&log->shapes[s], 1);
        flops += f * log->shapes[s].count;
        plan_s += f * log->shapes[s].count / (t->gflops[k][t->plan.method[k]] * 1e9);
        clblast_s += f * log->shapes[s].count / (t->gflops[k][GANCL_GEMM_CLBLAST] * 1e9);
    }
    if (quick && out) {
        fprintf(out, "%sGEMMs tuned for this device in %.0f s: %d of %d shapes, %.1f GFLOP/s over an iteration "
                "(`gan-cl tune` searches further, --no-tune skips this)\n", tty ? "\r" : "", now_s() - t_start,
                done_shapes, log->n, plan_s > 0 ? flops / plan_s * 1e-9 : 0.0);
        if (done_shapes < log->n)
            fprintf(out, "note: the time for it ran out; the next run tunes the other %d shapes\n", log->n - done_shapes);
    } else if (!quick) {
        fprintf(out, "one iteration's GEMMs: %.1f GFLOP/s with the plan, %.1f with tuned CLBlast alone, %.1f with "
                "CLBlast's defaults\ntuning took %.0f s; stored in %s\n", flops / plan_s * 1e-9,
                flops / clblast_s * 1e-9, t->clblast[0], now_s() - t_start, path);
    }
    status = 0;
    if (plan_out) *plan_out = t->plan;
done:
    clReleaseMemObject(o.a);
    clReleaseMemObject(o.b);
    clReleaseMemObject(o.c);
    free(o.A);
    free(o.B);
    free(o.C);
    free(t);
    return status;
}

int gancl_tune(gancl_runtime *rt, const gancl_workload *wl, gancl_tune_mode mode, FILE *out, int tty) {
    const int quick = mode == GANCL_TUNE_QUICK;
    char err[GANCL_ERR_LEN], w[32];
    gancl_shape_log log;
    if (gancl_workload_shapes(rt, wl, &log, err)) { /* quick: the command that asked says why */
        if (!quick) fprintf(stderr, "gan-cl: error: %s\n", err);
        return quick ? 0 : 1;
    }
    gancl_tuning_workload(wl->model, wl->batch, w, sizeof w);
    if (!quick)
        fprintf(out, "tuning the %d GEMM shapes of a %s iteration at batch %d on %s\n", log.n,
                gancl_model_name(wl->model), wl->batch, rt->dev.name);
    return tune_log(rt, &log, w, mode, out, tty, NULL);
}

/* The runtime's tuner: a shape first met with no choice, tuned quickly and silently, its choice
 * added to the runtime's plan (or the tuner turned off when that cannot be done). */
static void tune_new_shape(const gancl_runtime *rt, const gancl_gemm_shape *s) {
    gancl_shape_log *log = calloc(1, sizeof *log);
    gancl_gemm_plan *plan = malloc(sizeof *plan);
    if (!log || !plan) gancl_die("out of host memory");
    log->shapes[0] = *s;
    log->n = 1;
    int k = -1;
    if (tune_log(rt, log, NULL, GANCL_TUNE_QUICK, NULL, 0, plan) == 0)
        k = gancl_gemm_plan_find(plan, s->ta, s->tb, s->M, s->N, s->K);
    gancl_gemm_plan *p = rt->gemm_plan;
    int i = gancl_gemm_plan_find(p, s->ta, s->tb, s->M, s->N, s->K);
    if (i < 0 && p->n < GANCL_MAX_SHAPES) {
        i = p->n++;
        p->shapes[i] = *s;
        p->method[i] = -1;
    }
    if (k < 0 || i < 0 || plan->method[k] < 0) rt->tuner->off = 1;
    else p->method[i] = plan->method[k];
    free(log);
    free(plan);
}

gancl_tuning_status gancl_tuning_prepare(gancl_runtime *rt, const gancl_workload *w, int may_tune, FILE *out) {
    char msg[GANCL_ERR_LEN];
    gancl_tuning_status ts = gancl_tuning_apply(rt, w, msg, sizeof msg);
    if (ts == GANCL_TUNING_REJECTED) fprintf(stderr, "gan-cl: warning: %s\n", msg);
    may_tune = may_tune && rt->gemm == GANCL_GEMM_AUTO; /* not when --gemm forces a method */
    if (w && may_tune && ts != GANCL_TUNING_APPLIED) {
        /* first use of this device, model or batch size: a quick tune, then its choices */
        if (gancl_tune(rt, w, GANCL_TUNE_QUICK, out, out && isatty(fileno(out)))) {
            fprintf(stderr, "gan-cl: warning: the GEMMs could not be tuned; going on with CLBlast\n");
            return ts;
        }
        ts = gancl_tuning_apply(rt, NULL, msg, sizeof msg);
        if (ts == GANCL_TUNING_REJECTED) fprintf(stderr, "gan-cl: warning: %s\n", msg);
    } else if ((ts == GANCL_TUNING_APPLIED || ts == GANCL_TUNING_OTHER_SHAPES) && out) {
        fprintf(out, "%s\n", msg);
    } else if (ts == GANCL_TUNING_NONE && out && w && !may_tune) {
        fprintf(out, "note: GEMMs are not tuned for this device (--no-tune): `gan-cl tune --model %s --batch-size %d`\n"
                "      picks the fastest correct GEMM kernels for it\n", gancl_model_name(w->model), w->batch);
    }
    if (may_tune && rt->gemm == GANCL_GEMM_AUTO) { /* the shapes met later (samples, scores, ...) */
        if (!rt->gemm_plan && !(rt->gemm_plan = calloc(1, sizeof *rt->gemm_plan))) gancl_die("out of host memory");
        if (!rt->tuner && !(rt->tuner = calloc(1, sizeof *rt->tuner))) gancl_die("out of host memory");
        rt->tuner->tune = tune_new_shape;
    }
    return ts;
}
