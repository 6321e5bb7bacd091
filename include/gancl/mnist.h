/* mnist.h: IDX files (gzip or raw) with strict validation, the MNIST file set and its
 * checksums, the data directory, and downloading with verification.
 * Every failure fills `err` with "<file>: <problem>" and returns -1; nothing here exits. */
#ifndef GANCL_MNIST_H
#define GANCL_MNIST_H

#include <stddef.h>
#include <stdint.h>

enum { GANCL_IDX_IMAGES = 2051, GANCL_IDX_LABELS = 2049 };

typedef struct {
    int magic;      /* GANCL_IDX_IMAGES or GANCL_IDX_LABELS */
    uint32_t count; /* number of items */
    uint32_t rows, cols; /* image size (0 for labels) */
    uint8_t *data;  /* count * rows * cols pixels, or count labels */
} gancl_idx;

/* Parses decompressed IDX bytes; `name` is used in messages. `data` is copied. */
int gancl_idx_parse(const char *name, const uint8_t *bytes, size_t n, gancl_idx *out, char *err);
/* Reads a .gz (detected by its magic bytes) or raw IDX file and parses it. */
int gancl_idx_load(const char *path, gancl_idx *out, char *err);
/* The same on the file's bytes in memory (gzip or raw). */
int gancl_idx_decode(const char *name, const uint8_t *bytes, size_t n, gancl_idx *out, char *err);
void gancl_idx_free(gancl_idx *idx);

/* One file of the MNIST distribution and its published SHA-256s. */
typedef struct {
    const char *name;       /* e.g. "train-images-idx3-ubyte" (the .gz adds ".gz") */
    const char *sha256_gz;  /* of the official .gz file */
    const char *sha256_raw; /* of the decompressed file */
} gancl_data_file;

enum { GANCL_TRAIN_IMAGES, GANCL_TRAIN_LABELS, GANCL_TEST_IMAGES, GANCL_TEST_LABELS, GANCL_N_FILES };
extern const gancl_data_file GANCL_MNIST_FILES[GANCL_N_FILES];
/* Default download locations, tried in order; each is a base URL ending in '/'. */
extern const char *const GANCL_MNIST_MIRRORS[];
extern const int GANCL_MNIST_N_MIRRORS;

/* The data directory: `flag` (--data) if given, else $GANCL_DATA, else the cache dir. */
int gancl_data_dir(const char *flag, char *out, size_t len, char *err);
/* Finds file `which` in `dir` as "<name>.gz" or "<name>"; 0 and the path, or -1 when absent. */
int gancl_data_find(const char *dir, int which, char *path, size_t len);
/* 1 when the file at `path` has the official checksum of file `which` (gz or raw), 0 when it
 * differs, -1 when it cannot be read. */
int gancl_data_is_official(const char *path, int which);

/* A 28x28 split: images (N x 28 x 28) and labels (N). */
typedef struct {
    gancl_idx images, labels;
} gancl_dataset;

/* Loads the training (train = 1) or test split from `dir`, checking 28x28 images, labels 0-9
 * and equal counts. */
int gancl_dataset_load(const char *dir, int train, gancl_dataset *out, char *err);
void gancl_dataset_free(gancl_dataset *ds);

/* Downloads each of `files` that `dir` lacks from the first of `mirrors` that serves it with
 * the right SHA-256 (sha256_gz) into a temporary file, then renames it into place. A file
 * that fails verification is deleted. `progress` shows a live line on stderr. */
int gancl_fetch(const char *dir, const char *const *mirrors, int n_mirrors,
                const gancl_data_file *files, int n_files, int progress, char *err);
/* Mirrors to use: the override (--mirror or $GANCL_MNIST_MIRROR) alone, else the defaults. */
int gancl_mirrors(const char *flag, const char *const **mirrors);
/* Makes sure `dir` holds the four MNIST files, downloading the missing ones unless `offline`. */
int gancl_data_ensure(const char *dir, const char *mirror_flag, int offline, int progress, char *err);

#endif
