/* profile.c: collecting OpenCL profiling events and summarising them per kernel kind. */
#include "gancl/profile.h"

#include <stdlib.h>
#include <string.h>

void gancl_profiler_start(gancl_runtime *rt) {
    rt->prof = calloc(1, sizeof *rt->prof);
    if (!rt->prof) gancl_die("out of host memory");
}

void gancl_profiler_free(gancl_runtime *rt) {
    if (!rt->prof) return;
    for (int i = 0; i < rt->prof->n_pending; i++) {
        if (rt->prof->pending[i].event) clReleaseEvent(rt->prof->pending[i].event);
        if (rt->prof->pending[i].begin) clReleaseEvent(rt->prof->pending[i].begin);
    }
    free(rt->prof->pending);
    free(rt->prof);
    rt->prof = NULL;
}

cl_event *gancl_prof_event(const gancl_runtime *rt, const char *name, double flops) {
    struct gancl_profiler *p = rt->prof;
    if (!p) return NULL;
    if (p->n_pending == p->cap_pending) {
        int cap = p->cap_pending ? 2 * p->cap_pending : 1024;
        gancl_prof_pending *g = realloc(p->pending, (size_t)cap * sizeof *g);
        if (!g) gancl_die("out of host memory");
        p->pending = g;
        p->cap_pending = cap;
    }
    gancl_prof_pending *e = &p->pending[p->n_pending++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->flops = flops;
    e->event = NULL;
    e->begin = NULL;
    return &e->event;
}

cl_event gancl_prof_span_begin(const gancl_runtime *rt) {
    if (!rt->prof) return NULL;
    cl_event begin;
    CL_CHECK(clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, &begin));
    return begin;
}

void gancl_prof_span_end(const gancl_runtime *rt, cl_event begin, const char *name, double flops) {
    if (!rt->prof) return;
    cl_event *end = gancl_prof_event(rt, name, flops);
    CL_CHECK(clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, end));
    rt->prof->pending[rt->prof->n_pending - 1].begin = begin;
}

void gancl_prof_harvest(const gancl_runtime *rt) {
    struct gancl_profiler *p = rt->prof;
    if (!p) return;
    for (int i = 0; i < p->n_pending; i++) {
        gancl_prof_pending *e = &p->pending[i];
        if (!e->event) continue; /* the enqueue did not create one (e.g. an empty launch) */
        cl_ulong t0 = 0, t1 = 0;
        if (e->begin) { /* a span: from the end of the marker before to the end of the one after */
            CL_CHECK(clGetEventProfilingInfo(e->begin, CL_PROFILING_COMMAND_END, sizeof t0, &t0, NULL));
            clReleaseEvent(e->begin);
        } else {
            CL_CHECK(clGetEventProfilingInfo(e->event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL));
        }
        CL_CHECK(clGetEventProfilingInfo(e->event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL));
        clReleaseEvent(e->event);
        int k = 0;
        while (k < p->n_totals && strcmp(p->totals[k].name, e->name)) k++;
        if (k == p->n_totals) {
            if (p->n_totals == GANCL_PROF_NAMES) continue;
            memset(&p->totals[k], 0, sizeof p->totals[k]);
            snprintf(p->totals[k].name, sizeof p->totals[k].name, "%s", e->name);
            p->n_totals++;
        }
        p->totals[k].count++;
        p->totals[k].seconds += (t1 - t0) * 1e-9;
        p->totals[k].flops += e->flops;
    }
    p->n_pending = 0;
}

static int by_time(const void *a, const void *b) {
    const gancl_prof_total *x = a, *y = b;
    return x->seconds < y->seconds ? 1 : x->seconds > y->seconds ? -1 : 0;
}

void gancl_prof_report(const gancl_runtime *rt, FILE *out) {
    struct gancl_profiler *p = rt->prof;
    if (!p) return;
    gancl_prof_harvest(rt);
    qsort(p->totals, (size_t)p->n_totals, sizeof *p->totals, by_time);
    double busy = 0, gemm = 0, gemm_flops = 0;
    for (int i = 0; i < p->n_totals; i++) {
        busy += p->totals[i].seconds;
        if (!strncmp(p->totals[i].name, "gemm", 4)) {
            gemm += p->totals[i].seconds;
            gemm_flops += p->totals[i].flops;
        }
    }
    fprintf(out, "profile (device time from OpenCL events):\n  %-32s %9s %11s %7s %9s\n", "kernel or GEMM shape",
            "launches", "total ms", "share", "GFLOP/s");
    for (int i = 0; i < p->n_totals; i++) {
        const gancl_prof_total *t = &p->totals[i];
        fprintf(out, "  %-32s %9ld %11.1f %6.1f%%", t->name, t->count, t->seconds * 1e3,
                busy > 0 ? 100 * t->seconds / busy : 0);
        if (t->flops > 0) fprintf(out, " %9.1f", t->flops / t->seconds * 1e-9);
        fputc('\n', out);
    }
    double wall = p->wall_seconds;
    fprintf(out, "  GEMMs %.1f ms (%.1f GFLOP/s), other kernels %.1f ms", gemm * 1e3,
            gemm > 0 ? gemm_flops / gemm * 1e-9 : 0, (busy - gemm) * 1e3);
    if (wall > 0)
        fprintf(out, ", device idle (host gaps, launch overhead) %.1f ms of %.1f ms wall time\n",
                wall > busy ? (wall - busy) * 1e3 : 0, wall * 1e3);
    else
        fputc('\n', out);
}
