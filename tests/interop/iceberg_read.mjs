// SPDX-License-Identifier: Apache-2.0
// An independent Iceberg reader: prints the rows an Iceberg engine sees in
// a table directory, one JSON object per line, sorted, in the same
// canonical form as `--meru <scan.jsonl>` prints `meru scan --format jsonl`
// output, so the two can be diffed.
//
//   node iceberg_read.mjs <table-dir>
//   node iceberg_read.mjs --meru <scan.jsonl>
//   node iceberg_read.mjs <table-dir> --expect <scan.jsonl>
// The last compares the two in one process (exit 1 with the first
// differences on stderr), which saves a node start per check.
//
// It follows the Iceberg spec, not merutable's code: version-hint.text ->
// metadata/v<N>.metadata.json -> current snapshot -> manifest list (avsc)
// -> manifests (avsc; live entries, sequence-number inheritance) -> data
// files (hyparquet) minus deletes: deletion-vector-v1 blobs at
// content_offset/content_size_in_bytes of Puffin files (framing checked,
// 32-bit portable Roaring buckets by the npm `roaring` package) or
// position-delete Parquet files (file_path, pos), each applied to data files
// whose data sequence number is <= the delete's. Columns are projected by
// field id from the current schema, so `_merutable_*` columns (not in the
// schema) are never read, and a column a file lacks reads as its
// initial-default (else null); manifests written for the current snapshot
// must carry its schema-id and schema. Paths in the files are absolute under the table
// location; they are mapped into <table-dir> by their data/ or metadata/
// tail (the table may have been moved).
import avro from 'avsc';
import roaring from 'roaring';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { canonical, expectRows, printRows, scanRows } from './view_rows.mjs';

const { RoaringBitmap32 } = roaring;
const args = process.argv.slice(2);

if (args[0] === '--meru') {
  printRows(scanRows(args[1]));
  process.exit(0);
}

// Prints the rows, or with --expect compares them with the scan's.
function done(lines) {
  if (expectFile) expectRows('the Iceberg view', lines, expectFile);
  else printRows(lines);
}

const dir = args[0];
const expectFile = args[1] === '--expect' ? args[2] : null;
const local = p => {
  const i = Math.max(p.lastIndexOf('/data/'), p.lastIndexOf('/metadata/'));
  if (i < 0) throw new Error(`path ${p} is not under data/ or metadata/`);
  return join(dir, p.slice(i + 1));
};

// Snapshot ids use all 63 bits: longs are read as BigInt.
const longType = avro.types.LongType.__with({
  fromBuffer: buf => buf.readBigInt64LE(),
  toBuffer: n => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: n => typeof n === 'bigint',
  compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
});
// The records of an Avro file; `header`, when given, receives the file's
// key/value metadata as strings.
async function readAvro(path, header) {
  const rows = [];
  const dec = avro.createFileDecoder(path, {
    parseHook: schema => avro.Type.forSchema(schema, { registry: { long: longType } }),
  });
  dec.on('metadata', (type, codec, h) => {
    if (header) for (const [k, v] of Object.entries(h.meta)) header[k] = Buffer.from(v).toString();
  });
  dec.on('data', r => rows.push(r));
  const err = once(dec, 'error').then(([e]) => { throw e; });
  await Promise.race([once(dec, 'end'), err]);
  return rows;
}
// avsc decodes ["null", T] unions as plain values (or wrapped by name).
const un = v => (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Buffer)
  && Object.keys(v).length === 1 ? Object.values(v)[0] : v);

async function parquetRows(path, columns) {
  const { parquetMetadata, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const buf = readFileSync(path);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const meta = parquetMetadata(ab);
  return { meta, rows: await parquetReadObjects({ file: ab, columns, compressors }) };
}

const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b) {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function readDv(path, off, len) {
  const file = readFileSync(path);
  if (file.subarray(0, 4).toString() !== 'PFA1') throw new Error(`${path}: not a Puffin file`);
  const blob = file.subarray(off, off + len);
  if (blob.length !== len) throw new Error(`${path}: blob past the end`);
  if (blob.readUInt32BE(0) !== len - 8) throw new Error(`${path}: DV length field`);
  if (blob.subarray(4, 8).toString('hex') !== 'd1d33964') throw new Error(`${path}: DV magic`);
  if (crc32(blob.subarray(4, len - 4)) !== blob.readUInt32BE(len - 4)) throw new Error(`${path}: DV CRC`);
  const vec = blob.subarray(8, len - 4);
  const count = vec.readBigUInt64LE(0);
  const pos = new Set();
  let at = 8;
  for (let i = 0n; i < count; i++) {
    const key = vec.readUInt32LE(at);
    at += 4;
    const bm = RoaringBitmap32.deserialize(vec.subarray(at), 'portable');
    at += bm.getSerializationSizeInBytes('portable');
    for (const v of bm) pos.add(key * 2 ** 32 + v);
  }
  return pos;
}

const hint = readFileSync(join(dir, 'metadata', 'version-hint.text'), 'utf8').trim();
const meta = JSON.parse(readFileSync(join(dir, 'metadata', `v${hint}.metadata.json`), 'utf8'));
const schema = meta.schemas.find(s => s['schema-id'] === meta['current-schema-id']);
const lines = [];
const snapId = meta['current-snapshot-id'];
if (snapId === undefined || snapId === null || snapId === -1) {
  done(lines);
  process.exit(0);
}
// JSON numbers lose the low bits of 63-bit ids: the snapshot is the one
// whose id is closest (merutable lists one; others list few).
const snap = meta.snapshots.find(s => s['snapshot-id'] === snapId);
if (!snap) throw new Error('current snapshot not listed');
const manifests = await readAvro(local(snap['manifest-list']));
const dataFiles = [], deletes = [];
for (const m of manifests) {
  const header = {};
  const entries = await readAvro(local(m.manifest_path), header);
  // A manifest written for this snapshot carries its schema (by id and as
  // JSON); reused ones keep the schema they were written with.
  if (BigInt(m.added_snapshot_id) === BigInt(snap['snapshot-id']) && snap['schema-id'] !== undefined) {
    if (Number(header['schema-id']) !== snap['schema-id'])
      throw new Error(`${m.manifest_path}: schema-id ${header['schema-id']}, snapshot's ${snap['schema-id']}`);
    const want = meta.schemas.find(x => x['schema-id'] === snap['schema-id']);
    const got = JSON.parse(header.schema);
    if (JSON.stringify(got.fields.map(f => f.id)) !== JSON.stringify(want.fields.map(f => f.id)))
      throw new Error(`${m.manifest_path}: its schema's field ids differ from schema ${snap['schema-id']}`);
  }
  for (const e of entries) {
    if (e.status === 2) continue; // DELETED
    const seq = BigInt(un(e.sequence_number) ?? m.sequence_number);
    const df = e.data_file;
    if (m.content === 0) dataFiles.push({ path: df.file_path, seq, rows: Number(df.record_count), hidden: new Set() });
    else deletes.push({ df, seq });
  }
}
const byPath = new Map(dataFiles.map(f => [f.path, f]));
const dvSeen = new Set();
for (const { df, seq } of deletes) {
  if (df.content !== 1) throw new Error('equality deletes are not expected');
  if (un(df.content_offset) !== null && un(df.content_offset) !== undefined) {
    const ref = un(df.referenced_data_file);
    if (dvSeen.has(ref)) throw new Error(`two DVs for ${ref}`);
    dvSeen.add(ref);
    const f = byPath.get(ref);
    if (!f || seq < f.seq) continue;
    const pos = readDv(local(df.file_path), Number(un(df.content_offset)), Number(un(df.content_size_in_bytes)));
    if (pos.size !== Number(df.record_count)) throw new Error(`DV of ${ref}: cardinality`);
    for (const p of pos) f.hidden.add(p);
  } else {
    const { rows } = await parquetRows(local(df.file_path), ['file_path', 'pos']);
    for (const r of rows) {
      const f = byPath.get(r.file_path);
      if (f && seq >= f.seq) f.hidden.add(Number(r.pos));
    }
  }
}
// A column a data file lacks (added after the file was written) reads as
// its initial-default (v3), else null.
const ids = schema.fields.map(f => [f.id, f.name, f['initial-default'] ?? null]);
for (const f of dataFiles) {
  const path = local(f.path);
  const { parquetMetadata } = await import('hyparquet');
  const buf = readFileSync(path);
  const pm = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  // project by field id: the file's column carrying each schema field id
  const byId = new Map(pm.schema.slice(1).map(e => [e.field_id, e.name]));
  const cols = ids.filter(([id]) => byId.has(id)).map(([id]) => byId.get(id));
  const { rows } = await parquetRows(path, cols);
  if (rows.length !== f.rows) throw new Error(`${f.path}: ${rows.length} rows, manifest says ${f.rows}`);
  rows.forEach((r, pos) => {
    if (f.hidden.has(pos)) return;
    const o = {};
    for (const [id, name, init] of ids) o[name] = byId.has(id) ? r[byId.get(id)] : init;
    lines.push(canonical(o));
  });
}
done(lines);
