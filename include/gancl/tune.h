/* tune.h: per-device GEMM tuning (`gan-cl tune`). For the GEMM shapes of one training iteration
 * of a model at a batch size, `tune` first picks CLBlast kernel parameters for the device
 * (CLBlast ships tuned parameters for many GPUs, not for PoCL or many laptop GPUs), then times
 * every GEMM method (gemm.h) on each shape and keeps the fastest; every candidate's results are
 * checked against a double-precision reference before it is timed. The choices are stored in
 * the cache dir, keyed by device, driver and platform, and accumulate over models and batch
 * sizes. Training and bench apply them automatically after checking the chosen kernels again;
 * a damaged file is rejected (and deleted) with a message. */
#ifndef GANCL_TUNE_H
#define GANCL_TUNE_H

#include "gancl/device.h"
#include "gancl/gan.h"

#include <stdio.h>

typedef enum {
    GANCL_TUNING_NONE,         /* nothing stored for this device */
    GANCL_TUNING_APPLIED,      /* stored choices applied and verified */
    GANCL_TUNING_OTHER_SHAPES, /* applied, but this model and batch size were not tuned */
    GANCL_TUNING_REJECTED,     /* a stored file was damaged or gave wrong results: not used */
} gancl_tuning_status;

/* The tuning file of this device: "<cache>/tuning/<hash>.json"; -1 without a cache dir. */
int gancl_tuning_path(const gancl_runtime *rt, char *out, size_t len);
/* "mlp b64": how the tuning file names a model and batch size. */
void gancl_tuning_workload(gancl_model model, int batch, char *out, size_t len);
/* Validates tuning-file text buf[0..n) as it would be read for `device` with `driver`: 0 when
 * it would be used, -1 with err when it is damaged or for another device. */
int gancl_tuning_check(const char *device, const char *driver, const uint8_t *buf, size_t n, char *err);
/* Applies the stored tuning, if any, after checking the chosen methods against the C
 * reference; msg says what happened (and, for OTHER_SHAPES, how to tune `model` at `batch`). */
gancl_tuning_status gancl_tuning_apply(gancl_runtime *rt, gancl_model model, int batch, char *msg,
                                       size_t msglen);
/* Tunes for the shapes of one iteration of `model` at `batch`; resumes a run that was
 * interrupted (measurements are kept in the file as it goes). Returns the exit status. */
int gancl_tune(gancl_runtime *rt, gancl_model model, int batch, FILE *out);

#endif
