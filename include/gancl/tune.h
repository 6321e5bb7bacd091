/* tune.h: per-device GEMM tuning (`gan-cl tune`). CLBlast ships tuned parameters for many GPUs
 * but not for PoCL or many laptop GPUs, which then get generic ones. `tune` times a list of
 * CLBlast kernel parameter sets (Xgemm through the indirect path, XgemmDirect through the
 * direct one) on the exact GEMM shapes of a training iteration, after checking each
 * candidate's results against a C reference, and stores the fastest in the cache dir, keyed by
 * device, driver and platform. Training and bench apply it automatically, after checking it
 * again; a damaged file is rejected (and deleted) with a message. */
#ifndef GANCL_TUNE_H
#define GANCL_TUNE_H

#include "gancl/device.h"

#include <stdio.h>

typedef struct {
    int ta, tb;
    size_t M, N, K;
    int count; /* times per iteration */
} gancl_gemm_shape;

#define GANCL_MAX_SHAPES 64

/* Records the distinct GEMM shapes that gancl_gemm sees while `shapes` is attached. */
typedef struct gancl_shape_log {
    gancl_gemm_shape shapes[GANCL_MAX_SHAPES];
    int n;
} gancl_shape_log;

void gancl_shape_log_add(gancl_shape_log *log, int ta, int tb, size_t M, size_t N, size_t K);

typedef enum {
    GANCL_TUNING_NONE,     /* nothing stored for this device */
    GANCL_TUNING_APPLIED,  /* stored parameters applied and verified */
    GANCL_TUNING_REJECTED, /* a stored file was damaged or gave wrong results: not used */
} gancl_tuning_status;

/* The tuning file of this device: "<cache>/tuning/<hash>.json"; -1 without a cache dir. */
int gancl_tuning_path(const gancl_runtime *rt, char *out, size_t len);
/* Applies the stored tuning, if any, and checks CLBlast's results against a C reference. */
gancl_tuning_status gancl_tuning_apply(gancl_runtime *rt, char *msg, size_t msglen);
/* Tunes for the shapes of one training iteration at `batch`; resumes a run that was
 * interrupted (measured candidates are kept in the file as it goes). Returns the exit status. */
int gancl_tune(gancl_runtime *rt, int batch, FILE *out);

#endif
