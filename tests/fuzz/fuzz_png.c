/* fuzz_png.c: the picture reader of `gan-cl classify` on arbitrary bytes: libpng's decoding,
 * then the preparation as an MNIST image (ink map, crop, 20 x 20 fit, centring). An accepted
 * picture gives a readable 28 x 28 image; a refused one always says why. */
#include "gancl/digit.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t img[784];
    char err[GANCL_ERR_LEN];
    err[0] = 0;
    if (gancl_digit_from_png(data, size, img, err) == 0) {
        unsigned ink = 0;
        for (int i = 0; i < 784; i++) ink += img[i];
        if (ink == 0) abort(); /* a digit was found, so some ink lands in the frame */
    } else if (!err[0]) {
        abort();
    }
    return 0;
}
