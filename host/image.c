/* image.c: grid composition and a minimal PNG encoder (grayscale, 8 bits, zlib, no filter). */
#include "gancl/image.h"
#include "gancl/check.h"
#include "gancl/fsutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int gancl_grid_width(int cols, int w, int pad) { return cols * w + (cols + 1) * pad; }
int gancl_grid_height(int rows, int h, int pad) { return rows * h + (rows + 1) * pad; }

uint8_t gancl_pixel(float v) {
    if (!(v > -1.0f)) return 0; /* also NaN */
    if (v >= 1.0f) return 255;
    return (uint8_t)lrintf((v + 1.0f) * 127.5f);
}

void gancl_grid(uint8_t *out, const float *images, int n, int rows, int cols, int h, int w, int pad) {
    int gw = gancl_grid_width(cols, w, pad), gh = gancl_grid_height(rows, h, pad);
    memset(out, GANCL_GRID_PAD_VALUE, (size_t)gw * gh);
    for (int t = 0; t < n && t < rows * cols; t++) {
        int r0 = pad + (t / cols) * (h + pad), c0 = pad + (t % cols) * (w + pad);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                out[(size_t)(r0 + y) * gw + c0 + x] = gancl_pixel(images[((size_t)t * h + y) * w + x]);
    }
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Appends a chunk (length, type, data, CRC over type and data) at p; returns its end. */
static uint8_t *chunk(uint8_t *p, const char type[4], const uint8_t *data, uint32_t len) {
    put32(p, len);
    memcpy(p + 4, type, 4);
    if (len) memcpy(p + 8, data, len);
    put32(p + 8 + len, (uint32_t)crc32(0, p + 4, len + 4));
    return p + 12 + len;
}

int gancl_png_encode(const uint8_t *pixels, int w, int h, uint8_t **png, size_t *n) {
    size_t stride = (size_t)w + 1, raw_len = stride * h;
    uint8_t *raw = malloc(raw_len);
    uLongf zlen = compressBound(raw_len);
    uint8_t *out = malloc(8 + 25 + 12 + zlen + 12);
    if (!raw || !out) goto fail;
    for (int y = 0; y < h; y++) {
        raw[y * stride] = 0; /* filter type: none */
        memcpy(raw + y * stride + 1, pixels + (size_t)y * w, (size_t)w);
    }
    uint8_t *z = malloc(zlen);
    if (!z || compress2(z, &zlen, raw, raw_len, 9) != Z_OK) {
        free(z);
        goto fail;
    }
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* colour type: grayscale */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    memcpy(out, sig, 8);
    uint8_t *p = chunk(out + 8, "IHDR", ihdr, 13);
    p = chunk(p, "IDAT", z, (uint32_t)zlen);
    p = chunk(p, "IEND", NULL, 0);
    free(z);
    free(raw);
    *png = out;
    *n = (size_t)(p - out);
    return 0;
fail:
    free(raw);
    free(out);
    return -1;
}

int gancl_png_write(const char *path, const uint8_t *pixels, int w, int h, char *err) {
    uint8_t *png;
    size_t n;
    if (gancl_png_encode(pixels, w, h, &png, &n)) {
        snprintf(err, GANCL_ERR_LEN, "%s: out of host memory while encoding", path);
        return -1;
    }
    int rc = gancl_write_file_atomic(path, png, n, err);
    free(png);
    return rc;
}

/* The IHDR (13 bytes) and the concatenated IDAT data of a PNG file's bytes; -1 when it is not a
 * whole PNG (signature, chunk lengths, CRCs, IEND). *data is malloc'd. */
static int png_frame(const uint8_t *b, size_t n, uint8_t ihdr[13], uint8_t **data, size_t *len) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *data = NULL;
    *len = 0;
    if (n < 8 || memcmp(b, sig, 8)) return -1;
    int have_ihdr = 0;
    for (size_t o = 8;;) {
        if (n - o < 12) goto bad;
        const uint32_t clen = (uint32_t)b[o] << 24 | (uint32_t)b[o + 1] << 16 | (uint32_t)b[o + 2] << 8 | b[o + 3];
        if (clen > n - o - 12) goto bad;
        const uint8_t *type = b + o + 4, *c = b + o + 8 + clen;
        if ((uint32_t)crc32(0, type, clen + 4) != ((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]))
            goto bad;
        if (!memcmp(type, "IHDR", 4) && clen == 13) {
            memcpy(ihdr, type + 4, 13);
            have_ihdr = 1;
        } else if (!memcmp(type, "IDAT", 4)) {
            uint8_t *grown = realloc(*data, *len + clen + 4); /* room for an fdAT sequence number */
            if (!grown) goto bad;
            *data = grown;
            memcpy(*data + *len, type + 4, clen);
            *len += clen;
        } else if (!memcmp(type, "IEND", 4)) {
            if (have_ihdr && *len) return 0;
            goto bad;
        }
        o += 12 + clen;
    }
bad:
    free(*data);
    *data = NULL;
    return -1;
}

int gancl_apng_write(const char *path, char *const *frames, int n, int delay_ms, int last_ms, char *err) {
    uint8_t ihdr0[13], ihdr[13], actl[8], fctl[26];
    size_t cap = 8 + 25 + 20 + 12, len = 0;
    uint8_t *out = NULL;
    int rc = -1;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint32_t seq = 0;
    for (int i = 0; i < n; i++) {
        uint8_t *file, *data;
        size_t fn, dn;
        if (gancl_read_file(frames[i], &file, &fn, err)) goto out;
        const int bad = png_frame(file, fn, i ? ihdr : ihdr0, &data, &dn);
        free(file);
        if (bad || (i && memcmp(ihdr, ihdr0, 13))) {
            free(data);
            snprintf(err, GANCL_ERR_LEN, "%s: not a PNG the size of %s", frames[i], frames[0]);
            goto out;
        }
        cap += 38 + 16 + dn; /* fcTL, the frame's IDAT or fdAT with its sequence number */
        uint8_t *grown = realloc(out, cap);
        if (!grown) {
            free(data);
            snprintf(err, GANCL_ERR_LEN, "%s: out of host memory", path);
            goto out;
        }
        out = grown;
        if (i == 0) {
            memcpy(out, sig, 8);
            uint8_t *p = chunk(out + 8, "IHDR", ihdr0, 13);
            put32(actl, (uint32_t)n); /* frames */
            put32(actl + 4, 0);       /* plays: forever */
            len = (size_t)(chunk(p, "acTL", actl, 8) - out);
        }
        const int ms = i + 1 == n ? last_ms : delay_ms;
        put32(fctl, seq++);
        memcpy(fctl + 4, ihdr0, 8); /* width, height */
        put32(fctl + 12, 0);         /* x, y offsets */
        put32(fctl + 16, 0);
        fctl[20] = (uint8_t)(ms >> 8); /* delay ms / 1000 */
        fctl[21] = (uint8_t)ms;
        fctl[22] = 1000 >> 8;
        fctl[23] = 1000 & 255;
        fctl[24] = 0; /* dispose: none */
        fctl[25] = 0; /* blend: source */
        len = (size_t)(chunk(out + len, "fcTL", fctl, 26) - out);
        if (i == 0) {
            len = (size_t)(chunk(out + len, "IDAT", data, (uint32_t)dn) - out);
        } else { /* fdAT: the sequence number, then the frame's image data */
            memmove(data + 4, data, dn);
            put32(data, seq++);
            len = (size_t)(chunk(out + len, "fdAT", data, (uint32_t)dn + 4) - out);
        }
        free(data);
    }
    if (n == 0) {
        snprintf(err, GANCL_ERR_LEN, "%s: no frames", path);
        goto out;
    }
    len = (size_t)(chunk(out + len, "IEND", NULL, 0) - out);
    rc = gancl_write_file_atomic(path, out, len, err);
out:
    free(out);
    return rc;
}
