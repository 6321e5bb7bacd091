/* testutil.h: small helpers shared by the test programs (temporary directories, files,
 * running a command and capturing its output). Header-only; each test includes it once. */
#ifndef GANCL_TESTUTIL_H
#define GANCL_TESTUTIL_H

#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

/* A fresh directory under $TMPDIR (or /tmp); the path is static storage per call site. */
static inline void make_temp_dir(char *out, size_t len) {
    const char *base = getenv("TMPDIR");
    snprintf(out, len, "%s/gancl-test-XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(out));
}

static inline void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Number of directory entries other than . and .. */
static inline int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static inline void remove_tree(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Runs argv (NULL-terminated) with extra environment assignments "K=V" (NULL-terminated);
 * returns the exit status and puts stdout+stderr (truncated) into out. */
static inline int run_capture(char *const argv[], char *const env[], char *out, size_t outlen) {
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        for (int i = 0; env && env[i]; i++) putenv(env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t len = 0;
    char buf[4096];
    for (ssize_t r; (r = read(pipefd[0], buf, sizeof buf)) > 0;) {
        size_t take = (size_t)r < outlen - 1 - len ? (size_t)r : outlen - 1 - len;
        memcpy(out + len, buf, take);
        len += take;
    }
    out[len] = 0;
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
