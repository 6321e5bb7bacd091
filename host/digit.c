/* digit.c: a person's picture of a digit made into an MNIST image (digit.h): PNG decoding
 * through libpng's simplified API, the ink map, the crop, the 20 x 20 fit by area averaging
 * and the placement by centre of mass. */
#include "gancl/digit.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gancl_png_decode(const uint8_t *data, size_t n, gancl_picture *pic, char *err) {
    memset(pic, 0, sizeof *pic);
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (n < 8 || png_sig_cmp(data, 0, 8)) {
        snprintf(err, GANCL_ERR_LEN, "not a PNG file (no PNG signature)");
        return -1;
    }
    if (!png_image_begin_read_from_memory(&im, data, n)) { /* frees itself on failure */
        snprintf(err, GANCL_ERR_LEN, "damaged PNG: %s", im.message);
        return -1;
    }
    if ((uint64_t)im.width * im.height > GANCL_PNG_MAX_PIXELS) {
        snprintf(err, GANCL_ERR_LEN, "%u x %u pixels is too large (at most %u megapixels)", im.width, im.height,
                 GANCL_PNG_MAX_PIXELS / 1000000);
        png_image_free(&im);
        return -1;
    }
    im.format = PNG_FORMAT_RGBA;
    const size_t px = (size_t)im.width * im.height;
    uint8_t *rgba = malloc(px * 4);
    pic->lum = malloc(px);
    pic->alpha = malloc(px);
    if (!rgba || !pic->lum || !pic->alpha) {
        snprintf(err, GANCL_ERR_LEN, "out of memory for %u x %u pixels", im.width, im.height);
        png_image_free(&im);
        free(rgba);
        gancl_picture_free(pic);
        return -1;
    }
    if (!png_image_finish_read(&im, NULL, rgba, 0, NULL)) { /* frees itself either way */
        snprintf(err, GANCL_ERR_LEN, "damaged PNG: %s", im.message);
        free(rgba);
        gancl_picture_free(pic);
        return -1;
    }
    pic->w = (int)im.width;
    pic->h = (int)im.height;
    for (size_t i = 0; i < px; i++) { /* ITU-R BT.601 luma */
        const uint8_t *p = rgba + 4 * i;
        pic->lum[i] = (uint8_t)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
        pic->alpha[i] = p[3];
    }
    free(rgba);
    return 0;
}

void gancl_picture_free(gancl_picture *pic) {
    free(pic->lum);
    free(pic->alpha);
    pic->lum = pic->alpha = NULL;
}

/* The median of v over the picture's border pixels. */
static int border_median(const uint8_t *v, int w, int h) {
    long hist[256] = {0}, n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (y == 0 || y == h - 1 || x == 0 || x == w - 1) {
                hist[v[(size_t)y * w + x]]++;
                n++;
            }
    long seen = 0;
    for (int k = 0; k < 256; k++)
        if ((seen += hist[k]) * 2 >= n) return k;
    return 255;
}

/* One axis of the area-averaging resample: src [rows, n] -> dst [rows, m]; output cell j
 * averages the source interval [j n / m, (j + 1) n / m), partial pixels by their overlap.
 * stride: the distance between neighbours along the axis, step: between rows. */
static void resample(const double *src, size_t s_stride, size_t s_step, int n, double *dst, size_t d_stride,
                     size_t d_step, int m, int rows) {
    const double scale = (double)n / m;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < m; j++) {
            const double a = j * scale, b = (j + 1) * scale;
            double s = 0;
            for (int i = (int)a; i < n && i < b; i++) {
                const double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
                s += src[r * s_step + (size_t)i * s_stride] * (hi - lo);
            }
            dst[r * d_step + (size_t)j * d_stride] = s / scale;
        }
}

int gancl_digit_prepare(const gancl_picture *pic, uint8_t out[784], char *err) {
    const int w = pic->w, h = pic->h;
    const size_t px = (size_t)w * h;
    if (w <= 0 || h <= 0) {
        snprintf(err, GANCL_ERR_LEN, "an empty picture (%d x %d pixels)", w, h);
        return -1;
    }
    uint8_t *ink = calloc(px, 1);
    if (!ink) {
        snprintf(err, GANCL_ERR_LEN, "out of memory");
        return -1;
    }
    /* the ink map, 255 = full ink: the opaque part when the background is transparent; else
     * the luminance over white, inverted when the background is light */
    if (border_median(pic->alpha, w, h) < 128) {
        memcpy(ink, pic->alpha, px);
    } else {
        for (size_t i = 0; i < px; i++)
            ink[i] = (uint8_t)((pic->lum[i] * pic->alpha[i] + 255 * (255 - pic->alpha[i]) + 127) / 255);
        if (border_median(ink, w, h) > 127)
            for (size_t i = 0; i < px; i++) ink[i] = (uint8_t)(255 - ink[i]);
    }
    /* the background level to 0, the strongest ink to 255; what stays under a tenth of the
     * range is background (paper texture, compression noise) */
    const int bg = border_median(ink, w, h);
    int peak = 0;
    for (size_t i = 0; i < px; i++)
        if (ink[i] > peak) peak = ink[i];
    if (peak - bg < 32) {
        free(ink);
        snprintf(err, GANCL_ERR_LEN, "no digit found: nothing stands out from the background (a blank picture?)");
        return -1;
    }
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = &ink[(size_t)y * w + x];
            int v = (*p - bg) * 255 / (peak - bg);
            *p = (uint8_t)(v < 26 ? 0 : v);
            if (*p) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
    /* the bounding box, scaled so that its longer side is 20 pixels */
    const int bw = x1 - x0 + 1, bh = y1 - y0 + 1, side = bw > bh ? bw : bh;
    int ow = (int)lround(20.0 * bw / side), oh = (int)lround(20.0 * bh / side);
    if (ow < 1) ow = 1;
    if (oh < 1) oh = 1;
    double *box = malloc((size_t)bw * bh * sizeof *box), *mid = malloc((size_t)ow * bh * sizeof *mid);
    double *fit = malloc((size_t)ow * oh * sizeof *fit);
    if (!box || !mid || !fit) {
        free(ink); free(box); free(mid); free(fit);
        snprintf(err, GANCL_ERR_LEN, "out of memory");
        return -1;
    }
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) box[(size_t)y * bw + x] = ink[(size_t)(y0 + y) * w + x0 + x];
    free(ink);
    resample(box, 1, (size_t)bw, bw, mid, 1, (size_t)ow, ow, bh); /* rows: bw -> ow */
    resample(mid, (size_t)ow, 1, bh, fit, (size_t)ow, 1, oh, ow); /* columns: bh -> oh */
    /* its centre of mass moved to (14, 14), by whole pixels as MNIST did */
    double mass = 0, mx = 0, my = 0;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const double v = fit[(size_t)y * ow + x];
            mass += v;
            mx += v * x;
            my += v * y;
        }
    const int dx = mass > 0 ? (int)lround(14 - mx / mass) : (28 - ow) / 2;
    const int dy = mass > 0 ? (int)lround(14 - my / mass) : (28 - oh) / 2;
    memset(out, 0, 784);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const int tx = x + dx, ty = y + dy;
            if (tx < 0 || tx >= 28 || ty < 0 || ty >= 28) continue;
            const double v = fit[(size_t)y * ow + x];
            out[ty * 28 + tx] = (uint8_t)(v >= 255 ? 255 : lround(v));
        }
    free(box);
    free(mid);
    free(fit);
    return 0;
}

int gancl_digit_from_png(const uint8_t *data, size_t n, uint8_t out[784], char *err) {
    gancl_picture pic;
    if (gancl_png_decode(data, n, &pic, err)) return -1;
    int rc = gancl_digit_prepare(&pic, out, err);
    gancl_picture_free(&pic);
    return rc;
}
