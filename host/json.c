/* json.c: a recursive-descent JSON parser with a depth limit, and string escaping. */
#include "gancl/json.h"
#include "gancl/check.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

typedef struct {
    const char *p, *end;
    char *err;
} reader;

static int fail(reader *r, const char *what) {
    snprintf(r->err, GANCL_ERR_LEN, "%s", what); /* gancl_json_parse adds the position */
    return -1;
}

static void ws(reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int parse_value(reader *r, gancl_json *v, int depth);

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_string(reader *r, char **out) {
    r->p++; /* opening quote */
    size_t cap = 16, len = 0;
    char *s = malloc(cap);
    if (!s) return fail(r, "out of memory");
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p++;
        unsigned code = c;
        if (c < 0x20) {
            free(s);
            return fail(r, "control character in string");
        }
        if (c == '\\') {
            if (r->p >= r->end) break;
            char e = *r->p++;
            switch (e) {
            case '"': code = '"'; break;
            case '\\': code = '\\'; break;
            case '/': code = '/'; break;
            case 'b': code = '\b'; break;
            case 'f': code = '\f'; break;
            case 'n': code = '\n'; break;
            case 'r': code = '\r'; break;
            case 't': code = '\t'; break;
            case 'u':
                code = 0;
                for (int i = 0; i < 4; i++) {
                    int h = r->p < r->end ? hexval(*r->p++) : -1;
                    if (h < 0) {
                        free(s);
                        return fail(r, "bad \\u escape");
                    }
                    code = code * 16 + (unsigned)h;
                }
                break;
            default:
                free(s);
                return fail(r, "bad escape");
            }
        }
        char buf[4];
        int n = 0;
        if (c == '\\' && code >= 0x80) { /* \u escape: encode as UTF-8 (BMP only) */
            if (code < 0x800) {
                buf[n++] = (char)(0xC0 | (code >> 6));
            } else {
                buf[n++] = (char)(0xE0 | (code >> 12));
                buf[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
            }
            buf[n++] = (char)(0x80 | (code & 0x3F));
        } else {
            buf[n++] = (char)code;
        }
        if (len + (size_t)n + 1 > cap) {
            cap *= 2;
            char *g = realloc(s, cap);
            if (!g) {
                free(s);
                return fail(r, "out of memory");
            }
            s = g;
        }
        memcpy(s + len, buf, (size_t)n);
        len += (size_t)n;
    }
    if (r->p >= r->end) {
        free(s);
        return fail(r, "unterminated string");
    }
    r->p++;
    s[len] = 0;
    *out = s;
    return 0;
}

static int parse_number(reader *r, gancl_json *v) {
    const char *start = r->p;
    int integer = 1;
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return fail(r, "bad number");
    while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || strchr(".eE+-", *r->p))) {
        if (strchr(".eE", *r->p)) integer = 0;
        r->p++;
    }
    char buf[64];
    size_t n = (size_t)(r->p - start);
    if (n >= sizeof buf) return fail(r, "number too long");
    memcpy(buf, start, n);
    buf[n] = 0;
    char *endp;
    v->type = GANCL_JSON_NUMBER;
    v->number = strtod(buf, &endp);
    if (*endp) return fail(r, "bad number");
    v->is_integer = integer;
    if (integer) {
        v->integer = strtoll(buf, &endp, 10);
        if (*endp || n > 18) return fail(r, "integer out of range");
    }
    return 0;
}

static int grow(gancl_json *v, int with_keys) {
    gancl_json *items = realloc(v->items, (size_t)(v->n + 1) * sizeof *items);
    if (!items) return -1;
    v->items = items;
    memset(&v->items[v->n], 0, sizeof *items);
    if (with_keys) {
        char **keys = realloc(v->keys, (size_t)(v->n + 1) * sizeof *keys);
        if (!keys) return -1;
        v->keys = keys;
        v->keys[v->n] = NULL;
    }
    v->n++;
    return 0;
}

static int parse_container(reader *r, gancl_json *v, int depth, int object) {
    v->type = object ? GANCL_JSON_OBJECT : GANCL_JSON_ARRAY;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == (object ? '}' : ']')) {
        r->p++;
        return 0;
    }
    for (;;) {
        ws(r);
        if (grow(v, object)) return fail(r, "out of memory");
        if (object) {
            if (r->p >= r->end || *r->p != '"') return fail(r, "expected a key");
            if (parse_string(r, &v->keys[v->n - 1])) return -1;
            ws(r);
            if (r->p >= r->end || *r->p != ':') return fail(r, "expected ':'");
            r->p++;
        }
        if (parse_value(r, &v->items[v->n - 1], depth + 1)) return -1;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == (object ? '}' : ']')) {
            r->p++;
            return 0;
        }
        return fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int literal(reader *r, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n)) return fail(r, "unexpected token");
    r->p += n;
    return 0;
}

static int parse_value(reader *r, gancl_json *v, int depth) {
    memset(v, 0, sizeof *v);
    if (depth > MAX_DEPTH) return fail(r, "nested too deeply");
    ws(r);
    if (r->p >= r->end) return fail(r, "unexpected end");
    switch (*r->p) {
    case '{': return parse_container(r, v, depth, 1);
    case '[': return parse_container(r, v, depth, 0);
    case '"': v->type = GANCL_JSON_STRING; return parse_string(r, &v->string);
    case 't': v->type = GANCL_JSON_BOOL; v->number = 1; return literal(r, "true");
    case 'f': v->type = GANCL_JSON_BOOL; return literal(r, "false");
    case 'n': v->type = GANCL_JSON_NULL; return literal(r, "null");
    default: return parse_number(r, v);
    }
}

int gancl_json_parse(const char *text, size_t len, gancl_json *out, char *err) {
    reader r = {text, text + len, err};
    const char *begin = text;
    if (parse_value(&r, out, 0) == 0) {
        ws(&r);
        if (r.p == r.end) return 0;
        fail(&r, "trailing characters");
    }
    char what[GANCL_ERR_LEN];
    snprintf(what, sizeof what, "%s", err);
    snprintf(err, GANCL_ERR_LEN, "invalid JSON at byte %ld: %s", (long)(r.p - begin), what);
    gancl_json_free(out);
    return -1;
}

void gancl_json_free(gancl_json *v) {
    for (int i = 0; i < v->n; i++) {
        gancl_json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const gancl_json *gancl_json_get(const gancl_json *obj, const char *key) {
    if (!obj || obj->type != GANCL_JSON_OBJECT) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}

void gancl_json_write_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}
