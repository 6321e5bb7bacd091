/* test_cli.c: the gan-cl binary as a user runs it: help and version, device listing and
 * selection, and bad input (flags, devices, data) giving a message and a non-zero exit. */
#include "testutil.h"


static void test_help_and_version(void **state) {
    (void)state;
    assert_int_equal(run_gan(NULL, "--help", NULL), 0);
    const char *flags[] = {"--list-devices", "--self-test", "--device", "--gemm", "--data",
                           "--mirror", "--offline", "--quiet", "--version", "--help", "download",
                           "generate", "--epochs", "--steps", "--batch-size", "--latent-dim",
                           "--lr", "--beta1", "--beta2", "--seed", "--out", "--sample-every",
                           "--checkpoint-every", "--log-every", "--resume", "--checkpoint",
                           "--count", "--format"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) EXPECT(flags[i]);
    assert_int_equal(run_gan(NULL, "--version", NULL), 0);
    EXPECT("gan-cl " GANCL_VERSION);
    EXPECT("zlib");
    EXPECT("OpenCL platform:");
}

static void test_bad_flags(void **state) {
    (void)state;
    assert_int_equal(run_gan(NULL, "--bogus", NULL), 2);
    EXPECT("unknown option '--bogus'");
    EXPECT("hint:");
    assert_int_equal(run_gan(NULL, "--gemm", "fast", NULL), 2);
    EXPECT("expected auto, clblast, matmul or a kernel listed in --help");
    assert_int_equal(run_gan(NULL, "--device", NULL), 2);
    EXPECT("needs a value");
    assert_int_equal(run_gan(NULL, "--data=", NULL), 2);
    assert_int_equal(run_gan(NULL, "frobnicate", NULL), 2);
    EXPECT("unexpected argument 'frobnicate'");
    assert_int_equal(run_gan(NULL, "--list-devices", "generate", NULL), 2);
    EXPECT("cannot be combined");
}

static void test_devices(void **state) {
    (void)state;
    assert_int_equal(run_gan(NULL, "--list-devices", NULL), 0);
    EXPECT("[0] ");
    EXPECT("compute units");
    EXPECT("* = default device");
    /* --device by part of the name, in another case: the first 4 characters of device 0's */
    char part[5] = {0};
    const char *name = strstr(gan_out, "[0] ") + 4;
    for (int i = 0; i < 4 && name[i] && name[i] != ' '; i++)
        part[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    assert_int_equal(run_gan(NULL, "--self-test", "--device", part, NULL), 0);
    EXPECT("self-test on");
    EXPECT("checks passed");
    assert_int_equal(run_gan(NULL, "--self-test", "--device", "99", NULL), 1);
    EXPECT("--device 99: no such device");
    EXPECT("available devices:");
    assert_int_equal(run_gan(NULL, "--self-test", "--device", "no-such-gpu-name", NULL), 1);
    EXPECT("no device name contains \"no-such-gpu-name\"");
    EXPECT("[0] ");
}

static void test_no_platform(void **state) {
    (void)state;
    char dir[512], env_v[600];
    make_temp_dir(dir, sizeof dir); /* an ICD directory with no drivers in it */
    snprintf(env_v, sizeof env_v, "OCL_ICD_VENDORS=%s", dir);
    char *env[] = {env_v, NULL};
    assert_int_equal(run_gan(env, "--list-devices", NULL), 1);
    EXPECT("no OpenCL device found");
    EXPECT("pocl-opencl-icd");
    assert_int_equal(run_gan(env, "--self-test", NULL), 1);
    EXPECT("no OpenCL device found");
    remove_tree(dir);
}

static void test_data_errors(void **state) {
    (void)state;
    char dir[512], p[600];
    make_temp_dir(dir, sizeof dir);
    assert_int_equal(run_gan(NULL, "download", "--offline", "--data", dir, NULL), 1);
    EXPECT("--offline");
    EXPECT("missing");
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    write_bytes(p, "\x1f\x8bnot really gzip", 17);
    assert_int_equal(run_gan(NULL, "download", "--offline", "--data", dir, NULL), 1);
    EXPECT("INVALID");
    EXPECT("corrupt gzip data");
    remove_tree(dir);

    const char *real = getenv("GANCL_MNIST_DIR");
    if (real && real[0]) {
        assert_int_equal(run_gan(NULL, "download", "--offline", "--data", (char *)real, NULL), 0);
        EXPECT("60000 images, checksum OK (official MNIST)");
        EXPECT(" 10000 labels, checksum OK");
    } else {
        print_message("GANCL_MNIST_DIR is not set: skipping `download` on the real files\n");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_no_platform),
        cmocka_unit_test(test_data_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
