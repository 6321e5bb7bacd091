/* json.h: a small strict JSON reader (for safetensors headers and tuning files) and a string
 * writer with escaping. Depth is limited; every malformed input is an error, never a crash. */
#ifndef GANCL_JSON_H
#define GANCL_JSON_H

#include <stddef.h>
#include <stdio.h>

typedef enum { GANCL_JSON_NULL, GANCL_JSON_BOOL, GANCL_JSON_NUMBER, GANCL_JSON_STRING,
               GANCL_JSON_ARRAY, GANCL_JSON_OBJECT } gancl_json_type;

typedef struct gancl_json {
    gancl_json_type type;
    double number;          /* NUMBER (and BOOL as 0/1) */
    int is_integer;         /* NUMBER written without fraction or exponent */
    long long integer;      /* its value when is_integer */
    char *string;           /* STRING */
    struct gancl_json *items; /* ARRAY elements or OBJECT values */
    char **keys;            /* OBJECT keys */
    int n;
} gancl_json;

/* Parses exactly one value (surrounding white space allowed); -1 with err on any error. */
int gancl_json_parse(const char *text, size_t len, gancl_json *out, char *err);
void gancl_json_free(gancl_json *v);
/* The value of `key` in an object, or NULL. */
const gancl_json *gancl_json_get(const gancl_json *obj, const char *key);
/* Writes s as a JSON string literal (with quotes). */
void gancl_json_write_string(FILE *f, const char *s);

#endif
