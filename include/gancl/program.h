/* program.h: the OpenCL program holding every kernel in cl/. Sources are embedded in the binary
 * at build time (tools/embed_kernels.py) or, when GANCL_KERNEL_DIR is set, read from that
 * directory. Compiled binaries are cached on disk, keyed by a SHA-256 of the source, the build
 * options, the device, its driver and platform; a corrupt or stale entry is rebuilt. */
#ifndef GANCL_PROGRAM_H
#define GANCL_PROGRAM_H

#include "gancl/device.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name; /* file name in cl/, e.g. "matmul.cl" */
    const char *text;
    size_t len;
} gancl_kernel_source;

/* Generated at build time from the files in cl/. */
extern const gancl_kernel_source gancl_kernel_sources[];
extern const int gancl_kernel_source_count;

/* Builds the program for rt->dev (or loads it from the cache) and creates every kernel in it.
 * Sets rt->program, rt->kernels, rt->cache_status and rt->cache_path. On a build failure prints
 * the device, the options and the full build log, and exits. */
void gancl_program_build(gancl_runtime *rt);

/* Checks a cache entry (magic, version, the expected key, length, SHA-256 of the binary) held
 * in buf[0..n); 0 with the driver binary in bin[0..len) when it is usable, -1 otherwise. */
int gancl_cache_entry_parse(const uint8_t *buf, size_t n, const uint8_t key[32], const uint8_t **bin,
                            size_t *len);

#endif
