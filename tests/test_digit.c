/* test_digit.c: pictures of digits made into MNIST images (digit.c). Hand-made pictures,
 * encoded by libpng's writer in every colour type: a ring drawn off-centre at 280 x 280,
 * dark-on-light, lands in 28 x 28 with its centre of mass at (14, 14) and its box 20 pixels
 * wide, matching a supersampled reference of the ideal ring; light-on-dark, colour, 16-bit
 * and transparent-background versions give the same image; a wide bar keeps its aspect;
 * blank, damaged, truncated, oversized and non-PNG files get a clear message. */
#include "gancl/digit.h"
#include "testutil.h"

#include <math.h>

enum { S = 280 };
static const double CX = 90, CY = 190, R_OUT = 60, R_IN = 35; /* the ring, off-centre */

static int in_ring(int x, int y) {
    const double d = hypot(x - CX, y - CY);
    return d <= R_OUT && d >= R_IN;
}

/* The ring in `format`: channel values ink / paper (grey, RGB, with alpha where it has one). */
static uint8_t *ring_png(png_uint_32 format, const uint8_t ink[4], const uint8_t paper[4], size_t *n) {
    const int ch = (int)PNG_IMAGE_SAMPLE_CHANNELS(format), wide = (format & PNG_FORMAT_FLAG_LINEAR) != 0;
    uint8_t *pix = malloc((size_t)S * S * ch * 2);
    uint16_t *pix16 = (uint16_t *)pix;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < ch; c++) {
                const uint8_t v = (in_ring(x, y) ? ink : paper)[c];
                const size_t i = ((size_t)y * S + x) * ch + c;
                if (wide) pix16[i] = (uint16_t)(v * 257);
                else pix[i] = v;
            }
    uint8_t *png = png_encode_format(pix, S, S, format, n);
    free(pix);
    return png;
}

static void prepare_ok(const uint8_t *png, size_t n, uint8_t out[784]) {
    char err[GANCL_ERR_LEN];
    if (gancl_digit_from_png(png, n, out, err)) fail_msg("%s", err);
}

static void box_and_mass(const uint8_t *img, int *bw, int *bh, double *cx, double *cy) {
    int x0 = 28, x1 = -1, y0 = 28, y1 = -1;
    double m = 0, mx = 0, my = 0;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            const int v = img[y * 28 + x];
            if (!v) continue;
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
            m += v, mx += v * x, my += v * y;
        }
    *bw = x1 - x0 + 1;
    *bh = y1 - y0 + 1;
    *cx = mx / m;
    *cy = my / m;
}

static int max_diff(const uint8_t *a, const uint8_t *b) {
    int d = 0;
    for (int i = 0; i < 784; i++) d = abs(a[i] - b[i]) > d ? abs(a[i] - b[i]) : d;
    return d;
}

static void test_ring_lands_centred(void **state) {
    (void)state;
    const uint8_t black[4] = {0, 0, 0, 255}, white[4] = {255, 255, 255, 255};
    size_t n;
    uint8_t *png = ring_png(PNG_FORMAT_GRAY, black, white, &n), img[784];
    prepare_ok(png, n, img);
    free(png);
    int bw, bh;
    double cx, cy;
    box_and_mass(img, &bw, &bh, &cx, &cy);
    assert_int_equal(bw, 20);
    assert_int_equal(bh, 20);
    if (fabs(cx - 14) > 0.5 || fabs(cy - 14) > 0.5) fail_msg("centre of mass (%.2f, %.2f), not (14, 14)", cx, cy);
    /* the reference: the ideal ring's box (pixels 30..150 x 130..250) in 20 x 20 cells, each
     * cell's ink share by 32 x 32 samples, placed by the integer shift the mass gives */
    const double x0 = CX - R_OUT, y0 = CY - R_OUT, side = 2 * R_OUT + 1;
    double ref[400], m = 0, mx = 0, my = 0;
    for (int Y = 0; Y < 20; Y++)
        for (int X = 0; X < 20; X++) {
            int hits = 0;
            for (int sy = 0; sy < 32; sy++)
                for (int sx = 0; sx < 32; sx++)
                    hits += in_ring((int)floor(x0 + (X + (sx + 0.5) / 32) * side / 20),
                                    (int)floor(y0 + (Y + (sy + 0.5) / 32) * side / 20));
            ref[Y * 20 + X] = 255.0 * hits / 1024;
            m += ref[Y * 20 + X], mx += ref[Y * 20 + X] * X, my += ref[Y * 20 + X] * Y;
        }
    const int dx = (int)lround(14 - mx / m), dy = (int)lround(14 - my / m);
    double worst = 0;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            const int X = x - dx, Y = y - dy;
            const double want = X >= 0 && X < 20 && Y >= 0 && Y < 20 ? ref[Y * 20 + X] : 0;
            worst = fmax(worst, fabs(img[y * 28 + x] - want));
        }
    if (worst > 16) fail_msg("pixels differ from the supersampled ring by up to %.1f", worst);
    print_message("ring at (90, 190) of 280 x 280: box %dx%d, centre of mass (%.2f, %.2f), max difference to the "
                  "supersampled reference %.1f of 255\n", bw, bh, cx, cy, worst);

    /* the same digit in other clothes: light-on-dark, colours, 16 bits, alpha */
    struct {
        const char *what;
        png_uint_32 format;
        uint8_t ink[4], paper[4];
        int tol;
    } variants[] = {
        {"light-on-dark grey", PNG_FORMAT_GRAY, {255}, {0}, 0},
        {"dark blue on yellow", PNG_FORMAT_RGB, {20, 30, 140}, {250, 240, 120}, 2},
        {"white on red", PNG_FORMAT_RGB, {255, 255, 255}, {200, 20, 20}, 2},
        {"16-bit grey", PNG_FORMAT_LINEAR_Y, {0}, {255}, 2},
        {"opaque black on transparent", PNG_FORMAT_RGBA, {0, 0, 0, 255}, {0, 0, 0, 0}, 0},
        {"opaque white on transparent", PNG_FORMAT_GA, {255, 255}, {255, 0}, 0},
        {"black on opaque white, with alpha", PNG_FORMAT_GA, {0, 255}, {255, 255}, 0},
    };
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        uint8_t other[784];
        png = ring_png(variants[v].format, variants[v].ink, variants[v].paper, &n);
        prepare_ok(png, n, other);
        free(png);
        const int d = max_diff(img, other);
        if (d > variants[v].tol)
            fail_msg("%s: differs from black-on-white by up to %d (allowed %d)", variants[v].what, d, variants[v].tol);
    }
}

/* A 100 x 50 bar becomes 20 x 10 of full ink; a tall thin stroke stays thin. */
static void test_aspect_kept(void **state) {
    (void)state;
    static uint8_t pix[S * S];
    memset(pix, 255, sizeof pix);
    for (int y = 200; y < 250; y++)
        for (int x = 150; x < 250; x++) pix[y * S + x] = 0;
    size_t n;
    uint8_t *png = png_encode_format(pix, S, S, PNG_FORMAT_GRAY, &n), img[784];
    prepare_ok(png, n, img);
    free(png);
    int bw, bh, full = 0;
    double cx, cy;
    box_and_mass(img, &bw, &bh, &cx, &cy);
    for (int i = 0; i < 784; i++) full += img[i] == 255;
    assert_int_equal(bw, 20);
    assert_int_equal(bh, 10);
    assert_int_equal(full, 200);
    assert_true(fabs(cx - 14) <= 0.5 && fabs(cy - 14) <= 0.5);
    memset(pix, 0, sizeof pix); /* light-on-dark, 8 x 160: a "1" */
    for (int y = 60; y < 220; y++)
        for (int x = 20; x < 28; x++) pix[y * S + x] = 230;
    png = png_encode_format(pix, S, S, PNG_FORMAT_GRAY, &n);
    prepare_ok(png, n, img);
    free(png);
    box_and_mass(img, &bw, &bh, &cx, &cy);
    assert_int_equal(bh, 20);
    assert_int_equal(bw, 1);
}

static void expect_error(const uint8_t *data, size_t n, const char *want) {
    uint8_t img[784];
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_digit_from_png(data, n, img, err), -1);
    if (!strstr(err, want)) fail_msg("message '%s' lacks '%s'", err, want);
}

static void test_bad_pictures(void **state) {
    (void)state;
    static uint8_t pix[S * S];
    memset(pix, 240, sizeof pix);
    size_t n;
    uint8_t *png = png_encode_format(pix, S, S, PNG_FORMAT_GRAY, &n);
    expect_error(png, n, "no digit found");
    pix[5 * S + 5] = 225; /* a speck too faint to be ink */
    free(png);
    png = png_encode_format(pix, S, S, PNG_FORMAT_GRAY, &n);
    expect_error(png, n, "no digit found");
    expect_error(png, n / 2, "damaged PNG");
    expect_error(png, 20, "damaged PNG");
    expect_error(png, 0, "not a PNG");
    png[n / 2] ^= 0x55; /* inside the compressed data: a CRC error */
    expect_error(png, n, "damaged PNG");
    free(png);
    expect_error((const uint8_t *)"P5\n28 28\n255\n", 14, "not a PNG file");
    /* a header claiming 100000 x 100000 pixels (CRCs right), then an empty IDAT: refused
     * before decoding */
    uint8_t big[45] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                       0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
                       0, 0, 0, 0, 'I', 'D', 'A', 'T'};
    uLong crc = crc32(0, big + 12, 17), crc_idat = crc32(0, big + 37, 4);
    for (int k = 0; k < 4; k++) {
        big[29 + k] = (uint8_t)(crc >> (24 - 8 * k));
        big[41 + k] = (uint8_t)(crc_idat >> (24 - 8 * k));
    }
    expect_error(big, sizeof big, "too large");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_lands_centred),
        cmocka_unit_test(test_aspect_kept),
        cmocka_unit_test(test_bad_pictures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
