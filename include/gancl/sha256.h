/* sha256.h: SHA-256 (FIPS 180-4), used to verify downloads and to key the kernel cache. */
#ifndef GANCL_SHA256_H
#define GANCL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t block[64]; /* pending partial block */
} gancl_sha256;

void gancl_sha256_init(gancl_sha256 *s);
void gancl_sha256_update(gancl_sha256 *s, const void *data, size_t n);
void gancl_sha256_final(gancl_sha256 *s, uint8_t digest[32]);
/* One-shot digest as 64 lowercase hex characters plus NUL. */
void gancl_sha256_hex(const void *data, size_t n, char hex[65]);
void gancl_hex(const uint8_t *bytes, size_t n, char *out);

#endif
