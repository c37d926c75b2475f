#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Writes Parquet files that cover the value types merutable stores (and a few
// more) with edge values, for the harness self-check
// (tests/cli/test_interop_selfcheck.sh): the public parquet-testing files
// have no DATE, no INT64 timestamps, no UUID, no TIME and few decimals.
// Two independent writers make them, DuckDB (C++) and arrow-rs
// (parquet-wasm), so a reader adapter that mishandles a type shows up as a
// disagreement on at least one of the files.
//
//   node make_fixtures.mjs <outdir>      prints the paths it wrote
//
// The files are rebuilt on every run (nothing binary is committed); their
// content is fixed, so outputs are reproducible.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const outdir = process.argv[2];
if (!outdir) {
  process.stderr.write('usage: node make_fixtures.mjs <outdir>\n');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

// ------------------------------------------------------------ DuckDB

// One row of SQL literals per edge case; NULL rows exercise definition levels.
const DUCK_COLUMNS = [
  ['c_bool', 'BOOLEAN'], ['c_i8', 'TINYINT'], ['c_i16', 'SMALLINT'], ['c_i32', 'INTEGER'],
  ['c_i64', 'BIGINT'], ['c_u8', 'UTINYINT'], ['c_u16', 'USMALLINT'], ['c_u32', 'UINTEGER'],
  ['c_u64', 'UBIGINT'], ['c_f32', 'FLOAT'], ['c_f64', 'DOUBLE'], ['c_str', 'VARCHAR'],
  ['c_bin', 'BLOB'], ['c_date', 'DATE'], ['c_ts', 'TIMESTAMP'], ['c_tstz', 'TIMESTAMPTZ'],
  ['c_ts_ms', 'TIMESTAMP_MS'], ['c_ts_ns', 'TIMESTAMP_NS'], ['c_time', 'TIME'],
  ['c_dec4', 'DECIMAL(4,2)'], ['c_dec9', 'DECIMAL(9,0)'], ['c_dec18', 'DECIMAL(18,6)'],
  ['c_dec38', 'DECIMAL(38,10)'], ['c_uuid', 'UUID'],
];
const DUCK_ROWS = [
  ['true', '-128', '-32768', '-2147483648', '-9223372036854775808', '0', '0', '0', '0',
    "'NaN'", "'-Infinity'", "''", "''::BLOB", "'0001-01-01'", "'0001-01-01 00:00:00'",
    "'1969-12-31 23:59:59.999999+00'", "'1900-01-01 00:00:00.001'", "'1677-09-22 00:00:00.000000001'",
    "'00:00:00'", '-99.99', '-999999999', '-999999999999.999999',
    '-9999999999999999999999999999.9999999999', "'00000000-0000-0000-0000-000000000000'"],
  ['false', '127', '32767', '2147483647', '9223372036854775807', '255', '65535', '4294967295',
    '18446744073709551615', "'Infinity'", "'NaN'", "'héllo \"wörld\"\\n\t☃ 𝄞'",
    "'\\x00\\xFF\\x80abc'::BLOB", "'9999-12-31'", "'9999-12-31 23:59:59.999999'",
    "'2262-04-11 23:47:16.854775+00'", "'2024-02-29 12:34:56.789'", "'2262-04-11 23:47:16.854775806'",
    "'23:59:59.999999'", '99.99', '999999999', '999999999999.999999',
    '9999999999999999999999999999.9999999999', "'ffffffff-ffff-ffff-ffff-ffffffffffff'"],
  ['NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL',
    'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL'],
  ['true', '0', '0', '0', '0', '1', '1', '1', '1', "'-0.0'", "'-0.0'", "'a'", "'\\x00'::BLOB",
    "'1970-01-01'", "'1970-01-01 00:00:00'", "'1970-01-01 00:00:00+00'", "'1970-01-01 00:00:00'",
    "'1970-01-01 00:00:00'", "'12:00:00.5'", '0.00', '0', '0.000001', '-0.0000000001',
    "'123e4567-e89b-12d3-a456-426614174000'"],
  ['false', '-1', '-1', '-1', '-1', '128', '32768', '2147483648', '9223372036854775808',
    '3.4028235e38', '1.7976931348623157e308', "'x'", "'\\x01\\x02'::BLOB", "'1969-12-31'",
    "'1969-12-31 23:59:59.999999'", "'2000-02-29 01:02:03.000004+00'", "'1969-12-31 23:59:59.999'",
    "'1969-12-31 23:59:59.999999999'", "'00:00:00.000001'", '-0.01', '-1', '-0.000001',
    '0.0000000001', "'01234567-89ab-cdef-0123-456789abcdef'"],
  ['true', '1', '1', '1', '1', '2', '2', '2', '2', '1.4e-45', '5e-324', "'\\u0001 ctl \\u007f'",
    "'\\xDE\\xAD\\xBE\\xEF'::BLOB", "'2000-02-29'", "'2000-02-29 12:00:00.000001'",
    "'2024-06-30 23:59:59.5+00'", "'2000-01-01 00:00:00.5'", "'2000-01-01 00:00:00.000000500'",
    "'06:30:15.25'", '0.10', '12345', '123.456789', '1.5', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"],
];

// Filler rows so pages, dictionaries and several row groups get exercised.
function duckFiller() {
  return `SELECT (i % 3 = 0)::BOOLEAN, (i % 100)::TINYINT, (i * 7)::SMALLINT, (i * 7919)::INTEGER,
    (i * 1000003 - 5000000000)::BIGINT, (i % 256)::UTINYINT, (i % 60000)::USMALLINT,
    (i * 99991)::UINTEGER, (i * 12345678901)::UBIGINT, (i / 7.0)::FLOAT, (i / 3.0)::DOUBLE,
    CASE WHEN i % 5 = 0 THEN NULL ELSE 'row ' || (i % 17)::VARCHAR END,
    CASE WHEN i % 4 = 0 THEN NULL ELSE ('\\x' || lpad(to_hex(i % 256), 2, '0'))::BLOB END,
    DATE '2000-01-01' + i::INTEGER, TIMESTAMP '2020-01-01' + to_microseconds(i * 1000003),
    TIMESTAMPTZ '2020-01-01 00:00:00+00' + to_seconds(i * 3601),
    (TIMESTAMP '2020-01-01' + to_milliseconds(i * 17))::TIMESTAMP_MS,
    (TIMESTAMP '2020-01-01' + to_microseconds(i * 13))::TIMESTAMP_NS,
    TIME '00:00:00' + to_microseconds(i * 1000001), (i % 9999 - 5000) / 100,
    i * 3 - 1000, (i * 1234567) / 1000000, (i * 98765432109) / 10000000000,
    CASE WHEN i % 7 = 0 THEN NULL ELSE ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::UUID END
    FROM range(1, 1000) t(i)`;
}

async function duckFixtures() {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads: '1',
  });
  const con = await inst.connect();
  await con.run(`SET TimeZone = 'UTC'`);
  const cols = DUCK_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ');
  await con.run(`CREATE TABLE t (${cols})`);
  for (const row of DUCK_ROWS) {
    const vals = row.map((v, i) => `(${v})::${DUCK_COLUMNS[i][1]}`).join(', ');
    await con.run(`INSERT INTO t VALUES (${vals})`);
  }
  await con.run(`INSERT INTO t ${duckFiller()}`);
  // Codecs DuckDB writes, a data page v2 + delta-encoding variant and Parquet
  // field ids, which merutable relies on (Iceberg column ids).
  const configs = [
    ['zstd_fieldids', `COMPRESSION zstd, FIELD_IDS 'auto'`],
    ['snappy_v2', 'COMPRESSION snappy, PARQUET_VERSION v2'],
    ['uncompressed', 'COMPRESSION uncompressed'],
    ['gzip', 'COMPRESSION gzip'],
    ['brotli', 'COMPRESSION brotli'],
    ['lz4raw', 'COMPRESSION lz4_raw'],
  ];
  const written = [];
  for (const [label, options] of configs) {
    const path = join(outdir, `duckdb_types_${label}.parquet`);
    await con.run(`COPY (SELECT * FROM t) TO '${path.replaceAll("'", "''")}' (FORMAT parquet, ${options})`);
    written.push(path);
  }
  return written;
}

// ------------------------------------------------- parquet-wasm (arrow-rs)

async function arrowFixtures() {
  const arrow = await import('apache-arrow');
  const pw = await import('parquet-wasm');
  const n = 1000;
  const pick = (i, specials, gen) => (i < specials.length ? specials[i] : gen(i));
  const nullEvery = (k, f) => i => (i % k === 0 ? null : f(i));
  const cols = {
    a_bool: [new arrow.Bool(), i => pick(i, [true, false, null], nullEvery(11, j => j % 2 === 0))],
    a_i8: [new arrow.Int8(), i => pick(i, [-128, 127, null], j => (j % 256) - 128)],
    a_i16: [new arrow.Int16(), i => pick(i, [-32768, 32767, null], j => (j * 37 % 65536) - 32768)],
    a_i32: [new arrow.Int32(), i => pick(i, [-2147483648, 2147483647, null], j => j * 104729 % 2147483647)],
    a_i64: [new arrow.Int64(), i => pick(i, [-(2n ** 63n), 2n ** 63n - 1n, null], j => BigInt(j) * 3000000019n - 7n)],
    a_u8: [new arrow.Uint8(), i => pick(i, [0, 255, null], j => j % 256)],
    a_u16: [new arrow.Uint16(), i => pick(i, [0, 65535, null], j => j * 31 % 65536)],
    a_u32: [new arrow.Uint32(), i => pick(i, [0, 4294967295, null], j => (j * 2654435761) % 4294967296)],
    a_u64: [new arrow.Uint64(), i => pick(i, [0n, 2n ** 64n - 1n, null], j => BigInt(j) * 11400714819323198485n % (2n ** 64n))],
    a_f16: [new arrow.Float16(), i => { const v = pick(i, [NaN, -0, Infinity, null, 65504, 2 ** -24, -(2 ** -14)], j => (j % 2000) / 8 - 100); return v === null ? null : half(v); }],
    a_f32: [new arrow.Float32(), i => pick(i, [NaN, -0, -Infinity, null, 3.4028234663852886e38, 1.401298464324817e-45], j => Math.fround(j / 3))],
    a_f64: [new arrow.Float64(), i => pick(i, [NaN, -0, Infinity, null, Number.MAX_VALUE, 5e-324, 0.1, 1e21, 1e-7], j => j / 7)],
    a_str: [new arrow.Utf8(), i => pick(i, ['', 'héllo', null, '\u0000\u001f"\\', '😀 𝄞 ☃'], nullEvery(9, j => `s${j % 50}`))],
    a_bin: [new arrow.Binary(), i => pick(i, [new Uint8Array(0), new Uint8Array([0, 255]), null], nullEvery(13, j => new Uint8Array([j & 255, j >> 8])))],
    a_fixed: [new arrow.FixedSizeBinary(3), i => pick(i, [new Uint8Array([0, 0, 0]), null], j => new Uint8Array([j & 255, (j >> 8) & 255, 7]))],
    a_date: [new arrow.DateDay(), i => pick(i, [-719162, 2932896, null, -1], j => j * 37 - 20000)],
    a_ts_us: [new arrow.TimestampMicrosecond(), i => pick(i, [-62135596800000000n, 253402300799999999n, null, -1n], j => BigInt(j) * 1234567891n - 10n ** 15n)],
    a_ts_us_utc: [new arrow.TimestampMicrosecond('UTC'), i => pick(i, [0n, null, -1n], j => BigInt(j) * 987654321n)],
    a_ts_ms: [new arrow.TimestampMillisecond(), i => pick(i, [-1n, null], j => BigInt(j) * 86399999n)],
    // DuckDB cannot render statistics within a day of the int64 nanosecond range ends.
    a_ts_ns: [new arrow.TimestampNanosecond(), i => pick(i, [-9223285636854775807n, 9223285636854775807n, null, -1n], j => BigInt(j) * 123456789123n)],
    // DuckDB reads UTC-adjusted nanoseconds as microseconds: keep these whole microseconds.
    a_ts_ns_utc: [new arrow.TimestampNanosecond('+00:00'), i => pick(i, [-9223372036854775000n, 9223372036854775000n, null, -1000n], j => BigInt(j) * 123456789000n)],
    a_time_ms: [new arrow.TimeMillisecond(), i => pick(i, [0, 86399999, null], j => j * 34567 % 86400000)],
    a_time_us: [new arrow.TimeMicrosecond(), i => pick(i, [0n, 86399999999n, null], j => BigInt(j) * 34567891n % 86400000000n)],
    // DuckDB 1.5.5 reads TIME(NANOS) as microseconds: keep these whole microseconds.
    a_time_ns: [new arrow.TimeNanosecond(), i => pick(i, [0n, 86399999999000n, null], j => BigInt(j) * 34567891n % 86400000000n * 1000n)],
    a_dec5: [new arrow.Decimal(2, 5, 128), i => pick(i, [-99999n, 99999n, null, -1n], j => BigInt(j * 7 % 199999 - 99999))],
    a_dec15: [new arrow.Decimal(0, 15, 128), i => pick(i, [-(10n ** 15n) + 1n, 10n ** 15n - 1n, null], j => BigInt(j) * 400000000009n % (10n ** 15n))],
    a_dec38: [new arrow.Decimal(38, 38, 128), i => pick(i, [-(10n ** 38n) + 1n, 10n ** 38n - 1n, null, 1n], j => BigInt(j) * 10n ** 30n + 17n)],
  };
  const vectors = {};
  for (const name of Object.keys(cols)) {
    const [type, gen] = cols[name];
    vectors[name] = rawVector(arrow, type, Array.from({ length: n }, (_, i) => gen(i)));
  }
  const table = new arrow.Table(vectors);
  const written = [];
  const E = pw.Encoding;
  const configs = [
    ['plain_snappy', b => b.setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(false)],
    ['dict_zstd_v2', b => b.setCompression(pw.Compression.ZSTD).setWriterVersion(pw.WriterVersion.V2)
      .setMaxRowGroupSize(400).setDataPageSizeLimit(1024)],
    ['gzip_v1', b => b.setCompression(pw.Compression.GZIP).setMaxRowGroupSize(333)],
    ['brotli', b => b.setCompression(pw.Compression.BROTLI)],
    // Non-default encodings, column by column (DuckDB reads BYTE_STREAM_SPLIT
    // only for FLOAT and DOUBLE).
    ['encodings_lz4raw', b => {
      b = b.setCompression(pw.Compression.LZ4_RAW).setDataPageSizeLimit(4096);
      const enc = {
        a_i8: E.DELTA_BINARY_PACKED, a_i32: E.DELTA_BINARY_PACKED, a_i64: E.DELTA_BINARY_PACKED,
        a_u64: E.DELTA_BINARY_PACKED, a_date: E.DELTA_BINARY_PACKED, a_ts_us: E.DELTA_BINARY_PACKED,
        a_dec15: E.DELTA_BINARY_PACKED, a_str: E.DELTA_BYTE_ARRAY, a_bin: E.DELTA_LENGTH_BYTE_ARRAY,
        a_f32: E.BYTE_STREAM_SPLIT, a_f64: E.BYTE_STREAM_SPLIT, a_bool: E.RLE,
      };
      for (const [col, e] of Object.entries(enc)) b = b.setColumnDictionaryEnabled(col, false).setColumnEncoding(col, e);
      return b;
    }],
  ];
  for (const [label, conf] of configs) {
    const ipc = arrow.tableToIPC(table, 'stream');
    const wasmTable = pw.Table.fromIPCStream(ipc);
    const props = conf(new pw.WriterPropertiesBuilder()).build();
    const bytes = pw.writeParquet(wasmTable, props);
    const path = join(outdir, `arrow_types_${label}.parquet`);
    writeFileSync(path, bytes);
    written.push(path);
  }
  return written;
}

// Builds an Arrow vector from raw values in the type's storage unit (days,
// bigint counts of the time unit, unscaled bigint decimals, float16 bit
// patterns), bypassing apache-arrow's builders, which take dates and
// timestamps as JS milliseconds.
function rawVector(arrow, type, values) {
  const { Type } = arrow;
  const n = values.length;
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  values.forEach((v, i) => { if (v === null) nullCount++; else nullBitmap[i >> 3] |= 1 << (i & 7); });
  const props = { type, offset: 0, length: n, nullCount, nullBitmap };
  switch (type.typeId) {
    case Type.Bool: {
      const data = new Uint8Array((n + 7) >> 3);
      values.forEach((v, i) => { if (v) data[i >> 3] |= 1 << (i & 7); });
      return arrow.makeVector(arrow.makeData({ ...props, data }));
    }
    case Type.Utf8: case Type.Binary: {
      const enc = new TextEncoder();
      const parts = values.map(v => (v === null ? new Uint8Array(0) : typeof v === 'string' ? enc.encode(v) : v));
      const valueOffsets = new Int32Array(n + 1);
      parts.forEach((p, i) => { valueOffsets[i + 1] = valueOffsets[i] + p.length; });
      const data = new Uint8Array(valueOffsets[n]);
      parts.forEach((p, i) => data.set(p, valueOffsets[i]));
      return arrow.makeVector(arrow.makeData({ ...props, valueOffsets, data }));
    }
    case Type.FixedSizeBinary: {
      const w = type.byteWidth;
      const data = new Uint8Array(n * w);
      values.forEach((v, i) => { if (v !== null) data.set(v, i * w); });
      return arrow.makeVector(arrow.makeData({ ...props, data }));
    }
    case Type.Decimal: {
      const data = new Uint32Array(n * 4);
      values.forEach((v, i) => {
        let x = BigInt.asUintN(128, v ?? 0n);
        for (let k = 0; k < 4; k++) { data[i * 4 + k] = Number(x & 0xffffffffn); x >>= 32n; }
      });
      return arrow.makeVector(arrow.makeData({ ...props, data }));
    }
    default: {
      const data = new type.ArrayType(n);
      const zero = data instanceof BigInt64Array || data instanceof BigUint64Array ? 0n : 0;
      values.forEach((v, i) => { data[i] = v ?? zero; });
      return arrow.makeVector(arrow.makeData({ ...props, data }));
    }
  }
}

// Bit pattern of a float16 for values it represents exactly.
function half(x) {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  x = Math.abs(x);
  if (x === Infinity) return sign | 0x7c00;
  if (x === 0) return sign;
  let e = Math.floor(Math.log2(x));
  if (e < -14) return sign | Math.round(x / 2 ** -24);
  const frac = (x / 2 ** e - 1) * 1024;
  if (!Number.isInteger(frac) || e > 15) throw new Error(`${x} is not a float16`);
  return sign | ((e + 15) << 10) | frac;
}

const paths = [...await duckFixtures(), ...await arrowFixtures()];
process.stdout.write(paths.join('\n') + '\n');
