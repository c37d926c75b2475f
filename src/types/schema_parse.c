/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema_parse.c — meru_schema_parse(): a schema from a column list such as
 *   "id int64 not null, name string, price decimal(10,2) default \"0.00\""
 *
 * Grammar (keywords and type names case-insensitive, names kept as given):
 *   columns  := coldef { "," coldef } [ "," ]
 *   coldef   := name type { modifier }
 *   name     := word | JSON string   (word: letters, digits, '_', '$' and
 *                                      any non-ASCII UTF-8; quote others)
 *   type     := typename [ "(" int [ "," int ] ")" ]   ("[L]" for fixed too)
 *   modifier := NOT NULL | NULL | DEFAULT literal
 *   literal  := a JSON scalar: 34, -1.5, true, "text", "2024-01-31", null
 * Primary key columns that carry no explicit NULL/NOT NULL become NOT NULL
 * (as PRIMARY KEY implies NOT NULL in SQL); an explicit NULL on a key column
 * is an error.
 *
 * Errors are MERU_ESCHEMA and say which column (1-based position in the
 * list, and its name once known), what was expected, and the byte offset in
 * the text: "column 3 ('price'): unknown type 'decimel' at offset 38 (did
 * you mean 'decimal'?)". Rules about the values themselves (ranges, default
 * literals) come from meru_schema_add_column_def() with its messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/jtext.h"
#include "types/schema.h"
#include "util/error.h"

typedef struct lexer {
    const char *p;
    size_t n;
    size_t pos;
    int colno;     /* 1-based position of the column being parsed */
    char name[80]; /* its name for messages ("" until known) */
} lexer;

typedef enum tk { TK_END, TK_WORD, TK_QUOTED, TK_PUNCT, TK_OTHER } tk;

typedef struct token {
    tk kind;
    size_t start, len;
} token;

static const struct {
    const char *name;
    meru_type type;
} type_names[] = {
    {"boolean", MERU_TYPE_BOOLEAN},     {"bool", MERU_TYPE_BOOLEAN},
    {"int32", MERU_TYPE_INT32},         {"int", MERU_TYPE_INT32},
    {"int64", MERU_TYPE_INT64},         {"long", MERU_TYPE_INT64},
    {"bigint", MERU_TYPE_INT64},        {"float", MERU_TYPE_FLOAT},
    {"double", MERU_TYPE_DOUBLE},       {"string", MERU_TYPE_STRING},
    {"text", MERU_TYPE_STRING},         {"varchar", MERU_TYPE_STRING},
    {"binary", MERU_TYPE_BINARY},       {"bytes", MERU_TYPE_BINARY},
    {"fixed", MERU_TYPE_FIXED},         {"date", MERU_TYPE_DATE},
    {"timestamp", MERU_TYPE_TIMESTAMP}, {"timestamptz", MERU_TYPE_TIMESTAMPTZ},
    {"decimal", MERU_TYPE_DECIMAL},
};
#define NTYPES (sizeof type_names / sizeof type_names[0])

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

static void skip_ws(lexer *lx)
{
    while (lx->pos < lx->n &&
           (lx->p[lx->pos] == ' ' || lx->p[lx->pos] == '\t' ||
            lx->p[lx->pos] == '\n' || lx->p[lx->pos] == '\r'))
        lx->pos++;
}

/* Looks at the next token without consuming it. Quoted strings are only
 * delimited here (their content is checked when used). */
static token peek(lexer *lx)
{
    skip_ws(lx);
    token t = {TK_END, lx->pos, 0};
    if (lx->pos >= lx->n)
        return t;
    unsigned char c = (unsigned char)lx->p[lx->pos];
    if (is_word_byte(c)) {
        size_t e = lx->pos;
        while (e < lx->n && is_word_byte((unsigned char)lx->p[e]))
            e++;
        t.kind = TK_WORD;
        t.len = e - lx->pos;
    } else if (c == '"') {
        t.kind = TK_QUOTED;
        t.len = 1;
    } else if (c == ',' || c == '(' || c == ')' || c == '[' || c == ']') {
        t.kind = TK_PUNCT;
        t.len = 1;
    } else {
        t.kind = TK_OTHER;
        t.len = 1;
    }
    return t;
}

static int word_is(const lexer *lx, const token *t, const char *w)
{
    size_t n = strlen(w);
    if (t->kind != TK_WORD || t->len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = lx->p[t->start + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != w[i])
            return 0;
    }
    return 1;
}

/* "'xyz'", "','" or "the end of the text", for "found ..." messages. */
static const char *describe(const lexer *lx, const token *t, char *buf,
                            size_t cap)
{
    char m[48];
    if (t->kind == TK_END) {
        snprintf(buf, cap, "the end of the text");
        return buf;
    }
    size_t len = t->len;
    if (t->kind == TK_QUOTED) {
        len = lx->n - t->start;
        if (len > 24)
            len = 24;
    }
    snprintf(buf, cap, "'%s'",
             meru_msg_text(m, sizeof m, lx->p + t->start, len));
    return buf;
}

/* Formats "column N ('name'): " or "column N: " into `buf`. */
static const char *where(const lexer *lx, char *buf, size_t cap)
{
    if (lx->name[0])
        snprintf(buf, cap, "column %d ('%s')", lx->colno, lx->name);
    else
        snprintf(buf, cap, "column %d", lx->colno);
    return buf;
}

static int expect_fail(const lexer *lx, const token *t, const char *what)
{
    char w[128], d[64];
    return meru_err(MERU_ESCHEMA, "%s: expected %s at offset %zu, found %s",
                    where(lx, w, sizeof w), what, t->start,
                    describe(lx, t, d, sizeof d));
}

/* Edit distance, for "did you mean" (short ASCII words only). */
static size_t edit_distance(const char *a, size_t na, const char *b)
{
    size_t nb = strlen(b);
    size_t row[32];
    if (na >= 31 || nb >= 31)
        return 99;
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            char ca = a[i - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca = (char)(ca + 32);
            size_t sub = diag + (ca != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            diag = row[j];
            row[j] =
                sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    }
    return row[nb];
}

/* Reads a name (word or JSON string) into a malloc'd NUL-terminated copy. */
static int read_name(lexer *lx, const char *what, char **out)
{
    token t = peek(lx);
    *out = NULL;
    if (t.kind == TK_WORD) {
        char *s = malloc(t.len + 1);
        if (!s)
            return meru_err(MERU_ENOMEM, "out of memory parsing a schema");
        memcpy(s, lx->p + t.start, t.len);
        s[t.len] = '\0';
        lx->pos = t.start + t.len;
        *out = s;
        return MERU_OK;
    }
    if (t.kind != TK_QUOTED)
        return expect_fail(lx, &t, what);
    meru_jtok jt;
    int rc = meru_json_scan_scalar(lx->p, lx->n, t.start, &jt);
    if (rc) {
        char w[128];
        return meru_err_wrap(MERU_ESCHEMA, "%s: quoted name",
                             where(lx, w, sizeof w));
    }
    meru_buf b = {0};
    rc = meru_json_unescape(lx->p + jt.start + 1, jt.len - 2, &b);
    if (!rc)
        rc = meru_buf_push(&b, 0);
    if (rc) {
        meru_buf_free(&b);
        return rc;
    }
    if (strlen((const char *)b.data) != b.len - 1) {
        char w[128];
        meru_buf_free(&b);
        return meru_err(MERU_ESCHEMA,
                        "%s: name at offset %zu contains a NUL character",
                        where(lx, w, sizeof w), t.start);
    }
    lx->pos = jt.start + jt.len;
    *out = (char *)meru_buf_detach(&b, NULL);
    return MERU_OK;
}

static int read_int(lexer *lx, int32_t *out)
{
    token t = peek(lx);
    if (t.kind != TK_WORD || t.len > 9)
        return expect_fail(lx, &t, "a number");
    int32_t v = 0;
    for (size_t i = 0; i < t.len; i++) {
        char c = lx->p[t.start + i];
        if (c < '0' || c > '9')
            return expect_fail(lx, &t, "a number");
        v = v * 10 + (c - '0');
    }
    lx->pos = t.start + t.len;
    *out = v;
    return MERU_OK;
}

/* Parses the type and its parameters into `def`. */
static int read_type(lexer *lx, meru_column_def *def)
{
    char w[128], m[48];
    token t = peek(lx);
    if (t.kind != TK_WORD)
        return expect_fail(lx, &t, "a type after the column name");
    size_t k;
    for (k = 0; k < NTYPES; k++)
        if (word_is(lx, &t, type_names[k].name))
            break;
    if (k == NTYPES) {
        /* Suggest a type within 1 edit (2 for longer words): close enough
         * to be a typo, far enough not to turn "blob" into "bool". */
        size_t best = NTYPES, bestd = t.len > 4 ? 3 : 2;
        for (size_t j = 0; j < NTYPES; j++) {
            size_t d =
                edit_distance(lx->p + t.start, t.len, type_names[j].name);
            if (d < bestd) {
                bestd = d;
                best = j;
            }
        }
        meru_msg_text(m, sizeof m, lx->p + t.start, t.len);
        if (best < NTYPES)
            return meru_err(MERU_ESCHEMA,
                            "%s: unknown type '%s' at offset %zu (did you mean "
                            "'%s'?)",
                            where(lx, w, sizeof w), m, t.start,
                            type_names[best].name);
        return meru_err(MERU_ESCHEMA,
                        "%s: unknown type '%s' at offset %zu (types: boolean, "
                        "int32, int64, float, double, string, binary, "
                        "fixed(L), date, timestamp, timestamptz, "
                        "decimal(P,S))",
                        where(lx, w, sizeof w), m, t.start);
    }
    def->type = type_names[k].type;
    lx->pos = t.start + t.len;

    int32_t params[2] = {0, 0};
    int np = 0;
    token open = peek(lx);
    if (open.kind == TK_PUNCT &&
        (lx->p[open.start] == '(' || lx->p[open.start] == '[')) {
        char close = lx->p[open.start] == '(' ? ')' : ']';
        lx->pos = open.start + 1;
        for (;;) {
            int rc = read_int(lx, &params[np++]);
            if (rc)
                return rc;
            token sep = peek(lx);
            if (sep.kind == TK_PUNCT && lx->p[sep.start] == close) {
                lx->pos = sep.start + 1;
                break;
            }
            if (np == 2) /* at most (precision, scale) */
                return expect_fail(lx, &sep, close == ')' ? "')'" : "']'");
            if (sep.kind == TK_PUNCT && lx->p[sep.start] == ',') {
                lx->pos = sep.start + 1;
                continue;
            }
            return expect_fail(lx, &sep,
                               close == ')' ? "',' or ')'" : "',' or ']'");
        }
    }
    switch (def->type) {
    case MERU_TYPE_FIXED:
        if (np != 1)
            return meru_err(MERU_ESCHEMA,
                            "%s: type fixed needs a length in bytes, like "
                            "fixed(16) (offset %zu)",
                            where(lx, w, sizeof w), t.start);
        def->fixed_length = params[0];
        break;
    case MERU_TYPE_DECIMAL:
        if (np == 0)
            return meru_err(MERU_ESCHEMA,
                            "%s: type decimal needs a precision and scale, "
                            "like decimal(10,2) (offset %zu)",
                            where(lx, w, sizeof w), t.start);
        def->precision = params[0];
        def->scale = np == 2 ? params[1] : 0;
        break;
    default:
        if (np != 0)
            return meru_err(
                MERU_ESCHEMA, "%s: type '%s' takes no parameters (offset %zu)",
                where(lx, w, sizeof w),
                meru_msg_text(m, sizeof m, lx->p + t.start, t.len), open.start);
        break;
    }
    return MERU_OK;
}

enum { NULL_IMPLICIT = 0, NULL_NOT_NULL = 1, NULL_NULL = 2 };

/* Parses one column definition and adds it. */
static int read_column(lexer *lx, meru_schema *s, uint8_t *explicit_null)
{
    char w[128];
    char *name = NULL, *deflit = NULL;
    meru_column_def def = MERU_COLUMN_DEF_INIT;
    int nullmode = NULL_IMPLICIT, have_default = 0;
    lx->name[0] = '\0';
    int rc = read_name(lx, "a column name", &name);
    if (rc)
        goto done;
    meru_msg_text(lx->name, sizeof lx->name, name, strlen(name));
    def.name = name;
    rc = read_type(lx, &def);
    if (rc)
        goto done;
    for (;;) {
        token t = peek(lx);
        if (t.kind == TK_END || (t.kind == TK_PUNCT && lx->p[t.start] == ','))
            break;
        if (word_is(lx, &t, "not") || word_is(lx, &t, "null")) {
            int want = word_is(lx, &t, "not") ? NULL_NOT_NULL : NULL_NULL;
            lx->pos = t.start + t.len;
            if (want == NULL_NOT_NULL) {
                token t2 = peek(lx);
                if (!word_is(lx, &t2, "null")) {
                    rc = expect_fail(lx, &t2, "NULL after NOT");
                    goto done;
                }
                lx->pos = t2.start + t2.len;
            }
            if (nullmode != NULL_IMPLICIT) {
                rc = meru_err(MERU_ESCHEMA,
                              "%s: nullability given twice (offset %zu)",
                              where(lx, w, sizeof w), t.start);
                goto done;
            }
            nullmode = want;
            continue;
        }
        if (word_is(lx, &t, "default")) {
            if (have_default) {
                rc = meru_err(MERU_ESCHEMA,
                              "%s: DEFAULT given twice (offset %zu)",
                              where(lx, w, sizeof w), t.start);
                goto done;
            }
            lx->pos = t.start + t.len;
            skip_ws(lx);
            meru_jtok jt;
            if (lx->pos < lx->n && lx->p[lx->pos] == '\'') {
                rc = meru_err(MERU_ESCHEMA,
                              "%s: default at offset %zu: string literals use "
                              "double quotes (\"text\"), not single quotes",
                              where(lx, w, sizeof w), lx->pos);
                goto done;
            }
            rc = meru_json_scan_scalar(lx->p, lx->n, lx->pos, &jt);
            if (rc) {
                rc = meru_err_wrap(MERU_ESCHEMA, "%s: default",
                                   where(lx, w, sizeof w));
                goto done;
            }
            deflit = malloc(jt.len + 1);
            if (!deflit) {
                rc = meru_err(MERU_ENOMEM, "out of memory parsing a schema");
                goto done;
            }
            memcpy(deflit, lx->p + jt.start, jt.len);
            deflit[jt.len] = '\0';
            lx->pos = jt.start + jt.len;
            have_default = 1;
            continue;
        }
        rc = expect_fail(lx, &t, "NOT NULL, NULL, DEFAULT, ',' or the end");
        goto done;
    }
    def.nullable = nullmode != NULL_NOT_NULL;
    def.write_default = deflit;
    rc = meru_schema_add_column_def(s, &def);
    if (!rc)
        explicit_null[s->ncols - 1] = (uint8_t)nullmode;
done:
    free(name);
    free(deflit);
    return rc;
}

static int read_primary_key(meru_schema *s, const char *text,
                            const uint8_t *explicit_null)
{
    lexer lx = {text, strlen(text), 0, 0, ""};
    char *names[MERU_MAX_KEY_COLUMNS + 1];
    size_t n = 0;
    int rc = MERU_OK;
    token t = peek(&lx);
    if (t.kind == TK_END) {
        rc = meru_err(MERU_ESCHEMA, "primary key: no column names given");
        goto done;
    }
    for (;;) {
        char *nm;
        t = peek(&lx);
        if (t.kind != TK_WORD && t.kind != TK_QUOTED) {
            char d[64];
            rc = meru_err(MERU_ESCHEMA,
                          "primary key: expected a column name at offset %zu, "
                          "found %s",
                          t.start, describe(&lx, &t, d, sizeof d));
            goto done;
        }
        rc = read_name(&lx, "a column name", &nm);
        if (rc) {
            rc = meru_err_wrap(rc, "primary key");
            goto done;
        }
        if (n == MERU_MAX_KEY_COLUMNS) {
            free(nm);
            rc = meru_err(MERU_ESCHEMA, "primary key has more than %d columns",
                          MERU_MAX_KEY_COLUMNS);
            goto done;
        }
        names[n++] = nm;
        t = peek(&lx);
        if (t.kind == TK_END)
            break;
        if (t.kind != TK_PUNCT || lx.p[t.start] != ',') {
            char d[64];
            rc = meru_err(MERU_ESCHEMA,
                          "primary key: expected ',' or the end at offset "
                          "%zu, found %s",
                          t.start, describe(&lx, &t, d, sizeof d));
            goto done;
        }
        lx.pos = t.start + 1;
    }
    for (size_t i = 0; i < n; i++) {
        int idx = meru_schema_column_index(s, names[i]);
        if (idx < 0)
            continue; /* meru_schema_set_primary_key() reports it */
        if (explicit_null[idx] == NULL_NULL) {
            char lb[MERU_LABEL_MAX];
            rc = meru_err(MERU_ESCHEMA,
                          "%s is declared NULL but is part of the primary "
                          "key (key columns are NOT NULL)",
                          meru_column_label(&s->cols[idx], lb));
            goto done;
        }
        s->cols[idx].nullable = 0;
    }
    rc = meru_schema_set_primary_key(s, (const char *const *)names, n);
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return rc;
}

int meru_schema_parse(meru_schema **out, const char *table_name,
                      const char *columns, const char *primary_key)
{
    if (!out)
        return meru_err(MERU_EINVAL, "meru_schema_parse: out is NULL");
    *out = NULL;
    if (!table_name || !columns)
        return meru_err(MERU_EINVAL, "meru_schema_parse: NULL argument");
    meru_schema *s = NULL;
    uint8_t *explicit_null = NULL;
    int rc = meru_schema_new(&s, table_name);
    if (rc)
        return rc;
    explicit_null = calloc(MERU_MAX_COLUMNS, 1);
    if (!explicit_null) {
        rc = meru_err(MERU_ENOMEM, "out of memory parsing a schema");
        goto fail;
    }
    lexer lx = {columns, strlen(columns), 0, 0, ""};
    token t = peek(&lx);
    if (t.kind == TK_END) {
        rc = meru_err(MERU_ESCHEMA, "no columns given (expected a list like "
                                    "\"id int64 not null, name string\")");
        goto fail;
    }
    for (;;) {
        lx.colno++;
        rc = read_column(&lx, s, explicit_null);
        if (rc)
            goto fail;
        t = peek(&lx);
        if (t.kind == TK_END)
            break;
        lx.pos = t.start + 1; /* the ',' (read_column stops only there) */
        if (peek(&lx).kind == TK_END)
            break; /* trailing comma */
    }
    if (primary_key) {
        rc = read_primary_key(s, primary_key, explicit_null);
        if (!rc)
            rc = meru_schema_validate(s);
        if (rc)
            goto fail;
    }
    free(explicit_null);
    *out = s;
    return MERU_OK;
fail:
    free(explicit_null);
    meru_schema_free(s);
    return rc;
}
