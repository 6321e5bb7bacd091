/* image.h: sample grids and PNG files (8-bit grayscale), written atomically. */
#ifndef GANCL_IMAGE_H
#define GANCL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Grid geometry for `rows` x `cols` tiles of h x w pixels with `pad` pixels around each. */
int gancl_grid_width(int cols, int w, int pad);
int gancl_grid_height(int rows, int h, int pad);
/* Composes `n` images (n x h x w floats in [-1, 1], row-major) into a grid, row by row.
 * Pixel value = round((v + 1) * 127.5), clamped to 0-255 (NaN maps to 0); the padding and
 * unused tiles are GANCL_GRID_PAD_VALUE. `out` holds grid_height x grid_width bytes. */
#define GANCL_GRID_PAD_VALUE 48
void gancl_grid(uint8_t *out, const float *images, int n, int rows, int cols, int h, int w, int pad);
/* Maps one value in [-1, 1] to a byte as above. */
uint8_t gancl_pixel(float v);

/* Encodes a grayscale image as PNG into a malloc'd buffer. */
int gancl_png_encode(const uint8_t *pixels, int w, int h, uint8_t **png, size_t *n);
/* Writes a grayscale PNG atomically; -1 with `err` on failure. */
int gancl_png_write(const char *path, const uint8_t *pixels, int w, int h, char *err);

/* Writes an animated PNG (APNG, looping) whose frames are the PNG files `frames` in order, each
 * shown delay_ms (the last last_ms): gan-cl's own grids, all of one size. The frames'
 * compressed image data is carried over as it is. -1 with err when a file cannot be read, is
 * not a whole PNG, or differs from the first in size or format. */
int gancl_apng_write(const char *path, char *const *frames, int n, int delay_ms, int last_ms, char *err);

#endif
