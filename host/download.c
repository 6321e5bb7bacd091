/* download.c: fetching data files over HTTP(S) with libcurl into temporary files, verifying
 * their SHA-256 and renaming them into place. Nothing unverified is ever left in the data dir. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/check.h"
#include "gancl/fsutil.h"
#include "gancl/mnist.h"
#include "gancl/sha256.h"

#include <stdio.h>
#include <string.h>

static void manual_hint(char *err, const char *dir, const char *why) {
    snprintf(err, GANCL_ERR_LEN,
             "%s\n  hint: download the four MNIST files (train-images-idx3-ubyte.gz,\n"
             "        train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)\n"
             "        on a machine with network access from %s\n"
             "        and place them in %s (or point --data at a directory that has them)",
             why, GANCL_MNIST_MIRRORS[0], dir);
}

#ifdef GANCL_HAVE_CURL
#include <curl/curl.h>

typedef struct {
    FILE *fp;
    gancl_sha256 sha;
    int progress;
    const char *label;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user) {
    sink *s = user;
    size_t n = size * nmemb;
    gancl_sha256_update(&s->sha, ptr, n);
    return fwrite(ptr, 1, n, s->fp);
}

static int on_progress(void *user, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un) {
    (void)ut;
    (void)un;
    sink *s = user;
    if (s->progress && total > 0)
        fprintf(stderr, "\r  %-28s %5.1f%%  %6.2f / %.2f MB", s->label, 100.0 * now / total,
                now / 1e6, total / 1e6);
    return 0;
}

/* Downloads url to `path` via a temporary file; 0 when the SHA-256 matched. */
static int fetch_one(const char *url, const char *path, const char *sha_hex, const char *label,
                     int progress, char *why) {
    gancl_atomic_file f;
    if (gancl_atomic_open(&f, path, why)) return -1;
    sink s = {f.fp, {{0}, 0, {0}}, progress, label};
    gancl_sha256_init(&s.sha);
    CURL *c = curl_easy_init();
    if (!c) {
        gancl_atomic_abort(&f);
        snprintf(why, GANCL_ERR_LEN, "libcurl could not start");
        return -1;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1000L); /* give up below 1 kB/s for 30 s */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "gan-cl");
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (progress) fputc('\n', stderr);
    if (rc != CURLE_OK) {
        gancl_atomic_abort(&f);
        snprintf(why, GANCL_ERR_LEN, "%s: %s", url, curl_err[0] ? curl_err : curl_easy_strerror(rc));
        return -1;
    }
    uint8_t digest[32];
    char hex[65];
    gancl_sha256_final(&s.sha, digest);
    gancl_hex(digest, 32, hex);
    if (strcmp(hex, sha_hex) != 0) {
        gancl_atomic_abort(&f);
        snprintf(why, GANCL_ERR_LEN, "%s: checksum mismatch (SHA-256 %s, expected %s): discarded",
                 url, hex, sha_hex);
        return -1;
    }
    return gancl_atomic_commit(&f, why);
}

int gancl_fetch(const char *dir, const char *const *mirrors, int n_mirrors,
                const gancl_data_file *files, int n_files, int progress, char *err) {
    if (gancl_mkdirs(dir, err)) return -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        manual_hint(err, dir, "libcurl could not be initialised");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n_files && rc == 0; i++) {
        char path[4096], raw[4096];
        snprintf(path, sizeof path, "%s/%s.gz", dir, files[i].name);
        snprintf(raw, sizeof raw, "%s/%s", dir, files[i].name);
        if (gancl_file_exists(path) || gancl_file_exists(raw)) continue;
        char why[GANCL_ERR_LEN] = "no mirror given";
        int ok = 0;
        for (int m = 0; m < n_mirrors && !ok; m++) {
            char url[2048];
            const char *base = mirrors[m];
            size_t bl = strlen(base);
            snprintf(url, sizeof url, "%s%s%s.gz", base, bl && base[bl - 1] == '/' ? "" : "/",
                     files[i].name);
            fprintf(stderr, "gan-cl: downloading %s\n", url);
            char label[64];
            snprintf(label, sizeof label, "%s.gz", files[i].name);
            ok = fetch_one(url, path, files[i].sha256_gz, label, progress, why) == 0;
            if (!ok) fprintf(stderr, "gan-cl: download failed: %s\n", why);
        }
        if (!ok) {
            char msg[GANCL_ERR_LEN];
            snprintf(msg, sizeof msg, "could not download %s.gz (last error: %.600s)", files[i].name, why);
            manual_hint(err, dir, msg);
            rc = -1;
        }
    }
    curl_global_cleanup();
    return rc;
}

#else /* built without libcurl */

int gancl_fetch(const char *dir, const char *const *mirrors, int n_mirrors,
                const gancl_data_file *files, int n_files, int progress, char *err) {
    (void)mirrors;
    (void)n_mirrors;
    (void)files;
    (void)n_files;
    (void)progress;
    manual_hint(err, dir, "the data files are missing and this gan-cl was built without libcurl");
    return -1;
}

#endif
