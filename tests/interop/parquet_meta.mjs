#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Prints what an independent reader sees in a Parquet file's footer, as JSON,
// so C tests can assert that the schema, encodings, codecs, statistics,
// bloom filters and page indexes merutable claims to write are really there.
//
//   node parquet_meta.mjs <file> [--compact] [--bloom-probe <column> <value>]...
//
// Source of each field: DuckDB's parquet_file_metadata(), parquet_schema(),
// parquet_metadata() and parquet_bloom_probe() for everything except the page
// index, which DuckDB does not report: its presence and page count come from
// hyparquet's footer parse and its reading of the OffsetIndex/ColumnIndex.
// Numbers are JSON numbers (offsets and counts fit in a double); statistics
// are the strings DuckDB renders for them. Output layout: README.md.
// Exit status: 0 ok, 1 a reader failed, 2 usage.

import { readFileSync } from 'node:fs';

function usage(msg) {
  if (msg) process.stderr.write(`parquet_meta: ${msg}\n`);
  process.stderr.write('usage: node parquet_meta.mjs <file> [--compact] [--bloom-probe <column> <value>]...\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let file = null;
let compact = false;
const probes = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--compact') compact = true;
  else if (args[i] === '--bloom-probe') {
    if (i + 2 >= args.length) usage('--bloom-probe needs <column> <value>');
    probes.push([args[i + 1], args[i + 2]]);
    i += 2;
  } else if (args[i].startsWith('--')) usage(`unknown option ${args[i]}`);
  else if (file === null) file = args[i];
  else usage();
}
if (file === null) usage();

const num = v => (v === null || v === undefined ? null : Number(v));
const text = v => (v === null || v === undefined ? null : String(v));
const utf8 = new TextDecoder();
const blobText = v => (v === null || v === undefined ? null : (v.bytes ? utf8.decode(v.bytes) : String(v)));

// DuckDB prints IntType's bitWidth as a raw byte ("bitWidth=@" for 64).
function logicalType(s) {
  if (s === null || s === undefined) return null;
  return String(s).replace(/bitWidth=([\s\S])/, (_, c) => 'bitWidth=' + c.charCodeAt(0));
}

async function duck() {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads: '1',
  });
  const con = await inst.connect();
  const lit = s => `'${String(s).replaceAll("'", "''")}'`;
  const rows = async sql => (await con.runAndReadAll(sql)).getRowObjects();

  const [fm] = await rows(`SELECT created_by, num_rows, num_row_groups, format_version, file_size_bytes, footer_size
    FROM parquet_file_metadata(${lit(file)})`);
  const kv = {};
  for (const r of await rows(`SELECT key, value FROM parquet_kv_metadata(${lit(file)})`)) kv[blobText(r.key)] = blobText(r.value);

  const schema = (await rows(`SELECT name, type, type_length, repetition_type, num_children, converted_type,
      scale, precision, field_id, logical_type, duckdb_type FROM parquet_schema(${lit(file)})`)).map(r => ({
    name: text(r.name),
    physical_type: text(r.type),
    type_length: num(r.type_length),
    repetition: text(r.repetition_type),
    num_children: num(r.num_children),
    converted_type: text(r.converted_type),
    logical_type: logicalType(r.logical_type),
    scale: num(r.scale),
    precision: num(r.precision),
    field_id: num(r.field_id),
    duckdb_type: text(r.duckdb_type),
  }));

  const chunks = await rows(`SELECT row_group_id, row_group_num_rows, row_group_bytes, row_group_compressed_bytes,
      column_id, path_in_schema, type, num_values, compression, encodings,
      stats_min, stats_max, stats_min_value, stats_max_value, stats_null_count, stats_distinct_count,
      min_is_exact, max_is_exact, dictionary_page_offset, data_page_offset,
      total_compressed_size, total_uncompressed_size, bloom_filter_offset, bloom_filter_length
    FROM parquet_metadata(${lit(file)}) ORDER BY row_group_id, column_id`);

  const bloomProbes = [];
  for (const [column, value] of probes) {
    const res = await rows(`SELECT row_group_id, bloom_filter_excludes
      FROM parquet_bloom_probe(${lit(file)}, ${lit(column)}, ${lit(value)}) ORDER BY row_group_id`);
    bloomProbes.push({
      column, value,
      row_groups: res.map(r => ({ row_group: num(r.row_group_id), excludes: r.bloom_filter_excludes })),
    });
  }
  return { fm, kv, schema, chunks, bloomProbes };
}

// Page index presence and page counts, from hyparquet.
async function pageIndexes() {
  const { parquetMetadata, readOffsetIndex } = await import('hyparquet');
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const meta = parquetMetadata(ab);
  return meta.row_groups.map(rg => rg.columns.map(cc => {
    const out = {
      column_index: cc.column_index_offset !== undefined && cc.column_index_length > 0,
      offset_index: cc.offset_index_offset !== undefined && cc.offset_index_length > 0,
      pages: null,
    };
    if (out.offset_index) {
      const view = new DataView(ab, Number(cc.offset_index_offset), cc.offset_index_length);
      out.pages = readOffsetIndex({ view, offset: 0 }).page_locations.length;
    }
    return out;
  }));
}

try {
  const { fm, kv, schema, chunks, bloomProbes } = await duck();
  const pidx = await pageIndexes();
  const groups = [];
  for (const c of chunks) {
    const g = num(c.row_group_id);
    groups[g] ??= {
      id: g,
      num_rows: num(c.row_group_num_rows),
      total_byte_size: num(c.row_group_bytes),
      compressed_size: num(c.row_group_compressed_bytes),
      columns: [],
    };
    const col = num(c.column_id);
    const pi = pidx[g]?.[col] ?? { column_index: false, offset_index: false, pages: null };
    groups[g].columns.push({
      column: col,
      path: text(c.path_in_schema),
      physical_type: text(c.type),
      codec: text(c.compression),
      encodings: c.encodings ? String(c.encodings).split(', ') : [],
      num_values: num(c.num_values),
      statistics: {
        min_value: text(c.stats_min_value),
        max_value: text(c.stats_max_value),
        min: text(c.stats_min),
        max: text(c.stats_max),
        null_count: num(c.stats_null_count),
        distinct_count: num(c.stats_distinct_count),
        min_is_exact: c.min_is_exact ?? null,
        max_is_exact: c.max_is_exact ?? null,
      },
      dictionary_page_offset: num(c.dictionary_page_offset),
      data_page_offset: num(c.data_page_offset),
      total_compressed_size: num(c.total_compressed_size),
      total_uncompressed_size: num(c.total_uncompressed_size),
      bloom_filter: c.bloom_filter_offset === null ? null
        : { offset: num(c.bloom_filter_offset), length: num(c.bloom_filter_length) },
      column_index: pi.column_index,
      offset_index: pi.offset_index,
      pages: pi.pages,
    });
  }
  const out = {
    file: {
      created_by: text(fm.created_by),
      format_version: num(fm.format_version),
      num_rows: num(fm.num_rows),
      num_row_groups: num(fm.num_row_groups),
      file_size: num(fm.file_size_bytes),
      footer_size: num(fm.footer_size),
      key_value_metadata: kv,
    },
    schema,
    row_groups: groups.filter(Boolean),
  };
  if (probes.length) out.bloom_probes = bloomProbes;
  process.stdout.write(JSON.stringify(out, null, compact ? 0 : 2) + '\n');
} catch (e) {
  process.stderr.write(`parquet_meta: ${file}: ${e?.message ?? e}\n`);
  process.exitCode = 1;
}
