/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_schema_json.c — schemas as Iceberg schema JSON: the exact text
 * written, round trips with every type and defaults, Iceberg schemas
 * written by other tools, and the reader's refusals of hostile input.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "types/schema.h"

static int from_text(meru_schema **s, const char *json)
{
    return meru_schema_from_json(s, json, strlen(json));
}

static void test_to_json_writes_iceberg_schema_text(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_parse(&s, "orders",
                               "id int64 not null, price decimal(10,2) "
                               "default \"1.5\", tag fixed(2), at timestamptz",
                               "id"));
    char *json;
    CHECK_OK(meru_schema_to_json(s, &json));
    CHECK_STR(json,
              "{\"type\":\"struct\",\"schema-id\":0,"
              "\"identifier-field-ids\":[1],\"fields\":["
              "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
              "{\"id\":2,\"name\":\"price\",\"required\":false,"
              "\"type\":\"decimal(10, 2)\",\"write-default\":\"1.50\"},"
              "{\"id\":3,\"name\":\"tag\",\"required\":false,"
              "\"type\":\"fixed[2]\"},"
              "{\"id\":4,\"name\":\"at\",\"required\":false,"
              "\"type\":\"timestamptz\"}],"
              "\"merutable.table-name\":\"orders\"}");
    meru_free(json);
    meru_schema_free(s);
}

static void test_json_round_trip_with_every_type_and_defaults(void)
{
    meru_schema *s, *back;
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    CHECK_OK(meru_schema_new(&s, "every \"type\" \xC3\xA9"));
    static const struct {
        const char *name;
        meru_type t;
        const char *init, *wr;
    } cols[] = {
        {"k1", MERU_TYPE_INT64, NULL, NULL},
        {"k2", MERU_TYPE_STRING, NULL, NULL},
        {"b", MERU_TYPE_BOOLEAN, "true", "false"},
        {"i", MERU_TYPE_INT32, "-2147483648", "34"},
        {"l", MERU_TYPE_INT64, "9223372036854775807", "-1"},
        {"f", MERU_TYPE_FLOAT, "0.1", "\"NaN\""},
        {"d", MERU_TYPE_DOUBLE, "1e300", "\"-Infinity\""},
        {"s", MERU_TYPE_STRING, "\"a\\u0000b\\\"c\\n\"",
         "\"\xF0\x9D\x84\x9E\""},
        {"bin", MERU_TYPE_BINARY, "\"00ff10\"", "\"\""},
        {"fx", MERU_TYPE_FIXED, "\"0a0b0c\"", NULL},
        {"dt", MERU_TYPE_DATE, "\"1066-10-14\"", "\"2024-02-29\""},
        {"ts", MERU_TYPE_TIMESTAMP, "\"1900-01-01T00:00:00.000001\"", NULL},
        {"tz", MERU_TYPE_TIMESTAMPTZ, NULL, "\"2017-11-16T23:31:08+01:00\""},
        {"dec", MERU_TYPE_DECIMAL, "\"-0.05\"", "12"},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        d = (meru_column_def)MERU_COLUMN_DEF_INIT;
        d.name = cols[i].name;
        d.type = cols[i].t;
        d.nullable = i >= 2;
        d.fixed_length = 3;
        d.precision = 38;
        d.scale = 2;
        d.initial_default = cols[i].init;
        d.write_default = cols[i].wr;
        d.field_id = (int32_t)(100 - i * 3); /* non-sequential ids */
        CHECK_OK(meru_schema_add_column_def(s, &d));
    }
    const char *key[] = {"k2", "k1"};
    CHECK_OK(meru_schema_set_primary_key(s, key, 2));
    char *j1, *j2;
    CHECK_OK(meru_schema_to_json(s, &j1));
    CHECK_OK(meru_schema_from_json(&back, j1, strlen(j1)));
    CHECK_OK(meru_schema_validate(back));
    CHECK_OK(meru_schema_to_json(back, &j2));
    CHECK_STR(j2, j1);
    /* spot checks on the parsed side */
    CHECK_STR(meru_schema_table_name(back), "every \"type\" \xC3\xA9");
    CHECK_EQ_U64(meru_schema_key_count(back), 2);
    CHECK_EQ_INT(meru_schema_key_column(back, 0), 1);
    CHECK_EQ_INT(meru_schema_key_column(back, 1), 0);
    CHECK_EQ_INT(meru_schema_column_field_id(back, 13), 100 - 13 * 3);
    CHECK_EQ_INT(meru_schema_column_nullable(back, 0), 0);
    const meru_column *sc = &back->cols[7];
    CHECK_EQ_U64(sc->initial_default.u.bytes.len, 6);
    CHECK_MEM(sc->initial_default.u.bytes.ptr, "a\0b\"c\n", 6);
    const meru_column *dec = &back->cols[13];
    CHECK_EQ_INT(dec->precision, 38);
    CHECK(dec->write_default.u.dec.lo == 1200);
    CHECK(back->cols[5].initial_default.u.f32 == 0.1f);
    CHECK(strstr(j1, "\"initial-default\":\"1900-01-01T00:00:00.000001\""));
    CHECK(strstr(j1, "\"write-default\":\"2017-11-16T22:31:08+00:00\""));
    CHECK(strstr(j1, "\"write-default\":\"12.00\""));
    CHECK(strstr(j1, "\"initial-default\":0.1,"));
    meru_free(j1);
    meru_free(j2);
    meru_schema_free(back);
    meru_schema_free(s);
}

static void test_from_json_reads_a_schema_written_by_iceberg(void)
{
    /* In the shape Iceberg's Java SchemaParser writes (pretty-printed, with
     * "doc", "decimal(9, 2)" with a space, upper-case hex defaults). */
    const char *json = "{\n"
                       "  \"type\" : \"struct\",\n"
                       "  \"schema-id\" : 3,\n"
                       "  \"identifier-field-ids\" : [ 1, 3 ],\n"
                       "  \"fields\" : [ {\n"
                       "    \"id\" : 1,\n"
                       "    \"name\" : \"id\",\n"
                       "    \"required\" : true,\n"
                       "    \"type\" : \"long\"\n"
                       "  }, {\n"
                       "    \"id\" : 2,\n"
                       "    \"name\" : \"data\",\n"
                       "    \"required\" : false,\n"
                       "    \"type\" : \"string\",\n"
                       "    \"doc\" : \"the payload\"\n"
                       "  }, {\n"
                       "    \"id\" : 3,\n"
                       "    \"name\" : \"event_ts\",\n"
                       "    \"required\" : true,\n"
                       "    \"type\" : \"timestamptz\"\n"
                       "  }, {\n"
                       "    \"id\" : 4,\n"
                       "    \"name\" : \"amount\",\n"
                       "    \"required\" : false,\n"
                       "    \"type\" : \"decimal(9, 2)\",\n"
                       "    \"initial-default\" : \"0.00\",\n"
                       "    \"write-default\" : null\n"
                       "  }, {\n"
                       "    \"id\" : 5,\n"
                       "    \"name\" : \"digest\",\n"
                       "    \"required\" : false,\n"
                       "    \"type\" : \"FIXED[ 2 ]\",\n"
                       "    \"write-default\" : \"ABCD\"\n"
                       "  } ]\n"
                       "}\n";
    meru_schema *s;
    CHECK_OK(from_text(&s, json));
    CHECK_OK(meru_schema_validate(s));
    CHECK_STR(meru_schema_table_name(s), "table");
    CHECK_EQ_U64(meru_schema_column_count(s), 5);
    CHECK_EQ_INT(meru_schema_column_type(s, 2), MERU_TYPE_TIMESTAMPTZ);
    CHECK_EQ_INT(meru_schema_column_type(s, 3), MERU_TYPE_DECIMAL);
    CHECK_EQ_INT(s->cols[3].precision, 9);
    CHECK_EQ_INT(s->cols[3].scale, 2);
    CHECK_EQ_INT(s->cols[3].initial_default.state, MERU_VALUE_PRESENT);
    CHECK_EQ_INT(s->cols[3].write_default.state, MERU_VALUE_UNSET);
    CHECK_EQ_INT(s->cols[4].fixed_length, 2);
    CHECK_MEM(s->cols[4].write_default.u.bytes.ptr, "\xAB\xCD", 2);
    CHECK_EQ_U64(meru_schema_key_count(s), 2);
    CHECK_EQ_INT(meru_schema_key_column(s, 1), 2);
    meru_schema_free(s);

    /* no identifier fields: no key, validation says so */
    CHECK_OK(from_text(&s, "{\"type\":\"struct\",\"fields\":[{\"id\":1,"
                           "\"name\":\"a\",\"required\":false,\"type\":"
                           "\"int\"}]}"));
    CHECK_EQ_U64(meru_schema_key_count(s), 0);
    CHECK_RC(meru_schema_validate(s), MERU_ESCHEMA);
    CHECK_ERRMSG("has no primary key");
    meru_schema_free(s);
}

static void check_refused(const char *json, const char *needle, int line)
{
    meru_schema *s = (meru_schema *)1;
    int rc = from_text(&s, json);
    if (rc != MERU_ESCHEMA || s != NULL || !strstr(meru_errmsg(), needle))
        meru_test_fail(__FILE__, line, "rc %d, message \"%s\", wanted \"%s\"",
                       rc, meru_errmsg(), needle);
}

#define REFUSED(json, needle) check_refused(json, needle, __LINE__)
#define FIELD(body)           "{\"type\":\"struct\",\"fields\":[" body "]}"

static void test_from_json_refuses_bad_input_with_the_path_named(void)
{
    REFUSED("", "schema JSON:");
    REFUSED("{\"type\":\"struct\"", "schema JSON:");
    REFUSED("[]", "the top level is an array, expected an object");
    REFUSED("{}", "missing \"type\": \"struct\"");
    REFUSED("{\"type\":\"list\"}", "\"type\" must be \"struct\"");
    REFUSED("{\"type\":\"struct\"}", "missing \"fields\"");
    REFUSED("{\"type\":\"struct\",\"fields\":{}}",
            "\"fields\" is an object, expected an array");
    REFUSED("{\"type\":\"struct\",\"type\":\"struct\",\"fields\":[]}",
            "duplicate object key");
    REFUSED("{\"type\":\"struct\",\"schema-id\":\"0\",\"fields\":[]}",
            "\"schema-id\" is a string, expected an integer");
    REFUSED("{\"type\":\"struct\",\"merutable.table-name\":5,\"fields\":[]}",
            "\"merutable.table-name\" is an integer, expected a string");
    REFUSED("{\"type\":\"struct\",\"merutable.table-name\":\"\",\"fields\":[]}",
            "table name is empty");
    REFUSED(FIELD("1"), "fields[0] is an integer, expected an object");
    REFUSED(FIELD("{\"id\":1,\"required\":true,\"type\":\"int\"}"),
            "fields[0]: missing \"name\"");
    REFUSED(FIELD("{\"id\":1,\"name\":7,\"required\":true,\"type\":\"int\"}"),
            "fields[0]: \"name\" is an integer, expected a string");
    REFUSED(FIELD("{\"name\":\"a\",\"required\":true,\"type\":\"int\"}"),
            "fields[0] ('a'): missing \"id\"");
    REFUSED(FIELD("{\"id\":\"1\",\"name\":\"a\",\"required\":true,\"type\":"
                  "\"int\"}"),
            "fields[0] ('a'): \"id\" is a string, expected an integer");
    REFUSED(FIELD("{\"id\":0,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"int\"}"),
            "fields[0] ('a'): field id 0 is out of range 1..2147482999");
    REFUSED(FIELD("{\"id\":4294967297,\"name\":\"a\",\"required\":true,"
                  "\"type\":\"int\"}"),
            "field id 4294967297 is out of range");
    REFUSED(FIELD("{\"id\":2147483001,\"name\":\"a\",\"required\":true,"
                  "\"type\":\"int\"}"),
            "field id 2147483001 is reserved");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"type\":\"int\"}"),
            "fields[0] ('a'): missing \"required\"");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":1,\"type\":\"int\"}"),
            "\"required\" is an integer, expected true or false");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true}"),
            "fields[0] ('a'): missing \"type\"");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":5}"),
            "\"type\" is an integer, expected a type string");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "{\"type\":\"list\",\"element-id\":2,\"element\":\"int\","
                  "\"element-required\":true}}"),
            "fields[0] ('a'): nested types are not supported (type is a "
            "list)");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "{\"type\":\"struct\",\"fields\":[]}}"),
            "nested types are not supported (type is a struct)");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "{\"type\":\"map\"}}"),
            "nested types are not supported (type is a map)");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"uuid\"}"),
            "Iceberg type 'uuid' is not supported by merutable");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"timestamp_ns\"}"),
            "Iceberg type 'timestamp_ns' is not supported");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"integer\"}"),
            "fields[0] ('a'): unknown type 'integer'");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"decimal(9)\"}"),
            "malformed type 'decimal(9)'");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"fixed[16\"}"),
            "malformed type 'fixed[16'");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"decimal(39, 2)\"}"),
            "column 'a': decimal precision 39 is out of range 1..38");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"int\"},{\"id\":1,\"name\":\"b\",\"required\":true,"
                  "\"type\":\"int\"}"),
            "fields[1]: column 'b': field id 1 is already used by column "
            "'a'");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"int\"},{\"id\":2,\"name\":\"a\",\"required\":true,"
                  "\"type\":\"int\"}"),
            "column 'a': duplicate column name");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\\u0000b\",\"required\":true,"
                  "\"type\":\"int\"}"),
            "name contains a NUL character");
    REFUSED(FIELD("{\"id\":1,\"name\":\"_merutable_op\",\"required\":true,"
                  "\"type\":\"int\"}"),
            "reserved for the engine's hidden columns");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"int\",\"write-default\":\"7\"}"),
            "fields[0]: column 'a': write default: int literal \"7\"");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"int\",\"initial-default\":[1]}"),
            "\"initial-default\" is an array; only single values");
    REFUSED(FIELD("{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":"
                  "\"decimal(4, 2)\",\"initial-default\":\"1.234\"}"),
            "more than the scale 2 allows");
    REFUSED("{\"type\":\"struct\",\"identifier-field-ids\":[9],\"fields\":"
            "[{\"id\":1,\"name\":\"a\",\"required\":true,\"type\":\"int\"}]}",
            "identifier-field-ids[0]: no field has id 9");
    REFUSED("{\"type\":\"struct\",\"identifier-field-ids\":1,\"fields\":[]}",
            "\"identifier-field-ids\" is an integer, expected an array");
    REFUSED("{\"type\":\"struct\",\"identifier-field-ids\":[\"1\"],"
            "\"fields\":[]}",
            "identifier-field-ids[0] is a string, expected an integer");
    REFUSED("{\"type\":\"struct\",\"identifier-field-ids\":[1],\"fields\":"
            "[{\"id\":1,\"name\":\"a\",\"required\":false,\"type\":\"int\"}]}",
            "identifier-field-ids: primary key column 'a' is nullable");
    meru_schema *s;
    CHECK_RC(meru_schema_from_json(&s, NULL, 3), MERU_EINVAL);
}

/* Truncations and byte flips of a valid document: never a crash, never a
 * leak, and either a schema or MERU_ESCHEMA. */
static void test_from_json_survives_mutated_input(void)
{
    meru_schema *s;
    char *json;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int64 not null, n string default \"x\", "
                               "d decimal(10,2) default \"1.00\", f fixed(2)",
                               "id"));
    CHECK_OK(meru_schema_to_json(s, &json));
    meru_schema_free(s);
    size_t n = strlen(json);
    for (size_t cut = 0; cut < n; cut++) {
        int rc = meru_schema_from_json(&s, json, cut);
        CHECK_EQ_INT(rc, MERU_ESCHEMA);
    }
    char *m = malloc(n);
    CHECK(m);
    int iters = (int)(20000 * meru_test_scale());
    for (int i = 0; i < iters; i++) {
        memcpy(m, json, n);
        int flips = 1 + (int)(meru_test_rand() % 3);
        for (int k = 0; k < flips; k++)
            m[meru_test_rand() % n] = (char)(meru_test_rand() & 0xFF);
        int rc = meru_schema_from_json(&s, m, n);
        CHECK_MSG(rc == MERU_OK || rc == MERU_ESCHEMA, "rc %d: %s", rc,
                  meru_errmsg());
        if (rc == MERU_OK) {
            char *again;
            CHECK_OK(meru_schema_to_json(s, &again));
            meru_free(again);
            meru_schema_free(s);
        }
    }
    free(m);
    meru_free(json);
}

/* Iceberg forbids float/double identifier fields: such a key must not be
 * written as identifier-field-ids (Java/Rust readers would reject the
 * table), yet must survive the round trip. */
static void test_float_key_is_kept_out_of_identifier_field_ids(void)
{
    meru_schema *s = NULL, *back = NULL;
    char *json = NULL, *json2 = NULL;
    CHECK_OK(meru_schema_parse(&s, "m", "sensor int32 not null, "
                               "reading double not null, v string",
                               "sensor, reading"));
    CHECK_OK(meru_schema_to_json(s, &json));
    CHECK(strstr(json, "identifier-field-ids") == NULL);
    CHECK(strstr(json, "\"merutable.primary-key\":[1,2]") != NULL);
    CHECK_OK(meru_schema_from_json(&back, json, strlen(json)));
    CHECK_EQ_INT(meru_schema_key_count(back), 2);
    CHECK_EQ_INT(meru_schema_key_column(back, 0), 0);
    CHECK_EQ_INT(meru_schema_key_column(back, 1), 1);
    CHECK_OK(meru_schema_to_json(back, &json2));
    CHECK_STR(json2, json);
    meru_free(json);
    meru_free(json2);
    meru_schema_free(back);
    meru_schema_free(s);

    /* An integer key still uses identifier-field-ids. */
    CHECK_OK(meru_schema_parse(&s, "m", "id int64 not null, x float", "id"));
    CHECK_OK(meru_schema_to_json(s, &json));
    CHECK(strstr(json, "\"identifier-field-ids\":[1]") != NULL);
    CHECK(strstr(json, "merutable.primary-key") == NULL);
    meru_free(json);
    meru_schema_free(s);

    /* A bad merutable.primary-key is named in the error. */
    const char *bad = "{\"type\":\"struct\",\"schema-id\":0,"
                      "\"merutable.primary-key\":[9],\"fields\":[{\"id\":1,"
                      "\"name\":\"a\",\"required\":true,\"type\":\"double\"}]}";
    CHECK_RC(meru_schema_from_json(&back, bad, strlen(bad)), MERU_ESCHEMA);
    CHECK_ERRMSG("merutable.primary-key[0]: no field has id 9");
}

int main(void)
{
    MERU_TEST_RUN(test_to_json_writes_iceberg_schema_text);
    MERU_TEST_RUN(test_json_round_trip_with_every_type_and_defaults);
    MERU_TEST_RUN(test_from_json_reads_a_schema_written_by_iceberg);
    MERU_TEST_RUN(test_from_json_refuses_bad_input_with_the_path_named);
    MERU_TEST_RUN(test_from_json_survives_mutated_input);
    MERU_TEST_RUN(test_float_key_is_kept_out_of_identifier_field_ids);
    return meru_test_finish();
}
