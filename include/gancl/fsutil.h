/* fsutil.h: files the user cares about. Atomic writes (temporary file in the same directory,
 * fsync, rename), cleanup of in-flight temporary files on Ctrl-C, mkdir -p, whole-file reads
 * and the per-user cache directory. */
#ifndef GANCL_FSUTIL_H
#define GANCL_FSUTIL_H

#include <stdint.h>
#include <stdio.h>

/* A file being written atomically: write to `fp`, then commit (rename over `path`) or abort. */
typedef struct {
    FILE *fp;
    char path[4096]; /* final name */
    char tmp[4096];  /* "<path>.tmp-<pid>-XXXXXX" in the same directory */
} gancl_atomic_file;

/* Opens a temporary file next to `path`, first removing the ones a killed gan-cl left there
 * for `path` (their pid is gone); 0 on success, -1 with `err` filled. */
int gancl_atomic_open(gancl_atomic_file *f, const char *path, char *err);
/* Flushes, fsyncs and renames into place; on any failure removes the temporary file. */
int gancl_atomic_commit(gancl_atomic_file *f, char *err);
/* Closes and removes the temporary file. Safe to call twice. */
void gancl_atomic_abort(gancl_atomic_file *f);
/* Writes `n` bytes to `path` atomically. */
int gancl_write_file_atomic(const char *path, const void *data, size_t n, char *err);

/* Installs SIGINT/SIGTERM/SIGHUP handlers that delete any open atomic temporary file and exit
 * with 128+signal. */
void gancl_signals_install(void);
/* While on, the first SIGINT/SIGTERM only sets a flag (training finishes its step, saves and
 * exits); a second one exits at once as above. */
void gancl_signals_soft(int on);
/* The signal number that asked for a soft stop, or 0. */
int gancl_stop_requested(void);

/* Reads a whole file into a malloc'd buffer; -1 with `err` ("<path>: <reason>") on failure. */
int gancl_read_file(const char *path, uint8_t **data, size_t *n, char *err);
/* mkdir -p; 0 on success. */
int gancl_mkdirs(const char *path, char *err);
/* "$XDG_CACHE_HOME/gan-cl/<sub>" or "$HOME/.cache/gan-cl/<sub>" into out; -1 when neither is set. */
int gancl_cache_dir(const char *sub, char *out, size_t outlen);
/* 1 when path names an existing regular file. */
int gancl_file_exists(const char *path);
/* The last component of a path (no allocation). */
const char *gancl_basename(const char *path);

#endif
