/* tune.h: per-device GEMM tuning. For the GEMM shapes of one training iteration of a model at
 * a batch size, `gan-cl tune` first picks CLBlast kernel parameters for the device (CLBlast
 * ships tuned parameters for many GPUs, not for PoCL or many laptop GPUs), then times every GEMM
 * method (gemm.h) on each shape and keeps the fastest; every candidate's results are checked
 * against a double-precision reference before it is timed. Training and bench run a quick
 * version of it by themselves when a shape of theirs has no choice yet. The choices are stored
 * in the cache dir, keyed by device, driver and platform, and accumulate over models and batch
 * sizes. Training and bench apply them automatically after checking the chosen kernels again;
 * a damaged file is rejected (and deleted) with a message. */
#ifndef GANCL_TUNE_H
#define GANCL_TUNE_H

#include "gancl/device.h"
#include "gancl/gan.h"
#include "gancl/gemm.h"

#include <stdio.h>

typedef enum {
    GANCL_TUNING_NONE,         /* nothing stored for this device */
    GANCL_TUNING_APPLIED,      /* stored choices applied and verified */
    GANCL_TUNING_OTHER_SHAPES, /* applied, but this model and batch size were not tuned */
    GANCL_TUNING_REJECTED,     /* a stored file was damaged or gave wrong results: not used */
} gancl_tuning_status;

/* What a run multiplies: a model with its networks, its loss and its batch size. */
typedef struct {
    gancl_model model;
    gancl_arch arch; /* the GAN's networks (unused for the classifier) */
    gancl_loss loss;
    int batch;
} gancl_workload;

/* A model's default networks at `batch` with `loss`. */
gancl_workload gancl_workload_default(gancl_model model, int batch, gancl_loss loss);
/* The GEMM shapes of one training iteration of w (recorded, not run); -1 with err when its
 * networks do not fit the device. */
int gancl_workload_shapes(gancl_runtime *rt, const gancl_workload *w, gancl_shape_log *log, char *err);

/* The tuning file of this device: "<cache>/tuning/<hash>.json"; -1 without a cache dir. */
int gancl_tuning_path(const gancl_runtime *rt, char *out, size_t len);
/* "mlp b64": how the tuning file names a model and batch size. */
void gancl_tuning_workload(gancl_model model, int batch, char *out, size_t len);
/* Validates tuning-file text buf[0..n) as it would be read for `device` with `driver`: 0 when
 * it would be used, -1 with err when it is damaged or for another device. */
int gancl_tuning_check(const char *device, const char *driver, const uint8_t *buf, size_t n, char *err);
/* Applies the stored tuning, if any, after checking the chosen methods against the C
 * reference; msg says what happened. With w, OTHER_SHAPES when some GEMM shape of w has no
 * stored choice (w NULL: no such check). */
gancl_tuning_status gancl_tuning_apply(gancl_runtime *rt, const gancl_workload *w, char *msg, size_t msglen);

typedef enum {
    GANCL_TUNE_FULL,  /* `gan-cl tune`: every CLBlast parameter set, then every method per shape */
    GANCL_TUNE_QUICK, /* on first use: no CLBlast parameter search (CLBlast's own choice on a GPU,
                       * and on a CPU, where gan-cl's kernels win, CLBlast only once a full tune
                       * has chosen its parameters), fewer timing rounds, a long product
                       * timed on a slice of it, a time budget */
} gancl_tune_mode;

/* Tunes for the GEMM shapes of w; resumes a run that was interrupted (measurements are kept in
 * the file as it goes). FULL prints every measurement to out; QUICK prints one progress line
 * (updated in place when tty) and a summary, nothing when out is NULL. Returns the exit status. */
int gancl_tune(gancl_runtime *rt, const gancl_workload *w, gancl_tune_mode mode, FILE *out, int tty);
/* s with its largest dimension cut to about `fraction` of it, to a multiple of 192 (a whole
 * number of every kernel's blocks), to no less than 768 and, when s's two inputs take more
 * than cache_bytes, to no less than keeps them at twice cache_bytes (nor more than it was): the
 * product a quick tune times in place of a long one. Its operands fit in those of s. */
gancl_gemm_shape gancl_tune_slice(gancl_gemm_shape s, double fraction, double cache_bytes);
/* What a command does before it multiplies: applies the stored tuning (a rejected file is
 * warned about on stderr) and, when may_tune and some GEMM shape of w has no stored choice,
 * runs a QUICK tune and applies that; with may_tune, the runtime also tunes (quickly and
 * silently) any other shape without a choice when it first meets it (rt->tuner). Progress and
 * notes go to out (NULL: none). */
gancl_tuning_status gancl_tuning_prepare(gancl_runtime *rt, const gancl_workload *w, int may_tune, FILE *out);

#endif
