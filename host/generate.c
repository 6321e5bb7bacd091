/* generate.c: `gan-cl generate`: images from a checkpoint's generator, as a PNG grid or an
 * IDX file (uint8, 28x28) that other tools can score (with the labels IDX file of the classes
 * asked for, for a conditional model); digits on request; interpolation strips. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/checkpoint.h"
#include "gancl/fsutil.h"
#include "gancl/gan.h"
#include "gancl/image.h"
#include "gancl/layers.h"
#include "gancl/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The network samples come from: the EMA generator when there is one. */
static gancl_net *sampler(gancl_gan *gan) { return gan->ema_decay ? &gan->g_ema : &gan->g; }

/* Spherical interpolation between a and b [Z] at t in [0, 1] (linear when they are parallel). */
static void slerp(float *out, const float *a, const float *b, int Z, double t) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < Z; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    const double c = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 1, omega = acos(c < -1 ? -1 : c > 1 ? 1 : c);
    const double s = sin(omega);
    const double wa = s < 1e-6 ? 1 - t : sin((1 - t) * omega) / s, wb = s < 1e-6 ? t : sin(t * omega) / s;
    for (int i = 0; i < Z; i++) out[i] = (float)(wa * a[i] + wb * b[i]);
}

/* Interpolation strip of `count` images: from the first noise vector `generate --seed` draws to
 * the second (classes: the digit `from` throughout), or, with to >= 0, from the digit `from` to
 * the digit `to` at the first noise vector: the class embedding moves along the line between
 * the two digits' rows of the table (each image's mix goes into a row of its own, for one pass,
 * and the table is put back after). */
static void interpolate(gancl_gan *gan, int count, uint64_t seed, int from, int to, float *img) {
    const gancl_runtime *rt = gan->rt;
    const int Z = gan->arch.latent, I = gan->arch.image, C = gan->arch.classes;
    const int chunk = to >= 0 ? (C < gan->g_rows ? C : gan->g_rows) : gan->g_rows;
    gancl_ptr z = gancl_gan_io(gan, gan->z), out = gancl_gan_io(gan, gan->g_out);
    float *ends = malloc((size_t)2 * Z * sizeof *ends), *zs = malloc((size_t)chunk * Z * sizeof *zs);
    int *labels = malloc((size_t)chunk * sizeof *labels);
    if (!ends || !zs || !labels) gancl_die("out of host memory");
    gancl_gan_noise(gan, z, (size_t)2 * Z, seed, 0, GANCL_STREAM_SAMPLES);
    gancl_read(rt, gan->io, z.off * sizeof(float), (size_t)2 * Z * sizeof(float), ends);
    gancl_net *net = sampler(gan);
    float *table = NULL, *mix = NULL;
    size_t table_off = 0, E = 0;
    if (to >= 0) { /* the generator's first layer is the class Embedding [C, E] */
        const gancl_tensor_info *t = &net->params.t[net->op[0].w];
        table_off = t->off;
        E = (size_t)t->shape[1];
        table = malloc((size_t)C * E * sizeof *table);
        mix = malloc((size_t)C * E * sizeof *mix);
        if (!table || !mix) gancl_die("out of host memory");
        gancl_read(rt, net->buf, table_off * sizeof(float), (size_t)C * E * sizeof(float), table);
    }
    for (int done = 0; done < count; done += chunk) {
        const int n = count - done < chunk ? count - done : chunk;
        for (int r = 0; r < n; r++) {
            const double t = count > 1 ? (double)(done + r) / (count - 1) : 0;
            if (to >= 0) {
                memcpy(zs + (size_t)r * Z, ends, (size_t)Z * sizeof *zs);
                for (size_t e = 0; e < E; e++)
                    mix[r * E + e] = (float)((1 - t) * table[from * E + e] + t * table[to * E + e]);
                labels[r] = r;
            } else {
                slerp(zs + (size_t)r * Z, ends, ends + Z, Z, t);
                labels[r] = from;
            }
        }
        gancl_write(rt, gan->io, z.off * sizeof(float), (size_t)n * Z * sizeof(float), zs);
        if (C) gancl_gan_set_labels(gan, labels, n);
        if (to >= 0) gancl_write(rt, net->buf, table_off * sizeof(float), (size_t)n * E * sizeof(float), mix);
        gancl_gan_sample(gan, out, n);
        gancl_read(rt, gan->io, out.off * sizeof(float), (size_t)n * I * sizeof(float), img + (size_t)done * I);
        gancl_gan_signed_pixels(gan, img + (size_t)done * I, (size_t)n * I);
    }
    if (to >= 0) gancl_write(rt, net->buf, table_off * sizeof(float), (size_t)C * E * sizeof(float), table);
    free(table);
    free(mix);
    free(ends);
    free(zs);
    free(labels);
}

/* "samples-images-idx3-ubyte" -> "samples-labels-idx1-ubyte"; otherwise "<out>-labels-idx1-ubyte". */
static void labels_path(const char *out, char *path, size_t len) {
    const char *tag = "images-idx3-ubyte", *at = strstr(out, tag);
    if (at && !strchr(at + strlen(tag), '/'))
        snprintf(path, len, "%.*slabels-idx1-ubyte%s", (int)(at - out), out, at + strlen(tag));
    else snprintf(path, len, "%s-labels-idx1-ubyte", out);
}

static int write_idx(const char *path, uint32_t magic, const uint32_t *dims, int ndims, const uint8_t *data,
                     size_t n, char *err) {
    const size_t head = 4 + 4 * (size_t)ndims;
    uint8_t *buf = malloc(head + n);
    if (!buf) gancl_die("out of host memory");
    const uint32_t words[4] = {magic, dims[0], ndims > 1 ? dims[1] : 0, ndims > 2 ? dims[2] : 0};
    for (int k = 0; k <= ndims; k++)
        for (int b = 0; b < 4; b++) buf[4 * k + b] = (uint8_t)(words[k] >> (24 - 8 * b));
    memcpy(buf + head, data, n);
    int rc = gancl_write_file_atomic(path, buf, head + n, err);
    free(buf);
    return rc;
}

int gancl_generate(const gancl_runtime *rt, const char *checkpoint, const gancl_generate_options *o) {
    char err[GANCL_ERR_LEN];
    const int n_digits = o->digits ? (int)strlen(o->digits) : 0;
    /* --digits: one row of `count` per digit; --interpolate: one strip */
    const int rows = o->interpolate ? 1 : n_digits > 1 ? n_digits : 0;
    const int count = o->interpolate || n_digits <= 1 ? o->count : o->count * n_digits;
    gancl_gan gan;
    const int g_rows = count < GANCL_SAMPLE_CHUNK ? count : GANCL_SAMPLE_CHUNK;
    if (gancl_checkpoint_open_generator(checkpoint, &gan, rt, g_rows < 10 ? 10 : g_rows, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        return 1;
    }
    const int C = gan.arch.classes;
    if (n_digits && !C) {
        fprintf(stderr, "gan-cl: error: %s is not a conditional model: it draws whatever digit its noise gives\n"
                "  hint: train one with `gan-cl --conditional`, then ask it for --digit 7\n", checkpoint);
        gancl_gan_free(&gan);
        return 1;
    }
    if (o->interpolate && C && n_digits == 0) {
        fprintf(stderr, "gan-cl: error: --interpolate on a conditional model needs --digit D (from one noise "
                "vector to another) or --digits AB (from digit A to digit B)\n");
        gancl_gan_free(&gan);
        return 1;
    }
    const int I = gan.arch.image;
    float *img = malloc((size_t)count * I * sizeof *img);
    int *labels = C ? malloc((size_t)count * sizeof *labels) : NULL;
    if (!img || (C && !labels)) gancl_die("out of host memory for %d images", count);
    if (o->interpolate) {
        const int from = n_digits ? o->digits[0] - '0' : 0, to = n_digits > 1 ? o->digits[1] - '0' : -1;
        interpolate(&gan, count, o->seed, from, to, img);
        for (int i = 0; C && i < count; i++) labels[i] = to >= 0 && i * 2 >= count - 1 ? to : from;
    } else {
        for (int i = 0; C && i < count; i++)
            labels[i] = n_digits ? o->digits[n_digits > 1 ? i / o->count : 0] - '0' : i % C;
        gancl_gan_sample_images(&gan, count, o->seed, labels, img);
    }
    gancl_gan_free(&gan);
    int rc;
    char lpath[4200] = "";
    if (o->format == GANCL_FORMAT_PNG) {
        int cols = rows ? (o->interpolate ? count : o->count) : (int)ceil(sqrt((double)count));
        int r = rows ? rows : (count + cols - 1) / cols;
        int gw = gancl_grid_width(cols, 28, 2), gh = gancl_grid_height(r, 28, 2);
        uint8_t *px = malloc((size_t)gw * gh);
        if (!px) gancl_die("out of host memory");
        gancl_grid(px, img, count, r, cols, 28, 28, 2);
        rc = gancl_png_write(o->out, px, gw, gh, err);
        free(px);
    } else {
        uint8_t *px = malloc((size_t)count * I);
        if (!px) gancl_die("out of host memory");
        for (size_t i = 0; i < (size_t)count * I; i++) px[i] = gancl_pixel(img[i]);
        const uint32_t dims[3] = {(uint32_t)count, 28, 28};
        rc = write_idx(o->out, 2051, dims, 3, px, (size_t)count * I, err);
        if (rc == 0 && C) { /* the classes asked for, so other tools can score class by class */
            for (int i = 0; i < count; i++) px[i] = (uint8_t)labels[i];
            labels_path(o->out, lpath, sizeof lpath);
            rc = write_idx(lpath, 2049, dims, 1, px, (size_t)count, err);
        }
        free(px);
    }
    free(img);
    free(labels);
    if (rc) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        return 1;
    }
    printf("wrote %d images to %s%s%s\n", count, o->out, lpath[0] ? ", their classes to " : "", lpath);
    return 0;
}
