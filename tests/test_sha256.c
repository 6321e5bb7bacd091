/* test_sha256.c: SHA-256 against the FIPS 180-4 / NIST example vectors. */
#include "testutil.h"
#include "gancl/sha256.h"

static void check(const char *msg, const char *expect) {
    char hex[65];
    gancl_sha256_hex(msg, strlen(msg), hex);
    assert_string_equal(hex, expect);
}

static void test_vectors(void **state) {
    (void)state;
    check("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a_in_odd_chunks(void **state) {
    (void)state;
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    gancl_sha256 s;
    gancl_sha256_init(&s);
    size_t done = 0, step = 1;
    while (done < 1000000) { /* chunk sizes 1, 2, ..., crossing block boundaries everywhere */
        size_t n = step < 1000000 - done ? step : 1000000 - done;
        gancl_sha256_update(&s, a + done, n);
        done += n;
        step = step % 200 + 1;
    }
    uint8_t d[32];
    char hex[65];
    gancl_sha256_final(&s, d);
    gancl_hex(d, 32, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a_in_odd_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
