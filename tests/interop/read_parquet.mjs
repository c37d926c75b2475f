#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Prints the rows of a Parquet file as canonical JSON lines (README.md,
// "Canonical row format") using one of three independent readers, so that a
// test can diff what DuckDB (C++), arrow-rs (parquet-wasm) and hyparquet
// (pure JS) decode from a file merutable wrote, against each other or against
// an expected listing.
//
//   node read_parquet.mjs <reader> <file> [--columns a,b]
//   node read_parquet.mjs <reader> --out-dir <dir> <file>...
//
// reader: duckdb | parquet-wasm | hyparquet. The second form reads many
// files in one process (start-up dominates on small files): the rows of
// <dir>/../x.parquet go to <dir>/x.parquet.jsonl, a failure's message to
// <dir>/x.parquet.err, and it goes on with the next file.
//
// Each adapter learns the column types from its own library (DuckDB's result
// types, the Arrow schema arrow-rs derives, hyparquet's footer parse) and
// hands raw values to canon.mjs, which alone produces text. Only flat
// schemas are supported (merutable writes nothing else); a nested column is
// an error. Exit status: 0 ok, 1 a reader failed (on any file), 2 usage.

import { readFileSync, openSync, writeSync, closeSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fmtValue, rowLine, beSigned, utf8 } from './canon.mjs';

const READERS = { duckdb: readDuckdb, 'parquet-wasm': readArrow, hyparquet: readHyparquet };
const USAGE = `usage: node read_parquet.mjs <duckdb|parquet-wasm|hyparquet> <file> [--columns a,b]
       node read_parquet.mjs <duckdb|parquet-wasm|hyparquet> --out-dir <dir> [--columns a,b] <file>...
`;

function usage(msg) {
  if (msg) process.stderr.write(`read_parquet: ${msg}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

function parseArgs(argv) {
  const pos = [];
  let columns = null;
  let outDir = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--columns' || a === '--out-dir') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      if (a === '--columns') columns = argv[++i].split(',');
      else outDir = argv[++i];
    } else if (a.startsWith('--columns=')) {
      columns = a.slice('--columns='.length).split(',');
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) {
      usage(`unknown option ${a}`);
    } else {
      pos.push(a);
    }
  }
  if (pos.length < 2 || (pos.length > 2 && outDir === null)) usage();
  if (!READERS[pos[0]]) usage(`unknown reader ${pos[0]}`);
  if (columns && (columns.length === 0 || columns.some(c => c === ''))) usage('empty column name');
  return { reader: pos[0], files: pos.slice(1), columns, outDir };
}

// Buffered line sink on a file descriptor (stdout or a file). Synchronous
// writes keep the order of stdout and stderr simple; EAGAIN (a non-blocking
// pipe that is full) is retried.
class Sink {
  constructor(fd) { this.fd = fd; this.buf = ''; }
  line(s) {
    this.buf += s;
    if (this.buf.length >= 1 << 20) this.flush();
  }
  flush() {
    let b = Buffer.from(this.buf, 'utf8');
    this.buf = '';
    while (b.length) {
      try {
        const n = writeSync(this.fd, b);
        b = b.subarray(n);
      } catch (e) {
        // The reader of a pipe went away (`| head`): stop quietly, as cat does.
        if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        if (e.code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }
}

// Resolves the requested column names against the file's, in request order.
function select(fileNames, requested) {
  if (!requested) return fileNames.map((_, i) => i);
  return requested.map(name => {
    const i = fileNames.indexOf(name);
    if (i < 0) throw new Error(`no column named ${JSON.stringify(name)} (file has ${fileNames.map(n => JSON.stringify(n)).join(', ')})`);
    return i;
  });
}

function describe(name, kind, extra = {}) {
  return { name, key: JSON.stringify(name), kind, ...extra };
}

function emitRows(out, cols, nrows, get) {
  const texts = new Array(cols.length);
  for (let r = 0; r < nrows; r++) {
    for (let c = 0; c < cols.length; c++) {
      const v = get(c, r);
      texts[c] = v === null ? 'null' : fmtValue(cols[c], v);
    }
    out.line(rowLine(cols, texts));
  }
}

// ---------------------------------------------------------------- DuckDB

let duckCon = null;

async function readDuckdb(file, requested, out) {
  const { DuckDBInstance, DuckDBTypeId: T } = await import('@duckdb/node-api');
  if (!duckCon) {
    // No extension may be fetched: CI has no network beyond the package registries.
    const inst = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      threads: '1',
    });
    duckCon = await inst.connect();
  }
  const con = duckCon;
  const lit = `'${file.replaceAll("'", "''")}'`;

  // The footer's physical/logical types, for the cases DuckDB's result type
  // alone cannot tell apart (INT96, time zone of nanosecond timestamps).
  const sch = (await con.runAndReadAll(
    `SELECT name, type, num_children, logical_type, converted_type FROM parquet_schema(${lit})`)).getRowObjects();
  const leaves = sch.slice(1);
  if (leaves.some(e => e.num_children && Number(e.num_children) > 0)) throw new Error('nested schemas are not supported');

  const probe = await con.runAndReadAll(`SELECT * FROM read_parquet(${lit}, binary_as_string=false) LIMIT 0`);
  const fileNames = probe.columnNames();
  const idx = select(fileNames, requested);
  const quote = n => '"' + n.replaceAll('"', '""') + '"';
  const sql = `SELECT ${idx.map(i => quote(fileNames[i])).join(', ')} FROM read_parquet(${lit}, binary_as_string=false)`;
  // Materialized: streaming results cost ~50 ms per 2048-row chunk here.
  const result = await con.run(sql);
  const types = result.columnTypes();

  const cols = idx.map((fi, c) => {
    const name = fileNames[fi];
    const t = types[c];
    const el = leaves[fi] ?? {};
    const lt = String(el.logical_type ?? '');
    const adjusted = /isAdjustedToUTC=1|isAdjustedToUTC=true/i.test(lt);
    switch (t.typeId) {
      case T.BOOLEAN: return describe(name, 'bool', { get: v => v });
      case T.TINYINT: case T.SMALLINT: case T.INTEGER:
      case T.UTINYINT: case T.USMALLINT: case T.UINTEGER:
        return describe(name, 'i32', { get: v => v });
      case T.BIGINT: return describe(name, 'i64', { get: v => v });
      case T.UBIGINT: return describe(name, 'u64', { get: v => v });
      case T.FLOAT: return describe(name, 'f32', { get: v => v });
      case T.DOUBLE: return describe(name, 'f64', { get: v => v });
      case T.VARCHAR: case T.ENUM: return describe(name, 'str', { get: v => String(v) });
      case T.BLOB: return describe(name, 'bin', { get: v => v.bytes });
      // arrow-rs (parquet-wasm) shows UUID as plain FixedSizeBinary(16), so
      // the canonical form prints it as the 16 bytes it is stored as.
      case T.UUID: return describe(name, 'bin', { get: v => uint128Bytes(v.toUint128()) });
      case T.DATE: return describe(name, 'date', { get: v => v.days });
      case T.DECIMAL: return describe(name, 'dec', { scale: t.scale, get: v => v.value });
      case T.TIMESTAMP:
        // DuckDB reads INT96 to microseconds; the canonical form keeps
        // INT96's nanosecond unit, so sub-microsecond digits print as 000.
        if (el.type === 'INT96') return describe(name, 'ts', { unit: 'ns', utc: false, get: v => v.micros * 1000n });
        return describe(name, 'ts', { unit: 'us', utc: false, get: v => v.micros });
      case T.TIMESTAMP_TZ:
        // DuckDB reads UTC-adjusted NANOS timestamps to microseconds (the
        // sub-microsecond digits are lost); print them in their file unit.
        if (/NANOS=NanoSeconds/.test(lt)) return describe(name, 'ts', { unit: 'ns', utc: true, get: v => v.micros * 1000n });
        return describe(name, 'ts', { unit: 'us', utc: true, get: v => v.micros });
      case T.TIMESTAMP_MS: return describe(name, 'ts', { unit: 'us', utc: adjusted, get: v => v.millis * 1000n });
      case T.TIMESTAMP_S: return describe(name, 'ts', { unit: 'us', utc: adjusted, get: v => v.seconds * 1000000n });
      case T.TIMESTAMP_NS: return describe(name, 'ts', { unit: 'ns', utc: adjusted, get: v => v.nanos });
      // Times carry no zone marker in the canonical form (Arrow's time types
      // cannot say whether the file's TIME was UTC-adjusted).
      case T.TIME:
        // DuckDB 1.5.5 reads TIME(NANOS) to microseconds; print it in its file unit.
        if (/NANOS=NanoSeconds/.test(lt)) return describe(name, 'time', { unit: 'ns', get: v => v.micros * 1000n });
        return describe(name, 'time', { unit: 'us', get: v => v.micros });
      case T.TIME_NS: return describe(name, 'time', { unit: 'ns', get: v => v.nanos });
      case T.TIME_TZ: return describe(name, 'time', {
        unit: /NANOS=NanoSeconds/.test(lt) ? 'ns' : 'us',
        get: v => {
          if (v.offset !== 0) throw new Error(`TIMETZ with offset ${v.offset}`);
          return /NANOS=NanoSeconds/.test(lt) ? v.micros * 1000n : v.micros;
        },
      });
      default: throw new Error(`column ${name}: DuckDB type ${t.toString()} is not supported`);
    }
  });

  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const vals = cols.map((_, c) => chunk.getColumnValues(c));
    emitRows(out, cols, chunk.rowCount, (c, r) => {
      const v = vals[c][r];
      return v === null || v === undefined ? null : cols[c].get(v);
    });
  }
}

function uint128Bytes(u) {
  const b = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) { b[i] = Number(u & 0xffn); u >>= 8n; }
  return b;
}

// ------------------------------------------------ parquet-wasm (arrow-rs)

async function readArrow(file, requested, out) {
  const { readParquet } = await import('parquet-wasm');
  const arrow = await import('apache-arrow');
  const { Type, TimeUnit, DateUnit, Precision } = arrow;
  const bytes = new Uint8Array(readFileSync(file));
  const wasmTable = readParquet(bytes, requested ? { columns: requested } : undefined);
  const table = arrow.tableFromIPC(wasmTable.intoIPCStream());

  const fields = table.schema.fields;
  const fileNames = fields.map(f => f.name);
  const idx = select(fileNames, requested);
  const unitName = u => ({ [TimeUnit.SECOND]: 's', [TimeUnit.MILLISECOND]: 'ms', [TimeUnit.MICROSECOND]: 'us', [TimeUnit.NANOSECOND]: 'ns' })[u];

  // Returns a column descriptor whose raw(data, i) reads a non-null value
  // from one Arrow Data chunk of that type.
  function kindOf(name, field, type) {
    switch (type.typeId) {
      case Type.Bool: return describe(name, 'bool', { raw: (d, i) => bit(d.values, d.offset + i) });
      case Type.Int:
        if (type.bitWidth <= 32) return describe(name, 'i32', { raw: (d, i) => d.values[i] });
        return describe(name, type.isSigned ? 'i64' : 'u64', { raw: (d, i) => BigInt(d.values[i]) });
      case Type.Float:
        if (type.precision === Precision.HALF) return describe(name, 'f32', { raw: (d, i) => float16(d.values[i]) });
        return describe(name, type.precision === Precision.SINGLE ? 'f32' : 'f64', { raw: (d, i) => d.values[i] });
      case Type.Utf8: case Type.LargeUtf8:
        return describe(name, 'str', { raw: (d, i) => utf8(varBytes(d, i)) });
      case Type.Binary: case Type.LargeBinary:
        return describe(name, 'bin', { raw: (d, i) => varBytes(d, i) });
      case Type.FixedSizeBinary: {
        const w = type.byteWidth;
        return describe(name, 'bin', { raw: (d, i) => d.values.subarray(i * w, (i + 1) * w) });
      }
      case Type.Date:
        if (type.unit === DateUnit.DAY) return describe(name, 'date', { raw: (d, i) => d.values[i] });
        return describe(name, 'date', { raw: (d, i) => Number(BigInt(d.values[i]) / 86400000n) });
      case Type.Timestamp:
        return describe(name, 'ts', { unit: unitName(type.unit) === 's' ? 'us' : unitName(type.unit), utc: type.timezone != null,
          raw: unitName(type.unit) === 's' ? (d, i) => BigInt(d.values[i]) * 1000000n : (d, i) => BigInt(d.values[i]) });
      case Type.Time: {
        const u = unitName(type.unit);
        const scale = u === 's' ? 1000000n : 1n;
        return describe(name, 'time', { unit: u === 's' ? 'us' : u, raw: (d, i) => BigInt(d.values[i]) * scale });
      }
      case Type.Decimal: {
        const words = type.bitWidth / 32;
        return describe(name, 'dec', { scale: type.scale, raw: (d, i) => leWords(d.values, i * words, words) });
      }
      case Type.Dictionary: {
        const inner = kindOf(name, field, type.dictionary);
        return { ...inner, raw: (d, i) => dictValue(d.dictionary, inner.raw, Number(d.values[i])) };
      }
      case Type.Null: return describe(name, 'bool', { raw: () => null });
      default: throw new Error(`column ${name}: Arrow type ${String(type)} is not supported`);
    }
  }

  const cols = idx.map(fi => kindOf(fields[fi].name, fields[fi], fields[fi].type));
  for (const batch of table.batches) {
    const datas = idx.map(fi => batch.data.children[fi]);
    emitRows(out, cols, batch.numRows, (c, r) => {
      const d = datas[c];
      if (d.nullBitmap && d.nullBitmap.length && !bit(d.nullBitmap, d.offset + r)) return null;
      if (d.typeId === Type.Null) return null;
      return cols[c].raw(d, r);
    });
  }
}

function bit(bytes, i) {
  return (bytes[i >> 3] >> (i & 7)) & 1 ? true : false;
}

function varBytes(d, i) {
  const o = d.valueOffsets;
  return d.values.subarray(Number(o[i]), Number(o[i + 1]));
}

// Little-endian 32-bit words, two's complement (Arrow Decimal128/256).
function leWords(words, at, n) {
  let v = 0n;
  for (let k = n - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[at + k] >>> 0);
  return BigInt.asIntN(n * 32, v);
}

function float16(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function dictValue(dictVector, raw, k) {
  for (const d of dictVector.data) {
    if (k < d.length) return raw(d, k);
    k -= d.length;
  }
  throw new Error('dictionary index out of range');
}

// ------------------------------------------------------------- hyparquet

// The column's kind from its own footer parse (logical type first, then the
// legacy converted type), independent of the other two readers.
function hyKind(el) {
  const name = el.name;
  const lt = el.logical_type;
  const ct = el.converted_type;
  const unitOf = u => ({ MILLIS: 'ms', MICROS: 'us', NANOS: 'ns' })[u];
  const decimal = lt?.type === 'DECIMAL' || ct === 'DECIMAL';
  const scale = lt?.type === 'DECIMAL' ? lt.scale : el.scale ?? 0;
  switch (el.type) {
    case 'BOOLEAN': return describe(name, 'bool', { conv: v => v });
    case 'INT32':
      if (decimal) return describe(name, 'dec', { scale, conv: v => BigInt(v) });
      if (lt?.type === 'DATE' || ct === 'DATE') return describe(name, 'date', { conv: v => v });
      if (lt?.type === 'TIME') return describe(name, 'time', { unit: unitOf(lt.unit), conv: v => BigInt(v) });
      if (ct === 'TIME_MILLIS') return describe(name, 'time', { unit: 'ms', conv: v => BigInt(v) });
      if ((lt?.type === 'INTEGER' && !lt.isSigned) || ct === 'UINT_8' || ct === 'UINT_16' || ct === 'UINT_32') {
        return describe(name, 'i32', { conv: v => v >>> 0 });
      }
      return describe(name, 'i32', { conv: v => v });
    case 'INT64':
      if (decimal) return describe(name, 'dec', { scale, conv: v => v });
      if (lt?.type === 'TIMESTAMP') return describe(name, 'ts', { unit: unitOf(lt.unit), utc: lt.isAdjustedToUTC, conv: v => v });
      if (ct === 'TIMESTAMP_MILLIS') return describe(name, 'ts', { unit: 'ms', utc: true, conv: v => v });
      if (ct === 'TIMESTAMP_MICROS') return describe(name, 'ts', { unit: 'us', utc: true, conv: v => v });
      if (lt?.type === 'TIME') return describe(name, 'time', { unit: unitOf(lt.unit), conv: v => v });
      if (ct === 'TIME_MICROS') return describe(name, 'time', { unit: 'us', conv: v => v });
      if ((lt?.type === 'INTEGER' && !lt.isSigned) || ct === 'UINT_64') return describe(name, 'u64', { conv: v => v });
      return describe(name, 'i64', { conv: v => v });
    // hyparquet hands INT96 over as nanoseconds since the epoch (parsers below).
    case 'INT96': return describe(name, 'ts', { unit: 'ns', utc: false, conv: v => v });
    case 'FLOAT': return describe(name, 'f32', { conv: v => v });
    case 'DOUBLE': return describe(name, 'f64', { conv: v => v });
    case 'BYTE_ARRAY':
      if (decimal) return describe(name, 'dec', { scale, conv: beSigned });
      if (['STRING', 'ENUM', 'JSON'].includes(lt?.type) || ['UTF8', 'ENUM', 'JSON'].includes(ct)) {
        return describe(name, 'str', { conv: utf8 });
      }
      return describe(name, 'bin', { conv: v => v });
    case 'FIXED_LEN_BYTE_ARRAY':
      if (decimal) return describe(name, 'dec', { scale, conv: beSigned });
      if (lt?.type === 'FLOAT16') return describe(name, 'f32', { conv: v => float16(v[0] | (v[1] << 8)) });
      if (ct === 'INTERVAL') throw new Error(`column ${name}: INTERVAL is not supported`);
      return describe(name, 'bin', { conv: v => v });
    default: throw new Error(`column ${name}: physical type ${el.type} is not supported`);
  }
}

async function readHyparquet(file, requested, out) {
  const { parquetMetadata, parquetRead } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const meta = parquetMetadata(ab);
  const leaves = meta.schema.slice(1);
  if (leaves.some(e => e.num_children)) throw new Error('nested schemas are not supported');
  const fileNames = leaves.map(e => e.name);
  const idx = select(fileNames, requested);
  const cols = idx.map(fi => hyKind(leaves[fi]));

  // Ask hyparquet for physical values only: its own logical conversions are
  // lossy (decimals become doubles, timestamps millisecond Dates) and it
  // applies some only when a legacy converted_type is present. Stripping the
  // annotations from a copy of the schema keeps decoding (encodings, pages,
  // codecs, dictionaries) entirely hyparquet's.
  const physical = {
    ...meta,
    schema: meta.schema.map((e, i) => i === 0 ? e : {
      name: e.name, type: e.type, type_length: e.type_length,
      repetition_type: e.repetition_type, field_id: e.field_id,
    }),
  };
  const parsers = { timestampFromNanoseconds: n => n };
  let start = 0;
  for (const rg of meta.row_groups) {
    const n = Number(rg.num_rows);
    if (n === 0) continue;
    let rows = null;
    await parquetRead({
      file: ab, metadata: physical, columns: idx.map(fi => fileNames[fi]), rowStart: start, rowEnd: start + n,
      utf8: false, parsers, compressors, rowFormat: 'array',
      onComplete: r => { rows = r; },
    });
    start += n;
    if (!rows || rows.length !== n) throw new Error(`row group gave ${rows?.length} rows, footer says ${n}`);
    emitRows(out, cols, n, (c, r) => {
      const v = rows[r][c];
      return v === null || v === undefined ? null : cols[c].conv(v);
    });
  }
}

// ------------------------------------------------------------------ main

const { reader, files, columns, outDir } = parseArgs(process.argv.slice(2));
if (outDir !== null) mkdirSync(outDir, { recursive: true });
for (const file of files) {
  const fd = outDir === null ? 1 : openSync(join(outDir, basename(file) + '.jsonl'), 'w');
  const out = new Sink(fd);
  let failure = null;
  try {
    await READERS[reader](file, columns, out);
  } catch (e) {
    failure = `read_parquet[${reader}]: ${file}: ${e?.message ?? e}\n`;
  }
  out.flush();
  if (fd !== 1) closeSync(fd);
  if (failure !== null) {
    process.exitCode = 1;
    if (outDir === null) process.stderr.write(failure);
    else writeSync(openSync(join(outDir, basename(file) + '.err'), 'w'), failure);
  }
}
