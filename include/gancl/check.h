/* check.h: error checking for OpenCL and CLBlast calls, and the fatal-error path.
 * CL_CHECK(expr) / CLBLAST_CHECK(expr) print the expression, the error's name, a hint and
 * file:line, then exit(1). Use them for calls that must not fail once a device is set up. */
#ifndef GANCL_CHECK_H
#define GANCL_CHECK_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

/* Size of the error-message buffers that fallible gancl_ functions fill (char err[GANCL_ERR_LEN]). */
#define GANCL_ERR_LEN 1024

/* The symbolic name of an OpenCL status code ("CL_OUT_OF_RESOURCES"), or "CL_UNKNOWN_ERROR". */
const char *gancl_cl_error_name(cl_int code);
/* The name of a CLBlast status code; OpenCL-compatible codes map to their CL_ names. */
const char *gancl_clblast_error_name(int code);
/* A one-line suggestion for the user, or "" when there is nothing useful to say. */
const char *gancl_cl_error_hint(cl_int code);

_Noreturn void gancl_cl_fail(const char *expr, cl_int code, const char *file, int line);
_Noreturn void gancl_clblast_fail(const char *expr, int code, const char *file, int line);
/* printf-style fatal error: prints "gan-cl: error: ..." and exits with status 1. */
_Noreturn void gancl_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CL_CHECK(expr)                                                     \
    do {                                                                   \
        cl_int gancl_rc_ = (expr);                                         \
        if (gancl_rc_ != CL_SUCCESS)                                       \
            gancl_cl_fail(#expr, gancl_rc_, __FILE__, __LINE__);           \
    } while (0)

#define CLBLAST_CHECK(expr)                                                \
    do {                                                                   \
        int gancl_rc_ = (int)(expr);                                       \
        if (gancl_rc_ != 0)                                                \
            gancl_clblast_fail(#expr, gancl_rc_, __FILE__, __LINE__);      \
    } while (0)

#endif
