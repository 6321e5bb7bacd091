/* mnist.c: the MNIST file set, its checksums, the data directory and loading a 28x28 split. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/mnist.h"
#include "gancl/check.h"
#include "gancl/fsutil.h"
#include "gancl/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Published SHA-256s of the original distribution (gzip files and their contents). */
const gancl_data_file GANCL_MNIST_FILES[GANCL_N_FILES] = {
    {"train-images-idx3-ubyte", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    {"train-labels-idx1-ubyte", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    {"t10k-images-idx3-ubyte", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
     "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    {"t10k-labels-idx1-ubyte", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
     "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
};

const char *const GANCL_MNIST_MIRRORS[] = {
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
};
const int GANCL_MNIST_N_MIRRORS = 2;

int gancl_data_dir(const char *flag, char *out, size_t len, char *err) {
    const char *env = getenv("GANCL_DATA");
    int n;
    if (flag) n = snprintf(out, len, "%s", flag);
    else if (env && env[0]) n = snprintf(out, len, "%s", env);
    else if (gancl_cache_dir("mnist", out, len) == 0) return 0;
    else {
        snprintf(err, GANCL_ERR_LEN, "no data directory: neither HOME nor XDG_CACHE_HOME is set\n"
                                     "  hint: pass --data DIR or set GANCL_DATA");
        return -1;
    }
    if (n <= 0 || (size_t)n >= len) {
        snprintf(err, GANCL_ERR_LEN, "data directory path is empty or too long");
        return -1;
    }
    return 0;
}

int gancl_data_find(const char *dir, int which, char *path, size_t len) {
    snprintf(path, len, "%s/%s.gz", dir, GANCL_MNIST_FILES[which].name);
    if (gancl_file_exists(path)) return 0;
    snprintf(path, len, "%s/%s", dir, GANCL_MNIST_FILES[which].name);
    return gancl_file_exists(path) ? 0 : -1;
}

int gancl_data_is_official(const char *path, int which) {
    uint8_t *buf;
    size_t n;
    char err[GANCL_ERR_LEN], hex[65];
    if (gancl_read_file(path, &buf, &n, err)) return -1;
    gancl_sha256_hex(buf, n, hex);
    free(buf);
    return strcmp(hex, GANCL_MNIST_FILES[which].sha256_gz) == 0 ||
           strcmp(hex, GANCL_MNIST_FILES[which].sha256_raw) == 0;
}

int gancl_dataset_load(const char *dir, int train, gancl_dataset *out, char *err) {
    memset(out, 0, sizeof *out);
    int wi = train ? GANCL_TRAIN_IMAGES : GANCL_TEST_IMAGES;
    int wl = train ? GANCL_TRAIN_LABELS : GANCL_TEST_LABELS;
    char pi[4096], pl[4096];
    for (int w = wi; w <= wl; w++)
        if (gancl_data_find(dir, w, w == wi ? pi : pl, sizeof pi)) {
            snprintf(err, GANCL_ERR_LEN, "%s/%s.gz: missing (neither it nor %s is there)", dir,
                     GANCL_MNIST_FILES[w].name, GANCL_MNIST_FILES[w].name);
            return -1;
        }
    if (gancl_idx_load(pi, &out->images, err)) return -1;
    if (gancl_idx_load(pl, &out->labels, err)) goto fail;
    if (out->images.magic != GANCL_IDX_IMAGES) {
        snprintf(err, GANCL_ERR_LEN, "%s: holds labels, expected images", gancl_basename(pi));
        goto fail;
    }
    if (out->labels.magic != GANCL_IDX_LABELS) {
        snprintf(err, GANCL_ERR_LEN, "%s: holds images, expected labels", gancl_basename(pl));
        goto fail;
    }
    if (out->images.rows != 28 || out->images.cols != 28) {
        snprintf(err, GANCL_ERR_LEN, "%s: images are %ux%u, gan-cl needs 28x28", gancl_basename(pi),
                 out->images.rows, out->images.cols);
        goto fail;
    }
    if (out->images.count != out->labels.count) {
        snprintf(err, GANCL_ERR_LEN, "%s has %u images but %s has %u labels", gancl_basename(pi),
                 out->images.count, gancl_basename(pl), out->labels.count);
        goto fail;
    }
    return 0;
fail:
    gancl_dataset_free(out);
    return -1;
}

void gancl_dataset_free(gancl_dataset *ds) {
    gancl_idx_free(&ds->images);
    gancl_idx_free(&ds->labels);
}

int gancl_mirrors(const char *flag, const char *const **mirrors) {
    static const char *one[1];
    const char *env = getenv("GANCL_MNIST_MIRROR");
    one[0] = flag ? flag : (env && env[0] ? env : NULL);
    if (one[0]) {
        *mirrors = one;
        return 1;
    }
    *mirrors = GANCL_MNIST_MIRRORS;
    return GANCL_MNIST_N_MIRRORS;
}

int gancl_data_ensure(const char *dir, const char *mirror_flag, int offline, int progress, char *err) {
    char path[4096];
    int missing = 0;
    for (int w = 0; w < GANCL_N_FILES; w++) missing += gancl_data_find(dir, w, path, sizeof path) != 0;
    if (!missing) return 0;
    if (offline) {
        snprintf(err, GANCL_ERR_LEN,
                 "%d MNIST file(s) missing in %s and --offline forbids downloading\n"
                 "  hint: run `gan-cl download --data %s` while online, or copy the four files\n"
                 "        train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz\n"
                 "        t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz there",
                 missing, dir, dir);
        return -1;
    }
    const char *const *mirrors;
    int nm = gancl_mirrors(mirror_flag, &mirrors);
    return gancl_fetch(dir, mirrors, nm, GANCL_MNIST_FILES, GANCL_N_FILES, progress, err);
}
