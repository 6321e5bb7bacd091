/* profile.h: per-kernel timing from OpenCL event profiling (--profile). When the runtime has a
 * profiler, every launch records an event under a name (the kernel's name; a GEMM's is
 * "gemm", its transposes, shape and method, e.g. "gemm NT 64x512x784 pk-8x32"); harvesting after
 * a clFinish adds the device times to per-name totals, and the report shows time per name,
 * GEMM vs other kernels vs idle device time, and each GEMM shape's achieved GFLOP/s. */
#ifndef GANCL_PROFILE_H
#define GANCL_PROFILE_H

#include "gancl/device.h"

#include <stdio.h>

typedef struct {
    char name[48]; /* a copy: GEMM names are made per launch */
    cl_event event;
    cl_event begin; /* for spans: a marker before the work (its end starts the span), or NULL */
    double flops;
} gancl_prof_pending;

/* names in the table: a quick tune while training adds its products, whole and sliced, by every
 * method (the DCGAN's 20 shapes, by up to 13 methods each, whole and on a slice) */
#define GANCL_PROF_NAMES 1024

typedef struct {
    char name[64];
    long count;
    double seconds, flops;
} gancl_prof_total;

struct gancl_profiler {
    gancl_prof_pending *pending;
    int n_pending, cap_pending;
    gancl_prof_total totals[GANCL_PROF_NAMES];
    int n_totals;
    double wall_seconds; /* wall time the profiled work took, added by the caller */
};

/* Attaches a profiler to the runtime (profiling from now on). */
void gancl_profiler_start(gancl_runtime *rt);
void gancl_profiler_free(gancl_runtime *rt);
/* An event slot for the next enqueue under `name` (copied), or NULL when not profiling. */
cl_event *gancl_prof_event(const gancl_runtime *rt, const char *name, double flops);
/* A span over several enqueues whose events we do not see (CLBlast's indirect GEMM runs
 * helper kernels before and after the one event it returns): markers before and after. */
cl_event gancl_prof_span_begin(const gancl_runtime *rt);
void gancl_prof_span_end(const gancl_runtime *rt, cl_event begin, const char *name, double flops);
/* After clFinish: adds the finished events' device times to the totals and releases them. */
void gancl_prof_harvest(const gancl_runtime *rt);
/* Prints the table (sorted by time). */
void gancl_prof_report(const gancl_runtime *rt, FILE *out);

#endif
