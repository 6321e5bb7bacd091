/* fsutil.c: atomic file writes, temporary-file cleanup on signals, directory and cache helpers. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/fsutil.h"
#include "gancl/check.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary file currently being written, removed by the signal handler. One at a time is
 * all gan-cl ever has open. */
static volatile sig_atomic_t g_tmp_live = 0;
static char g_tmp_path[4096];

/* Removes "<path>.tmp-<pid>-XXXXXX" files that a gan-cl killed while writing `path` (kill -9,
 * a crash, a power cut) left behind: those whose process no longer exists. */
static void remove_stale_temps(const char *path) {
    const char *base = gancl_basename(path);
    const size_t blen = strlen(base);
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", base == path ? 1 : (int)(base - path), base == path ? "." : path);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) || strncmp(n + blen, ".tmp-", 5)) continue;
        char *end;
        errno = 0;
        const long pid = strtol(n + blen + 5, &end, 10);
        if (errno || pid <= 0 || end == n + blen + 5 || *end != '-' || strlen(end + 1) != 6) continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char stale[4400];
        snprintf(stale, sizeof stale, "%s/%s", dir, n);
        unlink(stale);
    }
    closedir(d);
}

int gancl_atomic_open(gancl_atomic_file *f, const char *path, char *err) {
    memset(f, 0, sizeof *f);
    if (strlen(path) + 40 >= sizeof f->tmp) {
        snprintf(err, GANCL_ERR_LEN, "%s: path too long", path);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* the rename would replace a directory entry that is not a file: a device such as
         * /dev/null, a pipe, or fail on a directory */
        snprintf(err, GANCL_ERR_LEN, "%s: not a regular file (gan-cl writes its outputs by renaming a "
                 "finished file over the old one)", path);
        return -1;
    }
    strcpy(f->path, path);
    remove_stale_temps(path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp-%ld-XXXXXX", path, (long)getpid());
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        snprintf(err, GANCL_ERR_LEN, "%s: cannot create a file there: %s", path, strerror(errno));
        return -1;
    }
    fchmod(fd, 0644);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        close(fd);
        unlink(f->tmp);
        snprintf(err, GANCL_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    g_tmp_live = 0;
    strcpy(g_tmp_path, f->tmp);
    g_tmp_live = 1;
    return 0;
}

int gancl_atomic_commit(gancl_atomic_file *f, char *err) {
    int bad = ferror(f->fp);
    if (fflush(f->fp) != 0) bad = 1;
    if (!bad && fsync(fileno(f->fp)) != 0) bad = 1;
    int saved = errno;
    if (fclose(f->fp) != 0) bad = 1;
    f->fp = NULL;
    if (!bad && rename(f->tmp, f->path) != 0) bad = 1;
    else saved = bad ? saved : 0;
    g_tmp_live = 0;
    if (bad) {
        saved = saved ? saved : errno;
        unlink(f->tmp);
        snprintf(err, GANCL_ERR_LEN, "%s: write failed: %s", f->path, strerror(saved));
        return -1;
    }
    return 0;
}

void gancl_atomic_abort(gancl_atomic_file *f) {
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    if (f->tmp[0]) unlink(f->tmp);
    f->tmp[0] = 0;
    g_tmp_live = 0;
}

int gancl_write_file_atomic(const char *path, const void *data, size_t n, char *err) {
    gancl_atomic_file f;
    if (gancl_atomic_open(&f, path, err)) return -1;
    if (n && fwrite(data, 1, n, f.fp) != n) {
        gancl_atomic_abort(&f);
        snprintf(err, GANCL_ERR_LEN, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return gancl_atomic_commit(&f, err);
}

static volatile sig_atomic_t g_soft = 0, g_stop = 0;

static void on_fatal_signal(int sig) {
    if (g_soft && !g_stop && sig != SIGHUP) {
        g_stop = sig;
        return;
    }
    if (g_tmp_live) unlink(g_tmp_path); /* async-signal-safe */
    signal(sig, SIG_DFL);
    _exit(128 + sig);
}

void gancl_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void gancl_signals_soft(int on) { g_soft = on; }

int gancl_stop_requested(void) { return g_stop; }

int gancl_read_file(const char *path, uint8_t **data, size_t *n, char *err) {
    *data = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, GANCL_ERR_LEN, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(fp);
            snprintf(err, GANCL_ERR_LEN, "%s: out of host memory", path);
            return -1;
        }
        len += fread(buf + len, 1, cap - len, fp);
        if (len < cap) break;
        cap *= 2;
        uint8_t *grown = realloc(buf, cap);
        if (!grown) free(buf);
        buf = grown;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        snprintf(err, GANCL_ERR_LEN, "%s: read error", path);
        return -1;
    }
    *data = buf;
    *n = len;
    return 0;
}

int gancl_mkdirs(const char *path, char *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        snprintf(err, GANCL_ERR_LEN, "%s: path too long", path);
        return -1;
    }
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                snprintf(err, GANCL_ERR_LEN, "%s: cannot create directory: %s", tmp,
                         strerror(errno));
                return -1;
            }
            *p = c;
            if (c == 0) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, GANCL_ERR_LEN, "%s: not a directory", path);
        return -1;
    }
    return 0;
}

int gancl_cache_dir(const char *sub, char *out, size_t outlen) {
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/') n = snprintf(out, outlen, "%s/gan-cl/%s", xdg, sub);
    else if (home && home[0]) n = snprintf(out, outlen, "%s/.cache/gan-cl/%s", home, sub);
    else return -1;
    return n < (int)outlen ? 0 : -1;
}

int gancl_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *gancl_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
