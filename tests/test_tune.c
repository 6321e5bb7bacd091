/* test_tune.c: GEMM tuning: a real tune run whose choice is applied and checked against the C
 * reference; damaged or foreign tuning files rejected (and deleted); an interrupted run resumed. */
#include "gancl/device.h"
#include "gancl/fsutil.h"
#include "gancl/selftest.h"
#include "gancl/tune.h"
#include "testutil.h"

static gancl_device_info device;
static gancl_runtime rt;
static char cache_root[512], path[4096];

static gancl_tuning_status apply(char *msg) { return gancl_tuning_apply(&rt, msg, GANCL_ERR_LEN); }

static void test_tune_apply_and_reject(void **state) {
    (void)state;
    char msg[GANCL_ERR_LEN];
    assert_int_equal(gancl_tuning_path(&rt, path, sizeof path), 0);
    assert_int_equal(apply(msg), GANCL_TUNING_NONE);

    /* an interrupted run: only CLBlast's default measured, nothing chosen yet */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/gan-cl/tuning", cache_root);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    char partial[1024];
    snprintf(partial, sizeof partial,
             "{\"format\": \"gan-cl-tuning\", \"version\": 1, \"device\": \"%s\", \"driver\": \"%s\", "
             "\"measured\": {\"default\": 7.5}}", rt.dev.name, rt.dev.driver_version);
    write_bytes(path, partial, strlen(partial));
    assert_int_equal(apply(msg), GANCL_TUNING_NONE);

    FILE *out = tmpfile();
    assert_int_equal(gancl_tune(&rt, 16, out), 0);
    rewind(out);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = 0;
    fclose(out);
    print_message("%s", text);
    if (!strstr(text, "resuming: 1 of") || !strstr(text, "(measured before)") || !strstr(text, "best: "))
        fail_msg("unexpected tune output:\n%s", text);

    assert_int_equal(apply(msg), GANCL_TUNING_APPLIED);
    print_message("%s\n", msg);
    for (int ta = 0; ta < 2; ta++) /* the tuned path, checked again here */
        for (int tb = 0; tb < 2; tb++) assert_true(gancl_check_gemm(&rt, GANCL_GEMM_CLBLAST, ta, tb) <= 1e-4);

    uint8_t *good;
    size_t good_n;
    char err[GANCL_ERR_LEN];
    assert_int_equal(gancl_read_file(path, &good, &good_n, err), 0);
    char bad[4][1024];
    snprintf(bad[0], sizeof bad[0], "this is not JSON");
    snprintf(bad[1], sizeof bad[1], "{\"format\": \"gan-cl-tuning\", \"version\": 1, \"device\": \"another GPU\", "
             "\"driver\": \"%s\", \"measured\": {\"default\": 7.5}, \"best\": \"default\"}", rt.dev.driver_version);
    snprintf(bad[2], sizeof bad[2], "{\"format\": \"gan-cl-tuning\", \"version\": 1, \"device\": \"%s\", "
             "\"driver\": \"%s\", \"measured\": {\"default\": 7.5}, \"best\": \"no-such-set\"}", rt.dev.name,
             rt.dev.driver_version);
    snprintf(bad[3], sizeof bad[3], "%.*s", (int)(good_n / 2), (const char *)good); /* truncated */
    for (int i = 0; i < 4; i++) {
        write_bytes(path, bad[i], strlen(bad[i]));
        assert_int_equal(apply(msg), GANCL_TUNING_REJECTED);
        assert_non_null(strstr(msg, "rejected"));
        assert_false(gancl_file_exists(path)); /* deleted, so the next tune rebuilds it */
        assert_int_equal(apply(msg), GANCL_TUNING_NONE);
    }
    free(good);
}

static int setup(void **state) {
    (void)state;
    return open_test_runtime_fresh_cache(&rt, &device, cache_root, sizeof cache_root);
}

static int teardown(void **state) {
    (void)state;
    close_test_runtime_fresh_cache(&rt, cache_root);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tune_apply_and_reject),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
