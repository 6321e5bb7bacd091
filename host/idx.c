/* idx.c: reading and validating IDX files (the MNIST format), gzip-compressed or raw. */
#include "gancl/mnist.h"
#include "gancl/check.h"
#include "gancl/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A decompressed IDX file is at most 16 + 60000*28*28 bytes for MNIST; larger data sets of
 * the same kind fit easily below this cap, which also stops a gzip bomb. */
#define MAX_INFLATED ((size_t)1 << 30)

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int gancl_idx_parse(const char *name, const uint8_t *b, size_t n, gancl_idx *out, char *err) {
    memset(out, 0, sizeof *out);
    if (n == 0) {
        snprintf(err, GANCL_ERR_LEN, "%s: empty file", name);
        return -1;
    }
    if (n < 8) {
        snprintf(err, GANCL_ERR_LEN, "%s: truncated: %zu bytes is shorter than an IDX header", name, n);
        return -1;
    }
    uint32_t magic = be32(b);
    size_t header;
    uint64_t item = 1;
    if (magic == GANCL_IDX_IMAGES) {
        header = 16;
        if (n < header) {
            snprintf(err, GANCL_ERR_LEN, "%s: truncated: %zu bytes is shorter than an IDX image header", name, n);
            return -1;
        }
        out->rows = be32(b + 8);
        out->cols = be32(b + 12);
        if (out->rows == 0 || out->cols == 0 || out->rows > 4096 || out->cols > 4096) {
            snprintf(err, GANCL_ERR_LEN, "%s: bad image size %ux%u", name, out->rows, out->cols);
            return -1;
        }
        item = (uint64_t)out->rows * out->cols;
    } else if (magic == GANCL_IDX_LABELS) {
        header = 8;
    } else {
        snprintf(err, GANCL_ERR_LEN,
                 "%s: bad magic number %u (expected 2051 for images or 2049 for labels): not an IDX file",
                 name, magic);
        return -1;
    }
    out->magic = (int)magic;
    out->count = be32(b + 4);
    uint64_t expected = header + (uint64_t)out->count * item;
    if (out->count == 0) {
        snprintf(err, GANCL_ERR_LEN, "%s: the header says it holds 0 items", name);
        return -1;
    }
    if (n < expected) {
        snprintf(err, GANCL_ERR_LEN, "%s: truncated: expected %llu bytes, got %zu", name,
                 (unsigned long long)expected, n);
        return -1;
    }
    if (n > expected) {
        snprintf(err, GANCL_ERR_LEN, "%s: wrong size: expected %llu bytes for %u items, got %zu",
                 name, (unsigned long long)expected, out->count, n);
        return -1;
    }
    if (magic == GANCL_IDX_LABELS)
        for (uint32_t i = 0; i < out->count; i++)
            if (b[header + i] > 9) {
                snprintf(err, GANCL_ERR_LEN, "%s: label out of range: item %u has label %u (expected 0-9)",
                         name, i, b[header + i]);
                return -1;
            }
    out->data = malloc(expected - header);
    if (!out->data) {
        snprintf(err, GANCL_ERR_LEN, "%s: out of host memory", name);
        return -1;
    }
    memcpy(out->data, b + header, expected - header);
    return 0;
}

/* Inflates a gzip file in memory. On a stream that ends early, returns what was inflated
 * with *truncated = 1 so the caller can say how much is missing. */
static int gunzip(const char *name, const uint8_t *in, size_t n, uint8_t **out, size_t *outn,
                  int *truncated, char *err) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    *truncated = 0;
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        snprintf(err, GANCL_ERR_LEN, "%s: zlib initialisation failed", name);
        return -1;
    }
    size_t cap = n * 4 + 1024, len = 0;
    uint8_t *buf = malloc(cap);
    int rc = Z_OK;
    zs.next_in = (Bytef *)in;
    while (buf && rc == Z_OK) {
        size_t left = n - (size_t)((const uint8_t *)zs.next_in - in);
        zs.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
        if (len == cap) {
            if (cap >= MAX_INFLATED) {
                snprintf(err, GANCL_ERR_LEN, "%s: decompresses to more than %zu MiB: not an MNIST file",
                         name, MAX_INFLATED >> 20);
                inflateEnd(&zs);
                free(buf);
                return -1;
            }
            cap = cap * 2 > MAX_INFLATED ? MAX_INFLATED : cap * 2;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) free(buf);
            buf = grown;
            if (!buf) break;
        }
        zs.next_out = buf + len;
        size_t room = cap - len > (1u << 30) ? (1u << 30) : cap - len;
        zs.avail_out = (uInt)room;
        rc = inflate(&zs, Z_NO_FLUSH);
        len += room - zs.avail_out;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            *truncated = 1; /* input ran out before the end of the stream */
            break;
        }
        if (rc == Z_BUF_ERROR) rc = Z_OK;
    }
    const char *msg = zs.msg;
    inflateEnd(&zs);
    if (!buf) {
        snprintf(err, GANCL_ERR_LEN, "%s: out of host memory", name);
        return -1;
    }
    if (!*truncated && rc != Z_STREAM_END) {
        snprintf(err, GANCL_ERR_LEN, "%s: corrupt gzip data (zlib: %s)", name,
                 msg ? msg : zError(rc));
        free(buf);
        return -1;
    }
    *out = buf;
    *outn = len;
    return 0;
}

int gancl_idx_load(const char *path, gancl_idx *out, char *err) {
    memset(out, 0, sizeof *out);
    uint8_t *raw;
    size_t n;
    if (gancl_read_file(path, &raw, &n, err)) return -1;
    int rc = gancl_idx_decode(gancl_basename(path), raw, n, out, err);
    free(raw);
    return rc;
}

int gancl_idx_decode(const char *name, const uint8_t *raw, size_t n, gancl_idx *out, char *err) {
    memset(out, 0, sizeof *out);
    int rc;
    if (n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        uint8_t *plain;
        size_t pn;
        int truncated;
        rc = gunzip(name, raw, n, &plain, &pn, &truncated, err);
        if (rc == 0 && truncated && pn < 16) {
            snprintf(err, GANCL_ERR_LEN, "%s: truncated gzip stream", name);
            free(plain);
            rc = -1;
        } else if (rc == 0) {
            rc = gancl_idx_parse(name, plain, pn, out, err);
            if (rc == 0 && truncated) { /* whole payload but no gzip trailer */
                gancl_idx_free(out);
                snprintf(err, GANCL_ERR_LEN, "%s: truncated gzip stream (missing its end)", name);
                rc = -1;
            }
            free(plain);
        }
    } else {
        rc = gancl_idx_parse(name, raw, n, out, err);
    }
    return rc;
}

void gancl_idx_free(gancl_idx *idx) {
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
