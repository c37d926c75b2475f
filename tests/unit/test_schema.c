/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_schema.c — the schema builder, accessors, meru_schema_validate()
 * rules with their messages, and the meru_schema_parse() text syntax.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "types/schema.h"

static meru_column_def def_of(const char *name, meru_type type, int nullable)
{
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = name;
    d.type = type;
    d.nullable = nullable;
    return d;
}

static void test_type_names_are_iceberg_names(void)
{
    CHECK_STR(meru_type_name(MERU_TYPE_BOOLEAN), "boolean");
    CHECK_STR(meru_type_name(MERU_TYPE_INT32), "int");
    CHECK_STR(meru_type_name(MERU_TYPE_INT64), "long");
    CHECK_STR(meru_type_name(MERU_TYPE_FLOAT), "float");
    CHECK_STR(meru_type_name(MERU_TYPE_DOUBLE), "double");
    CHECK_STR(meru_type_name(MERU_TYPE_STRING), "string");
    CHECK_STR(meru_type_name(MERU_TYPE_BINARY), "binary");
    CHECK_STR(meru_type_name(MERU_TYPE_FIXED), "fixed");
    CHECK_STR(meru_type_name(MERU_TYPE_DATE), "date");
    CHECK_STR(meru_type_name(MERU_TYPE_TIMESTAMP), "timestamp");
    CHECK_STR(meru_type_name(MERU_TYPE_TIMESTAMPTZ), "timestamptz");
    CHECK_STR(meru_type_name(MERU_TYPE_DECIMAL), "decimal");
    CHECK(meru_type_name((meru_type)0) == NULL);
    CHECK(meru_type_name((meru_type)13) == NULL);
}

static void test_builder_assigns_field_ids_and_answers_accessors(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_new(&s, "orders"));
    CHECK_OK(meru_schema_add_column(s, "id", MERU_TYPE_INT64, 0));
    meru_column_def d = def_of("price", MERU_TYPE_DECIMAL, 1);
    d.precision = 10;
    d.scale = 2;
    d.field_id = 10;
    CHECK_OK(meru_schema_add_column_def(s, &d));
    CHECK_OK(meru_schema_add_column(s, "note", MERU_TYPE_STRING, 1));
    d = def_of("tag", MERU_TYPE_FIXED, 1);
    d.fixed_length = 16;
    d.field_id = 5; /* below the max: allowed, does not move the counter */
    CHECK_OK(meru_schema_add_column_def(s, &d));
    CHECK_OK(meru_schema_add_column(s, "at", MERU_TYPE_TIMESTAMPTZ, 0));
    const char *key[] = {"id", "at"};
    CHECK_OK(meru_schema_set_primary_key(s, key, 2));
    CHECK_OK(meru_schema_validate(s));

    CHECK_STR(meru_schema_table_name(s), "orders");
    CHECK_EQ_U64(meru_schema_column_count(s), 5);
    CHECK_EQ_INT(meru_schema_column_field_id(s, 0), 1);
    CHECK_EQ_INT(meru_schema_column_field_id(s, 1), 10);
    CHECK_EQ_INT(meru_schema_column_field_id(s, 2), 11);
    CHECK_EQ_INT(meru_schema_column_field_id(s, 3), 5);
    CHECK_EQ_INT(meru_schema_column_field_id(s, 4), 12);
    CHECK_EQ_INT(meru_schema_column_index(s, "note"), 2);
    CHECK_EQ_INT(meru_schema_column_index(s, "NOTE"), -1);
    CHECK_EQ_INT(meru_schema_column_index(s, "missing"), -1);
    CHECK_STR(meru_schema_column_name(s, 3), "tag");
    CHECK_EQ_INT(meru_schema_column_type(s, 1), MERU_TYPE_DECIMAL);
    CHECK_EQ_INT(meru_schema_column_nullable(s, 0), 0);
    CHECK_EQ_INT(meru_schema_column_nullable(s, 2), 1);
    CHECK_EQ_U64(meru_schema_key_count(s), 2);
    CHECK_EQ_INT(meru_schema_key_column(s, 0), 0);
    CHECK_EQ_INT(meru_schema_key_column(s, 1), 4);
    /* out of range */
    CHECK(meru_schema_column_name(s, 5) == NULL);
    CHECK_EQ_INT(meru_schema_column_type(s, 5), 0);
    CHECK_EQ_INT(meru_schema_column_nullable(s, 5), -1);
    CHECK_EQ_INT(meru_schema_column_field_id(s, 5), -1);
    CHECK_EQ_INT(meru_schema_key_column(s, 2), -1);
    /* internal view */
    CHECK_EQ_INT(s->cols[4].key_position, 1);
    CHECK_EQ_INT(s->cols[2].key_position, -1);

    /* the key can be replaced */
    const char *key2[] = {"at"};
    CHECK_OK(meru_schema_set_primary_key(s, key2, 1));
    CHECK_EQ_U64(meru_schema_key_count(s), 1);
    CHECK_EQ_INT(s->cols[0].key_position, -1);
    CHECK_EQ_INT(s->cols[4].key_position, 0);
    meru_schema_free(s);
    meru_schema_free(NULL);
}

static void test_clone_is_deep_and_equal(void)
{
    meru_schema *s, *c;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int64, name string default \"anon\", "
                               "b binary default \"00ff\"",
                               "id"));
    CHECK_OK(meru_schema_clone(&c, s));
    char *a, *b;
    CHECK_OK(meru_schema_to_json(s, &a));
    meru_schema_free(s); /* the clone must not share memory with it */
    CHECK_OK(meru_schema_to_json(c, &b));
    CHECK_STR(a, b);
    CHECK_OK(meru_schema_validate(c));
    CHECK_EQ_U64(c->cols[1].write_default.u.bytes.len, 4);
    CHECK_MEM(c->cols[1].write_default.u.bytes.ptr, "anon", 4);
    /* ids continue after the clone's largest */
    CHECK_OK(meru_schema_add_column(c, "more", MERU_TYPE_INT32, 1));
    CHECK_EQ_INT(meru_schema_column_field_id(c, 3), 4);
    meru_free(a);
    meru_free(b);
    meru_schema_free(c);
}

static void test_validate_reports_empty_schema_and_missing_key(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_new(&s, "t"));
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA);
    CHECK_ERRMSG("table 't' has no columns");
    CHECK_OK(meru_schema_add_column(s, "id", MERU_TYPE_INT64, 0));
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA);
    CHECK_ERRMSG("table 't' has no primary key");
    CHECK_RC(meru_schema_validate(NULL), MERU_EINVAL);
    meru_schema_free(s);
}

static void test_names_are_checked_with_the_rule_named(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_new(&s, "t"));
    CHECK_RC(meru_schema_add_column(s, "", MERU_TYPE_INT64, 0), MERU_ESCHEMA);
    CHECK_ERRMSG("column at index 0: name is empty");
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = '\0';
    CHECK_RC(meru_schema_add_column(s, longname, MERU_TYPE_INT64, 0),
             MERU_ESCHEMA);
    CHECK_ERRMSG("name is 256 bytes long (at most 255)");
    longname[255] = '\0';
    CHECK_OK(meru_schema_add_column(s, longname, MERU_TYPE_INT64, 0));
    CHECK_RC(meru_schema_add_column(s, "bad\xFFname", MERU_TYPE_INT64, 0),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'bad\\xFFname': name is not valid UTF-8 (byte 0xFF "
                 "at offset 3)");
    CHECK_RC(meru_schema_add_column(s, "tab\there", MERU_TYPE_INT64, 0),
             MERU_ESCHEMA);
    CHECK_ERRMSG("name contains control character U+0009 at byte offset 3");
    CHECK_RC(meru_schema_add_column(s, "c1\xC2\x85", MERU_TYPE_INT64, 0),
             MERU_ESCHEMA);
    CHECK_ERRMSG("control character U+0085");
    CHECK_RC(meru_schema_add_column(s, "_merutable_seq", MERU_TYPE_INT64, 0),
             MERU_ESCHEMA);
    CHECK_ERRMSG("names starting with '_merutable_' are reserved");
    CHECK_RC(meru_schema_add_column(s, "_MeruTable_x", MERU_TYPE_INT64, 0),
             MERU_ESCHEMA);
    CHECK_OK(meru_schema_add_column(s, "_merutablex", MERU_TYPE_INT64, 0));
    CHECK_OK(meru_schema_add_column(s, "pr\xC3\xA9nom", MERU_TYPE_STRING, 1));
    CHECK_OK(meru_schema_add_column(s, "name", MERU_TYPE_STRING, 1));
    CHECK_RC(meru_schema_add_column(s, "name", MERU_TYPE_INT32, 1),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'name': duplicate column name");
    CHECK_RC(meru_schema_add_column(s, "Name", MERU_TYPE_INT32, 1),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'Name': name differs only in case from column "
                 "'name'");
    CHECK_EQ_U64(meru_schema_column_count(s), 4); /* failures added nothing */
    CHECK_RC(meru_schema_add_column(s, NULL, MERU_TYPE_INT32, 1), MERU_EINVAL);
    meru_schema_free(s);

    CHECK_RC(meru_schema_new(&s, ""), MERU_ESCHEMA);
    CHECK_ERRMSG("table name is empty");
    CHECK(s == NULL);
    CHECK_RC(meru_schema_new(&s, "a\nb"), MERU_ESCHEMA);
    CHECK_ERRMSG("table 'a\\x0Ab': name contains control character U+000A");
    CHECK_RC(meru_schema_new(&s, NULL), MERU_EINVAL);
}

static void test_types_and_parameters_are_checked(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_new(&s, "t"));
    meru_column_def d = def_of("x", (meru_type)99, 1);
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'x': invalid type 99 (not a meru_type value)");
    d.type = (meru_type)0;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_RC(meru_schema_add_column(s, "f", MERU_TYPE_FIXED, 1), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'f': a fixed column needs a length");
    CHECK_RC(meru_schema_add_column(s, "d", MERU_TYPE_DECIMAL, 1),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'd': a decimal column needs a precision and scale");

    d = def_of("f", MERU_TYPE_FIXED, 1);
    d.fixed_length = 0;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'f': fixed length 0 is out of range 1..16777216");
    d.fixed_length = (int32_t)MERU_MAX_VALUE_BYTES + 1;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    d.fixed_length = (int32_t)MERU_MAX_VALUE_BYTES;
    CHECK_OK(meru_schema_add_column_def(s, &d));

    d = def_of("d", MERU_TYPE_DECIMAL, 1);
    d.precision = 39;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'd': decimal precision 39 is out of range 1..38");
    d.precision = 0;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    d.precision = 5;
    d.scale = 6;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'd': decimal scale 6 is out of range 0..5");
    d.scale = -1;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    d.scale = 5;
    CHECK_OK(meru_schema_add_column_def(s, &d));
    /* parameters of other types are ignored */
    d = def_of("i", MERU_TYPE_INT32, 1);
    d.precision = 99;
    d.fixed_length = -3;
    CHECK_OK(meru_schema_add_column_def(s, &d));
    CHECK_EQ_INT(s->cols[2].precision, 0);
    meru_schema_free(s);
}

static void test_field_ids_are_checked(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_new(&s, "t"));
    meru_column_def d = def_of("a", MERU_TYPE_INT32, 1);
    d.field_id = -4;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'a': field id -4 must be positive");
    d.field_id = MERU_RESERVED_FIELD_ID_BASE;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'a': field id 2147483000 is reserved for the "
                 "engine's hidden columns");
    d.field_id = MERU_RESERVED_FIELD_ID_BASE - 1;
    CHECK_OK(meru_schema_add_column_def(s, &d));
    d = def_of("b", MERU_TYPE_INT32, 1);
    d.field_id = MERU_RESERVED_FIELD_ID_BASE - 1;
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'b': field id 2147482999 is already used by column "
                 "'a'");
    /* automatic ids would now be reserved */
    CHECK_RC(meru_schema_add_column(s, "c", MERU_TYPE_INT32, 1), MERU_ESCHEMA);
    CHECK_ERRMSG("no field id left to assign");
    d.field_id = 7;
    CHECK_OK(meru_schema_add_column_def(s, &d));
    meru_schema_free(s);
}

static void test_defaults_are_parsed_for_their_type(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_new(&s, "t"));
    meru_column_def d = def_of("n", MERU_TYPE_INT32, 0);
    d.write_default = "\"7\"";
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'n': write default: int literal \"7\": expected an "
                 "integer, got a string");
    d.write_default = "7";
    d.initial_default = "3000000000";
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'n': initial default: int literal 3000000000 is out "
                 "of range");
    d.initial_default = NULL;
    CHECK_OK(meru_schema_add_column_def(s, &d));
    CHECK_EQ_INT(s->cols[0].write_default.state, MERU_VALUE_PRESENT);
    CHECK_EQ_INT(s->cols[0].write_default.u.i32, 7);
    CHECK_EQ_INT(s->cols[0].initial_default.state, MERU_VALUE_UNSET);
    CHECK_STR(s->cols[0].write_default_json, "7");

    /* "null" means no default, even on a NOT NULL column */
    d = def_of("m", MERU_TYPE_STRING, 0);
    d.write_default = "null";
    d.initial_default = "\"init\"";
    CHECK_OK(meru_schema_add_column_def(s, &d));
    CHECK_EQ_INT(s->cols[1].write_default.state, MERU_VALUE_UNSET);
    CHECK(s->cols[1].write_default_json == NULL);
    CHECK_EQ_INT(s->cols[1].initial_default.u.bytes.len, 4);

    d = def_of("f", MERU_TYPE_FIXED, 1);
    d.fixed_length = 2;
    d.write_default = "\"00\"";
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'f': write default: fixed[2] literal \"00\": 1 "
                 "byte, expected exactly 2");
    d = def_of("dec", MERU_TYPE_DECIMAL, 1);
    d.precision = 4;
    d.scale = 2;
    d.write_default = "\"100.00\"";
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'dec': write default: decimal '100.00' needs 5 "
                 "digits");
    d.write_default = "\"-99.99\"";
    CHECK_OK(meru_schema_add_column_def(s, &d));
    d = def_of("day", MERU_TYPE_DATE, 1);
    d.write_default = "\"2024-02-30\"";
    CHECK_RC(meru_schema_add_column_def(s, &d), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'day': write default: invalid date '2024-02-30': "
                 "February 2024 has 29 days, not 30");
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA); /* no key yet */
    meru_schema_free(s);
}

static void test_primary_key_rules(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_new(&s, "t"));
    CHECK_OK(meru_schema_add_column(s, "id", MERU_TYPE_INT64, 0));
    CHECK_OK(meru_schema_add_column(s, "v", MERU_TYPE_STRING, 1));
    const char *unknown[] = {"nope"};
    CHECK_RC(meru_schema_set_primary_key(s, unknown, 1), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key column 'nope' is not a column of table 't'");
    const char *twice[] = {"id", "id"};
    CHECK_RC(meru_schema_set_primary_key(s, twice, 2), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key lists column 'id' twice (positions 0 and 1)");
    const char *nullable[] = {"v"};
    CHECK_RC(meru_schema_set_primary_key(s, nullable, 1), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key column 'v' is nullable; key columns must be "
                 "NOT NULL");
    CHECK_RC(meru_schema_set_primary_key(s, NULL, 0), MERU_ESCHEMA);
    CHECK_ERRMSG("needs at least one column");
    const char *many[33];
    for (int i = 0; i < 33; i++)
        many[i] = "id";
    CHECK_RC(meru_schema_set_primary_key(s, many, 33), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key has 33 columns (at most 32)");
    CHECK_EQ_U64(meru_schema_key_count(s), 0); /* failures set nothing */
    const char *ok[] = {"id"};
    CHECK_OK(meru_schema_set_primary_key(s, ok, 1));
    CHECK_OK(meru_schema_validate(s));

    /* validate re-checks a key that was broken behind the builder's back */
    s->cols[0].nullable = 1;
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key column 'id' is nullable");
    s->cols[0].nullable = 0;
    s->key_cols[0] = 7;
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA);
    CHECK_ERRMSG("refers to column index 7, which does not exist");
    s->key_cols[0] = 0;
    meru_schema_free(s);
}

static void test_every_type_may_be_a_key_column(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_parse(
        &s, "k",
        "a boolean, b int32, c int64, d float, e double, f string, g binary, "
        "h fixed(3), i date, j timestamp, k timestamptz, l decimal(38,10)",
        "a,b,c,d,e,f,g,h,i,j,k,l"));
    CHECK_EQ_U64(meru_schema_key_count(s), 12);
    CHECK_OK(meru_schema_validate(s));
    meru_schema_free(s);
}

static void test_validate_rechecks_columns_with_the_same_messages(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_parse(&s, "t", "id int64, a string, b int32", "id"));
    /* corrupt the internal view the way a buggy caller could */
    s->cols[2].field_id = s->cols[1].field_id;
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'b': field id 2 is already used by column 'a'");
    s->cols[2].field_id = 3;
    s->cols[2].name[0] = 'a';
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'a': duplicate column name (column 1 has the same "
                 "name)");
    s->cols[2].name[0] = 'b';
    CHECK_OK(meru_schema_validate(s));
    meru_schema_free(s);
}

static void test_too_many_columns_is_refused(void)
{
    meru_schema *s;
    char name[16];
    CHECK_OK(meru_schema_new(&s, "wide"));
    for (int i = 0; i < MERU_MAX_COLUMNS; i++) {
        snprintf(name, sizeof name, "c%d", i);
        CHECK_OK(meru_schema_add_column(s, name, MERU_TYPE_INT32, i != 0));
    }
    CHECK_RC(meru_schema_add_column(s, "one_more", MERU_TYPE_INT32, 1),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'one_more': table already has 4096 columns");
    const char *key[] = {"c0"};
    CHECK_OK(meru_schema_set_primary_key(s, key, 1));
    CHECK_OK(meru_schema_validate(s));
    meru_schema_free(s);
}

/* --------------------------------------------------------------- parse */

static void test_parse_the_documented_example(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_parse(
        &s, "orders",
        "id int64 not null, name string, price decimal(10,2) default 0,\n"
        "  tag fixed(16), at timestamptz not null",
        "id, at"));
    CHECK_EQ_U64(meru_schema_column_count(s), 5);
    CHECK_EQ_INT(meru_schema_column_type(s, 0), MERU_TYPE_INT64);
    CHECK_EQ_INT(meru_schema_column_nullable(s, 0), 0);
    CHECK_EQ_INT(meru_schema_column_nullable(s, 1), 1);
    CHECK_EQ_INT(s->cols[2].precision, 10);
    CHECK_EQ_INT(s->cols[2].scale, 2);
    CHECK_EQ_INT(s->cols[2].write_default.state, MERU_VALUE_PRESENT);
    CHECK(s->cols[2].write_default.u.dec.lo == 0);
    CHECK_EQ_INT(s->cols[3].fixed_length, 16);
    CHECK_EQ_INT(meru_schema_column_type(s, 4), MERU_TYPE_TIMESTAMPTZ);
    CHECK_EQ_U64(meru_schema_key_count(s), 2);
    CHECK_EQ_INT(meru_schema_key_column(s, 1), 4);
    meru_schema_free(s);
}

static void test_parse_accepts_aliases_case_and_quoting(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_parse(
        &s, "t",
        "A BOOL NOT NULL, b Int, c INT32, d Long, e BIGINT, f Float, g DOUBLE,"
        " h TEXT, i VarChar, j String, k Bytes, l Binary, m FIXED[4],"
        " n Date, o TimeStamp, p TIMESTAMPTZ, q Decimal ( 5 , 1 ), r "
        "decimal(7),"
        " \"with space\" int default -3, \"caf\\u00e9\" string Default "
        "\"x, y\" Null, ",
        " \"with space\" , A "));
    static const meru_type want[] = {
        MERU_TYPE_BOOLEAN,     MERU_TYPE_INT32,   MERU_TYPE_INT32,
        MERU_TYPE_INT64,       MERU_TYPE_INT64,   MERU_TYPE_FLOAT,
        MERU_TYPE_DOUBLE,      MERU_TYPE_STRING,  MERU_TYPE_STRING,
        MERU_TYPE_STRING,      MERU_TYPE_BINARY,  MERU_TYPE_BINARY,
        MERU_TYPE_FIXED,       MERU_TYPE_DATE,    MERU_TYPE_TIMESTAMP,
        MERU_TYPE_TIMESTAMPTZ, MERU_TYPE_DECIMAL, MERU_TYPE_DECIMAL,
        MERU_TYPE_INT32,       MERU_TYPE_STRING};
    CHECK_EQ_U64(meru_schema_column_count(s), 20);
    for (size_t i = 0; i < 20; i++)
        CHECK_EQ_INT(meru_schema_column_type(s, i), want[i]);
    CHECK_STR(meru_schema_column_name(s, 0), "A");
    CHECK_STR(meru_schema_column_name(s, 18), "with space");
    CHECK_STR(meru_schema_column_name(s, 19), "caf\xC3\xA9");
    CHECK_EQ_INT(s->cols[16].precision, 5);
    CHECK_EQ_INT(s->cols[16].scale, 1);
    CHECK_EQ_INT(s->cols[17].precision, 7);
    CHECK_EQ_INT(s->cols[17].scale, 0);
    CHECK_EQ_INT(s->cols[18].write_default.u.i32, -3);
    CHECK_EQ_U64(s->cols[19].write_default.u.bytes.len, 4);
    /* a key column without explicit nullability becomes NOT NULL */
    CHECK_EQ_INT(meru_schema_column_nullable(s, 18), 0);
    CHECK_EQ_INT(meru_schema_key_column(s, 0), 18);
    CHECK_EQ_INT(meru_schema_key_column(s, 1), 0);
    meru_schema_free(s);

    /* without a key the schema is returned unvalidated, key unset */
    CHECK_OK(meru_schema_parse(&s, "t", "a int", NULL));
    CHECK_EQ_U64(meru_schema_key_count(s), 0);
    CHECK_EQ_INT(meru_schema_column_nullable(s, 0), 1);
    meru_schema_free(s);
}

static void test_parse_errors_point_at_column_and_offset(void)
{
    meru_schema *s = (meru_schema *)1;
    CHECK_RC(meru_schema_parse(
                 &s, "t", "id int64, name string, price decimel(10,2)", "id"),
             MERU_ESCHEMA);
    CHECK(s == NULL);
    CHECK_ERRMSG("column 3 ('price'): unknown type 'decimel' at offset 29 "
                 "(did you mean 'decimal'?)");
    CHECK_RC(meru_schema_parse(&s, "t", "id int64, x blob", "id"),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 2 ('x'): unknown type 'blob' at offset 12 (types: ");
    CHECK_RC(meru_schema_parse(&s, "t", "a strng", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("(did you mean 'string'?)");
    CHECK_RC(meru_schema_parse(&s, "t", "id int64, , x int", "id"),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 2: expected a column name at offset 10, found ','");
    CHECK_RC(meru_schema_parse(&s, "t", "id", "id"), MERU_ESCHEMA);
    CHECK_ERRMSG("column 1 ('id'): expected a type after the column name at "
                 "offset 2, found the end of the text");
    CHECK_RC(meru_schema_parse(&s, "t", "id int64 not nul", "id"),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 1 ('id'): expected NULL after NOT at offset 13, "
                 "found 'nul'");
    CHECK_RC(meru_schema_parse(&s, "t", "id int64 primary", "id"),
             MERU_ESCHEMA);
    CHECK_ERRMSG("expected NOT NULL, NULL, DEFAULT, ',' or the end at offset "
                 "9, found 'primary'");
    CHECK_RC(meru_schema_parse(&s, "t", "id int64 not null null", "id"),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 1 ('id'): nullability given twice");
    CHECK_RC(meru_schema_parse(&s, "t", "a int default 1 default 2", NULL),
             MERU_ESCHEMA);
    CHECK_ERRMSG("DEFAULT given twice");
    CHECK_RC(meru_schema_parse(&s, "t", "a string default 'x'", NULL),
             MERU_ESCHEMA);
    CHECK_ERRMSG("string literals use double quotes");
    CHECK_RC(meru_schema_parse(&s, "t", "a string default abc", NULL),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 1 ('a'): default: unexpected 'abc' at offset 17");
    CHECK_RC(meru_schema_parse(&s, "t", "a string default 5", NULL),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'a': write default: string literal 5: expected a "
                 "\"string\", got a number");
    CHECK_RC(meru_schema_parse(&s, "t", "a int default", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("found the end of the text");
    CHECK_RC(meru_schema_parse(&s, "t", "f fixed", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("column 1 ('f'): type fixed needs a length in bytes");
    CHECK_RC(meru_schema_parse(&s, "t", "d decimal", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("type decimal needs a precision and scale");
    CHECK_RC(meru_schema_parse(&s, "t", "d decimal(10,2,1)", NULL),
             MERU_ESCHEMA);
    CHECK_ERRMSG("expected ')' at offset 14, found ','");
    CHECK_RC(meru_schema_parse(&s, "t", "d decimal(10 2)", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("expected ',' or ')'");
    CHECK_RC(meru_schema_parse(&s, "t", "d decimal(x,2)", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("expected a number at offset 10, found 'x'");
    CHECK_RC(meru_schema_parse(&s, "t", "i int(4)", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("column 1 ('i'): type 'int' takes no parameters");
    CHECK_RC(meru_schema_parse(&s, "t", "d decimal(40,2)", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'd': decimal precision 40 is out of range 1..38");
    CHECK_RC(meru_schema_parse(&s, "t", "a int, a int", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("column 'a': duplicate column name");
    CHECK_RC(meru_schema_parse(&s, "t", "a int; b int", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("found ';'");
    CHECK_RC(meru_schema_parse(&s, "t", "   ", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("no columns given");
    CHECK_RC(meru_schema_parse(&s, "t", "\"a\\u0000b\" int", NULL),
             MERU_ESCHEMA);
    CHECK_ERRMSG("contains a NUL character");
    CHECK_RC(meru_schema_parse(&s, "t", "\"unterminated int", NULL),
             MERU_ESCHEMA);
    CHECK_ERRMSG("unterminated string");
    CHECK_RC(meru_schema_parse(&s, "", "a int", NULL), MERU_ESCHEMA);
    CHECK_ERRMSG("table name is empty");
    CHECK_RC(meru_schema_parse(&s, "t", NULL, NULL), MERU_EINVAL);
}

static void test_parse_primary_key_errors(void)
{
    meru_schema *s;
    CHECK_RC(meru_schema_parse(&s, "t", "a int null, b int", "a"),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'a' is declared NULL but is part of the primary key");
    CHECK_RC(meru_schema_parse(&s, "t", "a int, b int", "c"), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key column 'c' is not a column of table 't'");
    CHECK_RC(meru_schema_parse(&s, "t", "a int, b int", "a, a"), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key lists column 'a' twice");
    CHECK_RC(meru_schema_parse(&s, "t", "a int, b int", "a b"), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key: expected ',' or the end at offset 2, found "
                 "'b'");
    CHECK_RC(meru_schema_parse(&s, "t", "a int, b int", "a,"), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key: expected a column name at offset 2, found the "
                 "end of the text");
    CHECK_RC(meru_schema_parse(&s, "t", "a int, b int", " "), MERU_ESCHEMA);
    CHECK_ERRMSG("primary key: no column names given");
    CHECK_RC(meru_schema_parse(&s, "t", "a int not null default \"x\"", "a"),
             MERU_ESCHEMA);
    CHECK_ERRMSG("column 'a': write default: int literal \"x\"");
}

int main(void)
{
    MERU_TEST_RUN(test_type_names_are_iceberg_names);
    MERU_TEST_RUN(test_builder_assigns_field_ids_and_answers_accessors);
    MERU_TEST_RUN(test_clone_is_deep_and_equal);
    MERU_TEST_RUN(test_validate_reports_empty_schema_and_missing_key);
    MERU_TEST_RUN(test_names_are_checked_with_the_rule_named);
    MERU_TEST_RUN(test_types_and_parameters_are_checked);
    MERU_TEST_RUN(test_field_ids_are_checked);
    MERU_TEST_RUN(test_defaults_are_parsed_for_their_type);
    MERU_TEST_RUN(test_primary_key_rules);
    MERU_TEST_RUN(test_every_type_may_be_a_key_column);
    MERU_TEST_RUN(test_validate_rechecks_columns_with_the_same_messages);
    MERU_TEST_RUN(test_too_many_columns_is_refused);
    MERU_TEST_RUN(test_parse_the_documented_example);
    MERU_TEST_RUN(test_parse_accepts_aliases_case_and_quoting);
    MERU_TEST_RUN(test_parse_errors_point_at_column_and_offset);
    MERU_TEST_RUN(test_parse_primary_key_errors);
    return meru_test_finish();
}
