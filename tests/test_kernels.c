/* test_kernels.c: every device check of the self-test (kernel vs C reference) as its own test,
 * and the on-disk program cache: miss, hit, corrupt and stale entries rebuilt. */
#include "gancl/device.h"
#include "gancl/gemm.h"
#include "gancl/program.h"
#include "gancl/selftest.h"
#include "testutil.h"

static gancl_device_info device;
static gancl_runtime rt;
static char cache_root[512];

static void run_check(void **state) {
    const gancl_check *c = *state;
    double err = gancl_check_run(c, &rt);
    print_message("%-28s max error %.3e (tol %.0e)\n", c->name, err, c->tol);
    assert_true(err <= c->tol);
}

static gancl_cache_status build_status(void) {
    gancl_runtime r;
    gancl_runtime_init(&r, &device, GANCL_GEMM_MATMUL);
    gancl_cache_status s = r.cache_status;
    /* whatever path the program took, it must compute correctly */
    assert_true(gancl_check_run(&GANCL_CHECKS[4], &r) <= GANCL_CHECKS[4].tol);
    gancl_runtime_free(&r);
    return s;
}

static void rewrite_entry(void (*mutate)(uint8_t *buf, size_t *n)) {
    FILE *f = fopen(rt.cache_path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(64 << 20);
    size_t n = fread(buf, 1, 64 << 20, f);
    fclose(f);
    mutate(buf, &n);
    write_bytes(rt.cache_path, buf, n);
    free(buf);
}

static void flip_binary_byte(uint8_t *b, size_t *n) { b[*n / 2] ^= 0xff; }
static void truncate_entry(uint8_t *b, size_t *n) { (void)b; *n = *n / 3; }
static void change_key(uint8_t *b, size_t *n) { (void)n; b[12] ^= 1; }    /* a stale key */
static void change_version(uint8_t *b, size_t *n) { (void)n; b[8] ^= 7; } /* format version */
static void empty_entry(uint8_t *b, size_t *n) { (void)b; *n = 0; }

static void test_program_cache(void **state) {
    (void)state;
    /* setup built the program once into an empty cache: that was a miss */
    assert_int_equal(rt.cache_status, GANCL_CACHE_MISS);
    assert_true(strncmp(rt.cache_path, cache_root, strlen(cache_root)) == 0);
    assert_int_equal(build_status(), GANCL_CACHE_HIT);
    void (*mutations[])(uint8_t *, size_t *) = {flip_binary_byte, truncate_entry, change_key,
                                                 change_version, empty_entry};
    for (size_t i = 0; i < sizeof mutations / sizeof *mutations; i++) {
        rewrite_entry(mutations[i]);
        assert_int_equal(build_status(), GANCL_CACHE_REBUILT);
        assert_int_equal(build_status(), GANCL_CACHE_HIT); /* and the entry was replaced */
    }
}

static void test_kernel_lookup(void **state) {
    (void)state;
    assert_non_null(gancl_kernel(&rt, "matmul"));
    assert_true(rt.n_kernels >= 1);
}

FRESH_RUNTIME_GROUP(rt, device, cache_root)

int main(void) {
    struct CMUnitTest *tests = calloc((size_t)GANCL_N_CHECKS + 2, sizeof *tests);
    assert_non_null(tests);
    int n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_program_cache);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_kernel_lookup);
    for (int i = 0; i < GANCL_N_CHECKS; i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(run_check, (void *)&GANCL_CHECKS[i]);
        tests[n].name = GANCL_CHECKS[i].name;
        n++;
    }
    const int failed = _cmocka_run_group_tests("kernels", tests, (size_t)n, setup, teardown);
    free(tests);
    return failed;
}
