#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Checks of the harness against oracles that do not come from the harness:
// the *_expect.csv listings shipped with parquet-testing, rows whose
// canonical text was worked out by hand from the values the fixtures insert
// (make_fixtures.mjs), footer facts the parquet-testing files are documented
// to have, and an Avro container round trip through avsc. The three-reader
// agreement itself is diffed by tests/cli/test_interop_selfcheck.sh, which
// runs this after it.
//
//   node selfcheck.mjs <parquet-testing/data> <fixtures-dir> <outputs-dir>
//
// <outputs-dir>/<reader>/<file>.jsonl are read_parquet.mjs --out-dir outputs.
// Prints one "ok"/"not ok" line per check and exits 1 if any failed.

import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [dataDir, fixDir, outDir] = process.argv.slice(2);
if (!outDir) {
  process.stderr.write('usage: node selfcheck.mjs <parquet-testing/data> <fixtures-dir> <outputs-dir>\n');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    process.stdout.write(`ok - ${name}\n`);
  } catch (e) {
    failed++;
    process.stdout.write(`not ok - ${name}: ${e?.message ?? e}\n`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

function lines(reader, file) {
  const p = join(outDir, reader, file + '.jsonl');
  assert(existsSync(p), `no output ${p}`);
  return readFileSync(p, 'utf8').split('\n').filter(l => l !== '');
}

// ------------------------------------------------ parquet-testing oracles

// RFC 4180 with one extension the files rely on: an unquoted empty field
// is a null, a quoted empty one an empty string.
function parseCsv(text) {
  const rows = [];
  let row = [];
  let i = 0;
  while (i < text.length) {
    let v;
    if (text[i] === '"') {
      v = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quote');
        if (text[i] === '"') {
          if (text[i + 1] === '"') { v += '"'; i += 2; continue; }
          i++;
          break;
        }
        v += text[i++];
      }
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
      v = j === i ? null : text.slice(i, j);
      i = j;
    }
    row.push(v);
    if (text[i] === ',') { i++; continue; }
    if (text[i] === '\r') i++;
    if (text[i] === '\n' || i >= text.length) { rows.push(row); row = []; i++; }
  }
  return rows;
}

for (const base of ['delta_binary_packed', 'delta_byte_array', 'delta_encoding_optional_column',
  'delta_encoding_required_column']) {
  check(`${base}.parquet matches ${base}_expect.csv`, () => {
    const csv = parseCsv(readFileSync(join(dataDir, `${base}_expect.csv`), 'utf8'));
    const header = csv.shift();
    const got = lines('duckdb', `${base}.parquet`);
    eq(got.length, csv.length, 'row count');
    got.forEach((l, r) => {
      const vals = Object.values(JSON.parse(l)).map(v => (v === null ? null : String(v)));
      eq(vals.length, header.length, `row ${r} width`);
      vals.forEach((v, c) => {
        if (v !== csv[r][c]) throw new Error(`row ${r} column ${header[c]}: got ${JSON.stringify(v)}, want ${JSON.stringify(csv[r][c])}`);
      });
    });
  });
}

// The documented contents of alltypes_plain.parquet (the Impala test table):
// ids 4,5,6,7,2,3,0,1; odd ids hold 1/10/1.1/10.1, even ones zeros; the
// string columns are unannotated BYTE_ARRAY, so binary; INT96 timestamps.
check('alltypes_plain.parquet has its documented rows', () => {
  const ids = [4, 5, 6, 7, 2, 3, 0, 1];
  const dates = ['03/01/09', '03/01/09', '04/01/09', '04/01/09', '02/01/09', '02/01/09', '01/01/09', '01/01/09'];
  const times = ['2009-03-01T00:00', '2009-03-01T00:01', '2009-04-01T00:00', '2009-04-01T00:01',
    '2009-02-01T00:00', '2009-02-01T00:01', '2009-01-01T00:00', '2009-01-01T00:01'];
  const hex = s => Buffer.from(s).toString('hex');
  const want = ids.map((id, i) => {
    const odd = id % 2;
    return `{"id":${id},"bool_col":${!odd},"tinyint_col":${odd},"smallint_col":${odd},"int_col":${odd},` +
      `"bigint_col":"${odd * 10}","float_col":${odd ? 1.1 : 0},"double_col":${odd ? 10.1 : 0},` +
      `"date_string_col":"hex:${hex(dates[i])}","string_col":"hex:${hex(String(odd))}",` +
      `"timestamp_col":"${times[i]}:00.000000000"}`;
  });
  for (const reader of ['duckdb', 'parquet-wasm', 'hyparquet']) eq(lines(reader, 'alltypes_plain.parquet'), want, reader);
});

check('int32/int64/byte_array/fixed_length decimals read 1.00 .. 24.00', () => {
  const want = Array.from({ length: 24 }, (_, i) => `{"value":"${i + 1}.00"}`);
  for (const f of ['int32_decimal', 'int64_decimal', 'byte_array_decimal', 'fixed_length_decimal', 'fixed_length_decimal_legacy']) {
    eq(lines('hyparquet', `${f}.parquet`), want, f);
  }
});

// ------------------------------------------ hand-checked fixture rows

// The first rows make_fixtures.mjs inserts through DuckDB, as canonical text.
const DUCK_HEAD = [
  '{"c_bool":true,"c_i8":-128,"c_i16":-32768,"c_i32":-2147483648,"c_i64":"-9223372036854775808","c_u8":0,"c_u16":0,"c_u32":0,"c_u64":"0","c_f32":"NaN","c_f64":"-Infinity","c_str":"","c_bin":"hex:","c_date":"0001-01-01","c_ts":"0001-01-01T00:00:00.000000","c_tstz":"1969-12-31T23:59:59.999999Z","c_ts_ms":"1900-01-01T00:00:00.001000","c_ts_ns":"1677-09-22T00:00:00.000000001","c_time":"00:00:00.000000","c_dec4":"-99.99","c_dec9":"-999999999","c_dec18":"-999999999999.999999","c_dec38":"-9999999999999999999999999999.9999999999","c_uuid":"hex:00000000000000000000000000000000"}',
  '{"c_bool":false,"c_i8":127,"c_i16":32767,"c_i32":2147483647,"c_i64":"9223372036854775807","c_u8":255,"c_u16":65535,"c_u32":4294967295,"c_u64":"18446744073709551615","c_f32":"Infinity","c_f64":"NaN","c_str":"héllo \\"wörld\\"\\\\n\\t☃ 𝄞","c_bin":"hex:00ff80616263","c_date":"9999-12-31","c_ts":"9999-12-31T23:59:59.999999","c_tstz":"2262-04-11T23:47:16.854775Z","c_ts_ms":"2024-02-29T12:34:56.789000","c_ts_ns":"2262-04-11T23:47:16.854775806","c_time":"23:59:59.999999","c_dec4":"99.99","c_dec9":"999999999","c_dec18":"999999999999.999999","c_dec38":"9999999999999999999999999999.9999999999","c_uuid":"hex:ffffffffffffffffffffffffffffffff"}',
  '{"c_bool":null,"c_i8":null,"c_i16":null,"c_i32":null,"c_i64":null,"c_u8":null,"c_u16":null,"c_u32":null,"c_u64":null,"c_f32":null,"c_f64":null,"c_str":null,"c_bin":null,"c_date":null,"c_ts":null,"c_tstz":null,"c_ts_ms":null,"c_ts_ns":null,"c_time":null,"c_dec4":null,"c_dec9":null,"c_dec18":null,"c_dec38":null,"c_uuid":null}',
  '{"c_bool":true,"c_i8":0,"c_i16":0,"c_i32":0,"c_i64":"0","c_u8":1,"c_u16":1,"c_u32":1,"c_u64":"1","c_f32":"-0","c_f64":"-0","c_str":"a","c_bin":"hex:00","c_date":"1970-01-01","c_ts":"1970-01-01T00:00:00.000000","c_tstz":"1970-01-01T00:00:00.000000Z","c_ts_ms":"1970-01-01T00:00:00.000000","c_ts_ns":"1970-01-01T00:00:00.000000000","c_time":"12:00:00.500000","c_dec4":"0.00","c_dec9":"0","c_dec18":"0.000001","c_dec38":"-0.0000000001","c_uuid":"hex:123e4567e89b12d3a456426614174000"}',
  '{"c_bool":false,"c_i8":-1,"c_i16":-1,"c_i32":-1,"c_i64":"-1","c_u8":128,"c_u16":32768,"c_u32":2147483648,"c_u64":"9223372036854775808","c_f32":3.4028235e+38,"c_f64":1.7976931348623157e+308,"c_str":"x","c_bin":"hex:0102","c_date":"1969-12-31","c_ts":"1969-12-31T23:59:59.999999","c_tstz":"2000-02-29T01:02:03.000004Z","c_ts_ms":"1969-12-31T23:59:59.999000","c_ts_ns":"1969-12-31T23:59:59.999999999","c_time":"00:00:00.000001","c_dec4":"-0.01","c_dec9":"-1","c_dec18":"-0.000001","c_dec38":"0.0000000001","c_uuid":"hex:0123456789abcdef0123456789abcdef"}',
  '{"c_bool":true,"c_i8":1,"c_i16":1,"c_i32":1,"c_i64":"1","c_u8":2,"c_u16":2,"c_u32":2,"c_u64":"2","c_f32":1e-45,"c_f64":5e-324,"c_str":"\\\\u0001 ctl \\\\u007f","c_bin":"hex:deadbeef","c_date":"2000-02-29","c_ts":"2000-02-29T12:00:00.000001","c_tstz":"2024-06-30T23:59:59.500000Z","c_ts_ms":"2000-01-01T00:00:00.500000","c_ts_ns":"2000-01-01T00:00:00.000000500","c_time":"06:30:15.250000","c_dec4":"0.10","c_dec9":"12345","c_dec18":"123.456789","c_dec38":"1.5000000000","c_uuid":"hex:a0eebc999c0b4ef8bb6d6bb9bd380a11"}',
];

// The first rows make_fixtures.mjs builds as Arrow data and writes through arrow-rs.
const ARROW_HEAD = [
  '{"a_bool":true,"a_i8":-128,"a_i16":-32768,"a_i32":-2147483648,"a_i64":"-9223372036854775808","a_u8":0,"a_u16":0,"a_u32":0,"a_u64":"0","a_f16":"NaN","a_f32":"NaN","a_f64":"NaN","a_str":"","a_bin":"hex:","a_fixed":"hex:000000","a_date":"0001-01-01","a_ts_us":"0001-01-01T00:00:00.000000","a_ts_us_utc":"1970-01-01T00:00:00.000000Z","a_ts_ms":"1969-12-31T23:59:59.999000","a_ts_ns":"1677-09-22T00:12:43.145224193","a_ts_ns_utc":"1677-09-21T00:12:43.145225000Z","a_time_ms":"00:00:00.000000","a_time_us":"00:00:00.000000","a_time_ns":"00:00:00.000000000","a_dec5":"-999.99","a_dec15":"-999999999999999","a_dec38":"-0.99999999999999999999999999999999999999"}',
  '{"a_bool":false,"a_i8":127,"a_i16":32767,"a_i32":2147483647,"a_i64":"9223372036854775807","a_u8":255,"a_u16":65535,"a_u32":4294967295,"a_u64":"18446744073709551615","a_f16":"-0","a_f32":"-0","a_f64":"-0","a_str":"héllo","a_bin":"hex:00ff","a_fixed":null,"a_date":"9999-12-31","a_ts_us":"9999-12-31T23:59:59.999999","a_ts_us_utc":null,"a_ts_ms":null,"a_ts_ns":"2262-04-10T23:47:16.854775807","a_ts_ns_utc":"2262-04-11T23:47:16.854775000Z","a_time_ms":"23:59:59.999000","a_time_us":"23:59:59.999999","a_time_ns":"23:59:59.999999000","a_dec5":"999.99","a_dec15":"999999999999999","a_dec38":"0.99999999999999999999999999999999999999"}',
  '{"a_bool":null,"a_i8":null,"a_i16":null,"a_i32":null,"a_i64":null,"a_u8":null,"a_u16":null,"a_u32":null,"a_u64":null,"a_f16":"Infinity","a_f32":"-Infinity","a_f64":"Infinity","a_str":null,"a_bin":null,"a_fixed":"hex:020007","a_date":null,"a_ts_us":null,"a_ts_us_utc":"1969-12-31T23:59:59.999999Z","a_ts_ms":"1970-01-02T23:59:59.998000","a_ts_ns":null,"a_ts_ns_utc":null,"a_time_ms":null,"a_time_us":null,"a_time_ns":null,"a_dec5":null,"a_dec15":null,"a_dec38":null}',
  '{"a_bool":false,"a_i8":-125,"a_i16":-32657,"a_i32":314187,"a_i64":"9000000050","a_u8":3,"a_u16":93,"a_u32":3668339987,"a_u64":"15755400384260043839","a_f16":null,"a_f32":null,"a_f64":null,"a_str":"\\u0000\\u001f\\"\\\\","a_bin":"hex:0300","a_fixed":"hex:030007","a_date":"1969-12-31","a_ts_us":"1969-12-31T23:59:59.999999","a_ts_us_utc":"1970-01-01T00:49:22.962963Z","a_ts_ms":"1970-01-03T23:59:59.997000","a_ts_ns":"1969-12-31T23:59:59.999999999","a_ts_ns_utc":"1969-12-31T23:59:59.999999000Z","a_time_ms":"00:01:43.701000","a_time_us":"00:01:43.703673","a_time_ns":"00:01:43.703673000","a_dec5":"-0.01","a_dec15":"1200000000027","a_dec38":"0.00000000000000000000000000000000000001"}',
];

const fixtures = readFileSync(join(fixDir, 'list.txt'), 'utf8').split('\n').filter(Boolean).map(p => p.split('/').pop());
for (const f of fixtures) {
  const head = f.startsWith('duckdb_') ? DUCK_HEAD : ARROW_HEAD;
  check(`${f}: first rows are the values inserted`, () => {
    const got = lines('hyparquet', f);
    eq(got.length, f.startsWith('duckdb_') ? 1005 : 1000, 'row count');
    eq(got.slice(0, head.length), head, 'head');
  });
}

// ---------------------------------------------------------- parquet_meta

function meta(file, ...args) {
  const out = execFileSync(process.execPath, [join(here, 'parquet_meta.mjs'), file, '--compact', ...args],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out);
}
const allColumns = m => m.row_groups.flatMap(g => g.columns);
const column = (m, path) => {
  const c = allColumns(m).filter(x => x.path === path);
  assert(c.length, `no column chunk ${path}`);
  return c;
};

check('parquet_meta: codecs, schema and row counts of alltypes_plain.snappy.parquet', () => {
  const m = meta(join(dataDir, 'alltypes_plain.snappy.parquet'));
  eq(m.file.num_rows, 2, 'num_rows');
  eq(m.schema.length, 12, 'schema elements');
  eq([...new Set(allColumns(m).map(c => c.codec))], ['SNAPPY'], 'codecs');
  eq(m.schema.find(s => s.name === 'timestamp_col').physical_type, 'INT96', 'timestamp_col type');
});

check('parquet_meta: bloom filter, page index and probes of data_index_bloom_encoding_stats.parquet', () => {
  const m = meta(join(dataDir, 'data_index_bloom_encoding_stats.parquet'),
    '--bloom-probe', 'String', 'Hello', '--bloom-probe', 'String', 'not in the file');
  const [c] = column(m, 'String');
  assert(c.bloom_filter && c.bloom_filter.offset > 0, 'bloom filter missing');
  assert(c.column_index && c.offset_index, 'page index missing');
  eq(c.statistics.min_value, 'Hello', 'min_value');
  eq(c.statistics.max_value, 'today', 'max_value');
  eq(m.bloom_probes.map(p => p.row_groups[0].excludes), [false, true], 'probes');
});

check('parquet_meta: page counts of alltypes_tiny_pages_plain.parquet', () => {
  const m = meta(join(dataDir, 'alltypes_tiny_pages_plain.parquet'));
  const [c] = column(m, 'id');
  assert(c.offset_index && c.pages > 100, `expected many pages, got ${c.pages}`);
});

check('parquet_meta: delta encodings of delta_binary_packed.parquet', () => {
  const m = meta(join(dataDir, 'delta_binary_packed.parquet'));
  eq(allColumns(m).length, 66, 'column chunks');
  for (const c of allColumns(m)) {
    assert(c.encodings.includes('DELTA_BINARY_PACKED'), `${c.path}: ${c.encodings}`);
  }
});

check('parquet_meta: field ids, logical types and codec of the DuckDB fixture', () => {
  const m = meta(join(fixDir, 'duckdb_types_zstd_fieldids.parquet'));
  const leaves = m.schema.slice(1);
  eq(leaves.map(s => s.field_id), leaves.map((_, i) => i), 'field ids');
  eq(leaves.find(s => s.name === 'c_dec38').logical_type, 'DecimalType(scale=10, precision=38)', 'c_dec38');
  eq(leaves.find(s => s.name === 'c_dec38').physical_type, 'FIXED_LEN_BYTE_ARRAY', 'c_dec38 physical');
  eq(leaves.find(s => s.name === 'c_uuid').logical_type, 'UUIDType()', 'c_uuid');
  eq(m.row_groups.reduce((n, g) => n + g.num_rows, 0), 1005, 'rows');
  eq([...new Set(allColumns(m).map(c => c.codec))], ['ZSTD'], 'codecs');
  eq(column(m, 'c_i64')[0].statistics.min_value, '-9223372036854775808', 'c_i64 min');
});

check('parquet_meta: per-column encodings of the arrow-rs fixture', () => {
  const m = meta(join(fixDir, 'arrow_types_encodings_lz4raw.parquet'));
  const want = { a_i64: 'DELTA_BINARY_PACKED', a_str: 'DELTA_BYTE_ARRAY', a_bin: 'DELTA_LENGTH_BYTE_ARRAY',
    a_f64: 'BYTE_STREAM_SPLIT', a_i16: 'RLE_DICTIONARY' };
  for (const [path, enc] of Object.entries(want)) {
    const c = column(m, path)[0];
    assert(c.encodings.includes(enc), `${path}: ${c.encodings}`);
  }
  eq([...new Set(allColumns(m).map(c => c.codec))], ['LZ4_RAW'], 'codecs');
  assert(allColumns(m).every(c => c.column_index && c.offset_index), 'page index missing');
  eq(m.schema.find(s => s.name === 'a_ts_us_utc').logical_type,
    'TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))', 'a_ts_us_utc');
  eq(m.schema.find(s => s.name === 'a_u64').logical_type, 'IntType(bitWidth=64, isSigned=0)', 'a_u64');
  const s = column(m, 'a_i32')[0].statistics;
  eq([s.min_value, s.max_value, s.null_count], ['-2147483648', '2147483647', 1], 'a_i32 statistics');
});

// ----------------------------------------------------------------- avsc

check('avsc: deflate Avro container round trip of a manifest-like record', () => {
  const avro = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import avro from 'avsc';
    import { createWriteStream } from 'node:fs';
    import { once } from 'node:events';
    const schema = { type: 'record', name: 'manifest_entry', fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: ['null', 'long'], default: null, 'field-id': 1 },
      { name: 'data_file', type: { type: 'record', name: 'r2', fields: [
        { name: 'file_path', type: 'string', 'field-id': 100 },
        { name: 'record_count', type: 'long', 'field-id': 103 },
        { name: 'lower_bounds', type: ['null', { type: 'array', items: { type: 'record', name: 'k126_v127',
          fields: [{ name: 'key', type: 'int' }, { name: 'value', type: 'bytes' }] } }], default: null },
      ] } },
    ] };
    const path = process.argv[1];
    const rows = [0, 1, 2].map(i => ({ status: i, snapshot_id: i ? 1234567890123 + i : null,
      data_file: { file_path: 'data/L0/' + i + '.parquet', record_count: 10 * i,
        lower_bounds: [{ key: 1, value: Buffer.from([i, 255]) }] } }));
    const enc = new avro.streams.BlockEncoder(schema, { codec: 'deflate', metadata: { 'format-version': Buffer.from('2') } });
    const file = createWriteStream(path);
    enc.pipe(file);
    rows.forEach(r => enc.write(r));
    enc.end();
    await once(file, 'close');
    const header = avro.extractFileHeader(path);
    const back = [];
    const dec = avro.createFileDecoder(path);
    dec.on('data', r => back.push(r));
    await once(dec, 'end');
    process.stdout.write(JSON.stringify({ codec: header.meta['avro.codec'].toString(),
      format: header.meta['format-version'].toString(), n: back.length,
      same: JSON.stringify(back) === JSON.stringify(rows) }));
  `, join(outDir, 'selfcheck.avro')], { encoding: 'utf8', cwd: here });
  eq(JSON.parse(avro), { codec: 'deflate', format: '2', n: 3, same: true }, 'round trip');
});

process.stdout.write(`interop selfcheck: ${passed} passed, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
