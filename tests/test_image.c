/* test_image.c: PNG files decoded independently (chunk CRCs, IHDR, inflate, every pixel),
 * the grid layout and value mapping, and atomic writes leaving no temporary files. */
#include "testutil.h"
#include "gancl/check.h"
#include "gancl/image.h"

#include <zlib.h>

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A minimal PNG decoder for 8-bit grayscale, filter 0: verifies every chunk's CRC. */
static uint8_t *decode(const uint8_t *png, size_t n, uint32_t *w, uint32_t *h) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(n > 8);
    assert_memory_equal(png, sig, 8);
    *w = *h = 0;
    uint8_t *idat = NULL;
    size_t idat_len = 0, pos = 8;
    int seen_end = 0;
    while (pos + 12 <= n) {
        uint32_t len = be32(png + pos);
        assert_true(pos + 12 + len <= n);
        const uint8_t *type = png + pos + 4, *data = png + pos + 8;
        assert_int_equal(be32(data + len), (uint32_t)crc32(0, type, len + 4));
        if (!memcmp(type, "IHDR", 4)) {
            assert_int_equal(len, 13);
            *w = be32(data);
            *h = be32(data + 4);
            assert_int_equal(data[8], 8); /* bit depth */
            assert_int_equal(data[9], 0); /* grayscale */
            assert_int_equal(data[12], 0); /* not interlaced */
        } else if (!memcmp(type, "IDAT", 4)) {
            idat = realloc(idat, idat_len + len);
            memcpy(idat + idat_len, data, len);
            idat_len += len;
        } else if (!memcmp(type, "IEND", 4)) {
            seen_end = 1;
        }
        pos += 12 + len;
    }
    assert_true(seen_end);
    assert_int_equal(pos, n);
    uLongf raw_len = (uLongf)(*w + 1) * *h;
    uint8_t *raw = malloc(raw_len), *pix = malloc((size_t)*w * *h);
    assert_int_equal(uncompress(raw, &raw_len, idat, idat_len), Z_OK);
    assert_int_equal(raw_len, (uLongf)(*w + 1) * *h);
    for (uint32_t y = 0; y < *h; y++) {
        assert_int_equal(raw[y * (*w + 1)], 0);
        memcpy(pix + (size_t)y * *w, raw + y * (*w + 1) + 1, *w);
    }
    free(raw);
    free(idat);
    return pix;
}

static void test_png_roundtrip(void **state) {
    (void)state;
    const int w = 37, h = 23;
    uint8_t px[37 * 23];
    for (int i = 0; i < w * h; i++) px[i] = (uint8_t)(i * 13 + i / 7);
    char dir[512], path[600];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.png", dir);
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_png_write(path, px, w, h, err), 0);
    assert_int_equal(count_entries(dir), 1); /* no temporary file left beside it */
    FILE *f = fopen(path, "rb");
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint32_t dw, dh;
    uint8_t *dec = decode(buf, n, &dw, &dh);
    assert_int_equal(dw, w);
    assert_int_equal(dh, h);
    assert_memory_equal(dec, px, sizeof px);
    free(dec);

    snprintf(path, sizeof path, "%s/no-such-dir/a.png", dir);
    assert_int_equal(gancl_png_write(path, px, w, h, err), -1);
    assert_non_null(strstr(err, "no-such-dir/a.png"));
    remove_tree(dir);
}

static void test_pixel_mapping(void **state) {
    (void)state;
    assert_int_equal(gancl_pixel(-1.0f), 0);
    assert_int_equal(gancl_pixel(1.0f), 255);
    assert_int_equal(gancl_pixel(0.0f), 128); /* 127.5 rounds to even: 128 */
    assert_int_equal(gancl_pixel(-2.0f), 0);
    assert_int_equal(gancl_pixel(3.0f), 255);
    assert_int_equal(gancl_pixel(0.5f), 191);
    assert_int_equal(gancl_pixel(0.0f / 0.0f), 0);
}

static void test_grid_layout(void **state) {
    (void)state;
    /* 5 images of 3x2 in a 2x3 grid with 1 pixel of padding: the 6th tile stays padding. */
    const int n = 5, h = 3, w = 2, rows = 2, cols = 3, pad = 1;
    float img[5 * 3 * 2];
    for (int i = 0; i < n * h * w; i++) img[i] = -1.0f + 2.0f * (float)i / (n * h * w - 1);
    int gw = gancl_grid_width(cols, w, pad), gh = gancl_grid_height(rows, h, pad);
    assert_int_equal(gw, 3 * 2 + 4);
    assert_int_equal(gh, 2 * 3 + 3);
    uint8_t out[10 * 9];
    gancl_grid(out, img, n, rows, cols, h, w, pad);
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++) {
            int ty = (y - pad) / (h + pad), oy = (y - pad) % (h + pad);
            int tx = (x - pad) / (w + pad), ox = (x - pad) % (w + pad);
            int inside = y >= pad && x >= pad && oy < h && ox < w;
            int t = ty * cols + tx;
            int expect = GANCL_GRID_PAD_VALUE;
            if (inside && t < n) expect = gancl_pixel(img[(t * h + oy) * w + ox]);
            assert_int_equal(out[y * gw + x], expect);
        }
    assert_int_equal(out[1 * gw + 1], 0);                        /* first pixel of tile 0: -1 */
    assert_int_equal(out[(pad + h + pad + h - 1) * gw + pad + w + pad + w - 1], 255); /* last of tile 4 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_roundtrip),
        cmocka_unit_test(test_pixel_mapping),
        cmocka_unit_test(test_grid_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
