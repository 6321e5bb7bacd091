/* digit.h: a person's picture of one digit made into an MNIST image. PNG files are decoded by
 * libpng (any size, bit depth and colour type, with or without alpha), then prepared the way
 * MNIST's digits were: the ink found (light-on-dark or dark-on-light, or the opaque part of a
 * picture on a transparent background), cropped to its bounding box, scaled to fit 20 x 20
 * with its aspect kept, and placed in 28 x 28 with its centre of mass at pixel (14, 14), the
 * real digits' mean (measured on MNIST's training set: 14.00, 14.01). */
#ifndef GANCL_DIGIT_H
#define GANCL_DIGIT_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/check.h" /* GANCL_ERR_LEN */

#define GANCL_PNG_MAX_PIXELS (25u * 1000 * 1000) /* larger pictures are refused */

/* A decoded picture: luminance and alpha, 8 bits each, row-major. */
typedef struct {
    int w, h;
    uint8_t *lum, *alpha;
} gancl_picture;

/* Decodes a PNG held in memory. -1 and a message (libpng's, or the size limit) on failure. */
int gancl_png_decode(const uint8_t *data, size_t n, gancl_picture *pic, char *err);
void gancl_picture_free(gancl_picture *pic);

/* The MNIST-style 28 x 28 image of the picture's digit (ink 255 on 0). -1 and a message when
 * no ink stands out from the background. */
int gancl_digit_prepare(const gancl_picture *pic, uint8_t out[784], char *err);

/* Both steps on a PNG in memory. */
int gancl_digit_from_png(const uint8_t *data, size_t n, uint8_t out[784], char *err);

#endif
