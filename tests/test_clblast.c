/* test_clblast.c: the self-test's check of CLBlast's indirect GEMM kernel ("gemm clblast,
 * indirect kernel") against the bug it is there for. CLBlast 1.5.3's Xgemm computes wrong
 * results with GEMMK = 1 and MWG != NWG (CLBlast PR 543, fixed in 1.6.3). With Xgemm's
 * parameters overridden to such a set the check must fail, and with the same set at MWG == NWG
 * (GEMMK = 1 itself is fine) it must pass; with CLBlast 1.6.3 or later both pass. Its own
 * program: CLBlast's overrides last for the rest of the process. */
#include "gancl/device.h"
#include "gancl/gemm.h"
#include "gancl/selftest.h"
#include "testutil.h"

#include <clblast_c.h>

static gancl_device_info device;
static gancl_runtime rt;
static char cache_root[512];

static const gancl_check *indirect_check(void) {
    for (int i = 0; i < GANCL_N_CHECKS; i++)
        if (strstr(GANCL_CHECKS[i].name, "clblast, indirect")) return &GANCL_CHECKS[i];
    fail_msg("the self-test has no check of CLBlast's indirect kernel");
    return NULL;
}

/* Xgemm's parameters: GEMMK = 1 (the kernel with 2D register tiling), MWG x NWG tiles */
static void override_gemmk1(size_t mwg, size_t nwg) {
    static const char *names[16] = {"GEMMK", "KREG", "KWG",  "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                    "NDIMC", "NWG",  "SA",   "SB",  "STRM",  "STRN",  "VWM", "VWN"};
    const size_t values[16] = {1, 4, 1, 1, 8, 8, mwg, 8, 8, nwg, 0, 0, 0, 0, 2, 4};
    assert_int_equal(CLBlastOverrideParameters(device.id, "Xgemm", CLBlastPrecisionSingle, 16, names, values), 0);
}

/* whether the CLBlast this was built with has the fix (1.6.3 or later) */
static int clblast_fixed(void) {
    int major = 0, minor = 0, patch = 0;
    sscanf(GANCL_CLBLAST_VERSION, "%d.%d.%d", &major, &minor, &patch);
    return major > 1 || (major == 1 && (minor > 6 || (minor == 6 && patch >= 3)));
}

static void test_indirect_check_catches_gemmk1_bug(void **state) {
    (void)state;
    const gancl_check *c = indirect_check();
    double err = gancl_check_run(c, &rt);
    print_message("CLBlast %s, the device's own parameters: max error %.3e\n", GANCL_CLBLAST_VERSION, err);
    assert_true(err <= c->tol);
    override_gemmk1(64, 32);
    err = gancl_check_run(c, &rt);
    print_message("GEMMK 1, MWG 64, NWG 32: max error %.3e\n", err);
    if (clblast_fixed()) assert_true(err <= c->tol);
    else assert_true(!(err <= c->tol)); /* NaN and infinity count as caught */
    /* after it (so that the override is seen to take effect each time), square tiles */
    override_gemmk1(32, 32);
    err = gancl_check_run(c, &rt);
    print_message("GEMMK 1, MWG 32, NWG 32: max error %.3e\n", err);
    assert_true(err <= c->tol);
}

FRESH_RUNTIME_GROUP(rt, device, cache_root)

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_indirect_check_catches_gemmk1_bug)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
