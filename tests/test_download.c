/* test_download.c: downloads from a local HTTP server on 127.0.0.1 started by the test (a
 * forked child): good files are accepted; corrupted, truncated and missing ones are rejected
 * and leave nothing behind; a server that is down gives a clear error with the manual hint. */
#include "testutil.h"
#include "gancl/check.h"
#include "gancl/fsutil.h"
#include "gancl/mnist.h"
#include "gancl/sha256.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

typedef struct {
    const char *name; /* served as /<mode>/<name>.gz */
    uint8_t *data;
    size_t len;
} served;

static served files[8];
static int n_files;
static pid_t server_pid;
static int port;

static void send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) return;
        c += w;
        n -= (size_t)w;
    }
}

/* Modes: good (as is), bad (one byte flipped), trunc (connection closed halfway through the
 * announced length), short (a complete response of half the file). */
static void serve(int fd) {
    char req[2048];
    ssize_t r = read(fd, req, sizeof req - 1);
    if (r <= 0) return;
    req[r] = 0;
    char mode[32], name[256];
    const served *f = NULL;
    if (sscanf(req, "GET /%31[^/]/%255[^ .].gz ", mode, name) == 2 &&
        (!strcmp(mode, "good") || !strcmp(mode, "bad") || !strcmp(mode, "trunc") || !strcmp(mode, "short")))
        for (int i = 0; i < n_files; i++)
            if (!strcmp(files[i].name, name)) f = &files[i];
    if (!f) {
        const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send_all(fd, nf, strlen(nf));
        return;
    }
    size_t announce = f->len, body = f->len;
    if (!strcmp(mode, "trunc")) body = f->len / 2;
    if (!strcmp(mode, "short")) announce = body = f->len / 2;
    char head[256];
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n", announce);
    send_all(fd, head, strlen(head));
    if (!strcmp(mode, "bad")) {
        uint8_t *copy = malloc(body);
        memcpy(copy, f->data, body);
        copy[body / 3] ^= 0x40;
        send_all(fd, copy, body);
        free(copy);
    } else {
        send_all(fd, f->data, body);
    }
}

static int listen_on_loopback(int *port_out) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 16), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    *port_out = ntohs(a.sin_port);
    return s;
}

static void start_server(void) {
    int s = listen_on_loopback(&port);
    server_pid = fork();
    assert_true(server_pid >= 0);
    if (server_pid == 0) {
        for (int i = 0; i < 500; i++) { /* bounded: the parent kills it long before */
            int c = accept(s, NULL, NULL);
            if (c < 0) continue;
            serve(c);
            shutdown(c, SHUT_WR);
            close(c);
        }
        _exit(0);
    }
    close(s);
}

static void stop_server(void) {
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
}

static gancl_data_file table[2];
static char sha[2][65];

static void add_file(const char *name, size_t len, unsigned seed) {
    served *f = &files[n_files++];
    f->name = name;
    f->len = len;
    f->data = malloc(len);
    for (size_t i = 0; i < len; i++) f->data[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

static char *url(const char *mode) {
    static char u[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(u[k], sizeof u[k], "http://127.0.0.1:%d/%s/", port, mode);
    return u[k];
}

static int fetch(const char *dir, const char *mode1, const char *mode2, char *err) {
    const char *mirrors[2] = {url(mode1), mode2 ? url(mode2) : NULL};
    return gancl_fetch(dir, mirrors, mode2 ? 2 : 1, table, 2, 0, err);
}

static void assert_file_is(const char *dir, const served *f) {
    char p[1024];
    uint8_t *d;
    size_t n;
    char err[GANCL_ERR_LEN];
    snprintf(p, sizeof p, "%s/%s.gz", dir, f->name);
    assert_int_equal(gancl_read_file(p, &d, &n, err), 0);
    assert_int_equal(n, f->len);
    assert_memory_equal(d, f->data, n);
    free(d);
}

#ifdef GANCL_HAVE_CURL
static void test_good(void **state) {
    (void)state;
    char dir[512], err[GANCL_ERR_LEN];
    make_temp_dir(dir, sizeof dir);
    assert_int_equal(fetch(dir, "good", NULL, err), 0);
    assert_int_equal(count_entries(dir), 2);
    assert_file_is(dir, &files[0]);
    assert_file_is(dir, &files[1]);
    remove_tree(dir);
}

static void test_rejected_and_not_left_behind(void **state) {
    (void)state;
    const char *modes[] = {"bad", "trunc", "short", "missing"};
    for (int m = 0; m < 4; m++) {
        char dir[512], err[GANCL_ERR_LEN] = "";
        make_temp_dir(dir, sizeof dir);
        assert_int_equal(fetch(dir, modes[m], NULL, err), -1);
        if (!strstr(err, "could not download alpha-idx1-ubyte.gz") || !strstr(err, "hint:"))
            fail_msg("mode %s: %s", modes[m], err);
        if (m == 0 || m == 2) assert_non_null(strstr(err, "checksum mismatch"));
        assert_int_equal(count_entries(dir), 0); /* no partial or temporary file */
        remove_tree(dir);
    }
}

static void test_falls_back_to_next_mirror(void **state) {
    (void)state;
    char dir[512], err[GANCL_ERR_LEN];
    make_temp_dir(dir, sizeof dir);
    assert_int_equal(fetch(dir, "bad", "good", err), 0);
    assert_file_is(dir, &files[0]);
    assert_file_is(dir, &files[1]);
    assert_int_equal(count_entries(dir), 2);
    remove_tree(dir);
}

static void test_server_down(void **state) {
    (void)state;
    int dead_port;
    close(listen_on_loopback(&dead_port)); /* a port nobody listens on any more */
    char dir[512], err[GANCL_ERR_LEN], u[128];
    make_temp_dir(dir, sizeof dir);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", dead_port);
    const char *mirrors[1] = {u};
    assert_int_equal(gancl_fetch(dir, mirrors, 1, table, 2, 0, err), -1);
    if (!strstr(err, "could not download") || !strstr(err, "place them in"))
        fail_msg("%s", err);
    assert_int_equal(count_entries(dir), 0);
    remove_tree(dir);
}

/* The real files through gancl_data_ensure and the mirror override, then loaded. */
static void test_real_mnist(void **state) {
    (void)state;
    const char *src = getenv("GANCL_MNIST_DIR");
    if (!src || !src[0]) {
        print_message("GANCL_MNIST_DIR is not set: skipping the real-MNIST download\n");
        skip();
    }
    stop_server();
    int base = n_files;
    char err[GANCL_ERR_LEN];
    for (int w = 0; w < GANCL_N_FILES; w++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s.gz", src, GANCL_MNIST_FILES[w].name);
        served *f = &files[n_files++];
        f->name = GANCL_MNIST_FILES[w].name;
        assert_int_equal(gancl_read_file(p, &f->data, &f->len, err), 0);
    }
    start_server();
    char dir[512];
    make_temp_dir(dir, sizeof dir);
    setenv("GANCL_MNIST_MIRROR", url("good"), 1);
    assert_int_equal(gancl_data_ensure(dir, NULL, 0, 0, err), 0);
    for (int w = 0; w < GANCL_N_FILES; w++) assert_file_is(dir, &files[base + w]);
    gancl_dataset ds;
    assert_int_equal(gancl_dataset_load(dir, 1, &ds, err), 0);
    assert_int_equal(ds.images.count, 60000);
    gancl_dataset_free(&ds);
    remove_tree(dir);

    make_temp_dir(dir, sizeof dir); /* --mirror pointing at corrupt copies: nothing accepted */
    assert_int_equal(gancl_data_ensure(dir, url("bad"), 0, 0, err), -1);
    assert_int_equal(count_entries(dir), 0);
    unsetenv("GANCL_MNIST_MIRROR");
    remove_tree(dir);
}
#else
static void test_without_curl(void **state) {
    (void)state;
    char dir[512], err[GANCL_ERR_LEN];
    make_temp_dir(dir, sizeof dir);
    assert_int_equal(fetch(dir, "good", NULL, err), -1);
    assert_non_null(strstr(err, "without libcurl"));
    remove_tree(dir);
}
#endif

static void test_offline(void **state) {
    (void)state;
    char dir[512], err[GANCL_ERR_LEN];
    make_temp_dir(dir, sizeof dir);
    assert_int_equal(gancl_data_ensure(dir, NULL, 1, 0, err), -1);
    assert_non_null(strstr(err, "--offline"));
    assert_int_equal(count_entries(dir), 0);
    remove_tree(dir);
}

static int setup(void **state) {
    (void)state;
    add_file("alpha-idx1-ubyte", 70001, 1);
    add_file("beta-idx3-ubyte", 3000, 2);
    for (int i = 0; i < 2; i++) {
        gancl_sha256_hex(files[i].data, files[i].len, sha[i]);
        table[i].name = files[i].name;
        table[i].sha256_gz = sha[i];
        table[i].sha256_raw = sha[i];
    }
    signal(SIGPIPE, SIG_IGN);
    start_server();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    stop_server();
    for (int i = 0; i < n_files; i++) free(files[i].data);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
#ifdef GANCL_HAVE_CURL
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_rejected_and_not_left_behind),
        cmocka_unit_test(test_falls_back_to_next_mirror),
        cmocka_unit_test(test_server_down),
        cmocka_unit_test(test_real_mnist),
#else
        cmocka_unit_test(test_without_curl),
#endif
        cmocka_unit_test(test_offline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
