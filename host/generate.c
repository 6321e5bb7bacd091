/* generate.c: `gan-cl generate`: images from a checkpoint's generator, as a PNG grid or an
 * IDX file (uint8, 28x28) that other tools can score. */
#define _POSIX_C_SOURCE 200809L
#include "gancl/checkpoint.h"
#include "gancl/fsutil.h"
#include "gancl/gan.h"
#include "gancl/image.h"
#include "gancl/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


int gancl_generate(const gancl_runtime *rt, const char *checkpoint, int count, uint64_t seed,
                   const char *out, gancl_image_format format) {
    char err[GANCL_ERR_LEN];
    gancl_gan gan;
    if (gancl_checkpoint_open_generator(checkpoint, &gan, rt, count < GANCL_SAMPLE_CHUNK ? count : GANCL_SAMPLE_CHUNK, err)) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        return 1;
    }
    const int I = gan.arch.image;
    float *img = malloc((size_t)count * I * sizeof *img);
    if (!img) gancl_die("out of host memory for %d images", count);
    gancl_gan_sample_images(&gan, count, seed, img);
    gancl_gan_free(&gan);
    int rc;
    if (format == GANCL_FORMAT_PNG) {
        int cols = (int)ceil(sqrt((double)count)), rows = (count + cols - 1) / cols;
        int gw = gancl_grid_width(cols, 28, 2), gh = gancl_grid_height(rows, 28, 2);
        uint8_t *px = malloc((size_t)gw * gh);
        if (!px) gancl_die("out of host memory");
        gancl_grid(px, img, count, rows, cols, 28, 28, 2);
        rc = gancl_png_write(out, px, gw, gh, err);
        free(px);
    } else {
        size_t n = 16 + (size_t)count * I;
        uint8_t *idx = malloc(n);
        if (!idx) gancl_die("out of host memory");
        const uint32_t hdr[4] = {2051, (uint32_t)count, 28, 28};
        for (int k = 0; k < 4; k++)
            for (int b = 0; b < 4; b++) idx[4 * k + b] = (uint8_t)(hdr[k] >> (24 - 8 * b));
        for (size_t i = 0; i < (size_t)count * I; i++) idx[16 + i] = gancl_pixel(img[i]);
        rc = gancl_write_file_atomic(out, idx, n, err);
        free(idx);
    }
    free(img);
    if (rc) {
        fprintf(stderr, "gan-cl: error: %s\n", err);
        return 1;
    }
    printf("wrote %d images to %s\n", count, out);
    return 0;
}
