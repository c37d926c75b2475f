// SPDX-License-Identifier: Apache-2.0
// Checks Iceberg files written by merutable with independent readers.
//
//   node iceberg_check.mjs <dir>
//
// <dir> holds the files and expect.json (written by
// tests/unit/test_iceberg_interop.c from its inputs):
//  - Avro manifests and manifest lists are decoded by avsc; the header
//    metadata, every id of the embedded Avro schema, the shape of int-keyed
//    maps (arrays of key/value records with logicalType "map"), the null
//    defaults of optional fields and the decoded records are compared.
//  - The Puffin file is parsed by the decoder below, written from the
//    Puffin spec (magic, footer payload + size + flags + magic, blob
//    metadata); each deletion-vector-v1 blob's framing (big-endian length,
//    magic D1 D3 39 64, big-endian CRC-32 of magic + vector) by the same,
//    and each 32-bit portable Roaring bitmap by the npm `roaring` package
//    (CRoaring), which must re-serialise it to the very same bytes.
//  - The position-delete file is read by hyparquet: schema (names, types,
//    REQUIRED, field ids) and rows.
// Prints one line per check; exit 1 if any failed.
import avro from 'avsc';
import roaring from 'roaring';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';

const { RoaringBitmap32 } = roaring;
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node iceberg_check.mjs <dir>');
  process.exit(2);
}
const expect = JSON.parse(readFileSync(join(dir, 'expect.json'), 'utf8'));
let passed = 0, failed = 0;
function ok(cond, what) {
  if (cond) passed++;
  else { failed++; console.log(`FAIL: ${what}`); }
}
function same(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  ok(g === w, `${what}\n  got  ${g}\n  want ${w}`);
}

// ------------------------------------------------------------------ Avro

// Every id in an Avro schema (Iceberg's field-id, element-id, key-id,
// value-id), plus structural checks on the way.
function walkSchema(s, ids, problems, where) {
  if (Array.isArray(s)) { s.forEach((b, i) => walkSchema(b, ids, problems, `${where}|${i}`)); return; }
  if (typeof s !== 'object' || s === null) return;
  for (const k of ['element-id', 'key-id', 'value-id']) if (k in s) ids.push(s[k]);
  if (s.type === 'record') {
    for (const f of s.fields) {
      if ('field-id' in f) ids.push(f['field-id']);
      else problems.push(`${where}.${f.name} has no field-id`);
      if (Array.isArray(f.type) && f.type[0] === 'null' && f.default !== null)
        problems.push(`${where}.${f.name}: optional without default null`);
      walkSchema(f.type, ids, problems, `${where}.${f.name}`);
    }
  } else if (s.type === 'array') {
    if (s.logicalType === 'map') {
      const it = s.items;
      if (it.type !== 'record' || it.fields.length !== 2 || it.fields[0].name !== 'key' ||
          it.fields[1].name !== 'value' || Array.isArray(it.fields[0].type))
        problems.push(`${where}: a map array whose items are not key/value records`);
      else if (it.name !== `k${it.fields[0]['field-id']}_v${it.fields[1]['field-id']}`)
        problems.push(`${where}: map record named ${it.name}`);
    } else if (!('element-id' in s)) {
      problems.push(`${where}: array without element-id`);
    }
    walkSchema(s.items, ids, problems, `${where}[]`);
  } else if (typeof s.type === 'object') {
    walkSchema(s.type, ids, problems, where);
  }
}

const num = v => (typeof v === 'bigint' ? Number(v) : v);
const hex = b => Buffer.from(b).toString('hex');

function projectEntry(r, version) {
  const d = r.data_file;
  const p = {
    status: r.status, snapshot_id: r.snapshot_id, sequence_number: r.sequence_number,
    content: d.content, file_path: d.file_path, file_format: d.file_format,
    record_count: num(d.record_count), file_size_in_bytes: num(d.file_size_in_bytes),
    value_counts: d.value_counts ? d.value_counts.map(e => [e.key, num(e.value)]) : null,
    lower_bounds: d.lower_bounds ? d.lower_bounds.map(e => [e.key, hex(e.value)]) : null,
    referenced_data_file: d.referenced_data_file,
  };
  if (version >= 3) {
    p.first_row_id = d.first_row_id;
    p.content_offset = d.content_offset;
    p.content_size_in_bytes = d.content_size_in_bytes;
  }
  return p;
}

function projectList(r, version) {
  const p = {};
  for (const k of ['manifest_path', 'manifest_length', 'content', 'sequence_number',
    'min_sequence_number', 'added_snapshot_id', 'added_files_count', 'existing_files_count',
    'deleted_files_count', 'added_rows_count', 'existing_rows_count', 'deleted_rows_count'])
    p[k] = num(r[k]);
  if (version >= 3) p.first_row_id = r.first_row_id;
  return p;
}

async function checkAvro(e) {
  const path = join(dir, e.file);
  const header = avro.extractFileHeader(path);
  ok(header !== null, `${e.file}: avsc finds an Avro header`);
  if (!header) return;
  ok(String(header.meta['avro.codec']) === 'null', `${e.file}: codec null`);
  for (const [k, v] of Object.entries(e.meta))
    ok(header.meta[k] && header.meta[k].toString() === v,
      `${e.file}: header ${k} = ${v} (got ${header.meta[k] && header.meta[k].toString()})`);
  // extractFileHeader hands the schema over parsed (and the codec, the
  // other keys as Buffers); read the raw JSON ourselves from the file.
  const raw = header.meta['avro.schema'];
  const schema = Buffer.isBuffer(raw) ? JSON.parse(raw.toString()) : raw;
  same(schema.name, e.kind === 'manifest' ? 'manifest_entry' : 'manifest_file', `${e.file}: record name`);
  const ids = [], problems = [];
  walkSchema(schema, ids, problems, schema.name);
  same(problems, [], `${e.file}: schema shape`);
  same([...ids].sort((a, b) => a - b), [...e.ids].sort((a, b) => a - b), `${e.file}: schema ids`);
  ok(new Set(ids).size === ids.length, `${e.file}: no id used twice`);
  const version = Number(e.meta['format-version']);
  const rows = [];
  const dec = avro.createFileDecoder(path);
  dec.on('data', r => rows.push(r));
  dec.on('error', err => ok(false, `${e.file}: avsc: ${err.message}`));
  await once(dec, 'end');
  same(rows.map(r => (e.kind === 'manifest' ? projectEntry(r, version) : projectList(r, version))),
    e.records, `${e.file}: records`);
}

// ------------------------------------------------- Puffin and DV (spec)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function readPuffin(buf) {
  const magic = Buffer.from('PFA1');
  ok(buf.subarray(0, 4).equals(magic), 'puffin: leading magic');
  ok(buf.subarray(buf.length - 4).equals(magic), 'puffin: trailing magic');
  const flags = buf.readUInt32LE(buf.length - 8);
  const size = buf.readInt32LE(buf.length - 12);
  ok(flags === 0, 'puffin: flags 0 (uncompressed footer)');
  const start = buf.length - 12 - size - 4;
  ok(buf.subarray(start, start + 4).equals(magic), 'puffin: footer magic');
  return JSON.parse(buf.subarray(start + 4, start + 4 + size).toString('utf8'));
}

// The positions of one deletion-vector-v1 blob.
function readDv(blob, what) {
  const len = blob.readUInt32BE(0);
  ok(len === blob.length - 8, `${what}: length field = bytes of magic + vector`);
  ok(hex(blob.subarray(4, 8)) === 'd1d33964', `${what}: magic D1 D3 39 64`);
  ok(crc32(blob.subarray(4, blob.length - 4)) === blob.readUInt32BE(blob.length - 4),
    `${what}: CRC-32 of magic + vector`);
  const vec = blob.subarray(8, blob.length - 4);
  const count = vec.readBigUInt64LE(0);
  let at = 8, lastKey = -1;
  const positions = [];
  for (let i = 0n; i < count; i++) {
    const key = vec.readUInt32LE(at);
    at += 4;
    ok(key > lastKey, `${what}: keys ascend`);
    lastKey = key;
    const rest = vec.subarray(at);
    const bm = RoaringBitmap32.deserialize(rest, 'portable');
    const size = bm.getSerializationSizeInBytes('portable');
    ok(Buffer.from(bm.serialize('portable')).equals(rest.subarray(0, size)),
      `${what}: CRoaring re-serialises bucket ${key} to the same bytes`);
    for (const v of bm) positions.push(key * 2 ** 32 + v);
    at += size;
  }
  ok(at === vec.length, `${what}: no bytes after the last bucket`);
  return positions;
}

function checkPuffin(p) {
  const buf = readFileSync(join(dir, p.file));
  same(buf.length, p.size, 'puffin: file size');
  const footer = readPuffin(buf);
  ok(typeof footer.properties['created-by'] === 'string', 'puffin: created-by');
  same(footer.blobs.length, p.blobs.length, 'puffin: blob count');
  p.blobs.forEach((want, i) => {
    const b = footer.blobs[i];
    same({ type: b.type, fields: b.fields, 'snapshot-id': b['snapshot-id'],
      'sequence-number': b['sequence-number'], offset: b.offset, length: b.length,
      codec: b['compression-codec'] ?? null, properties: b.properties },
    { type: 'deletion-vector-v1', fields: [2147483645], 'snapshot-id': -1, 'sequence-number': -1,
      offset: want.offset, length: want.length, codec: null,
      properties: { 'referenced-data-file': want.ref, cardinality: want.cardinality } },
    `puffin: blob ${i} metadata`);
    const positions = readDv(buf.subarray(b.offset, b.offset + b.length), `dv ${i}`);
    ok(JSON.stringify(positions) === JSON.stringify(want.positions),
      `dv ${i}: positions (${positions.length} read, ${want.positions.length} written)`);
  });
}

// ------------------------------------------------------ position deletes

async function checkPosdel(p) {
  const { parquetMetadata, parquetRead } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const buf = readFileSync(join(dir, p.file));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const meta = parquetMetadata(ab);
  same(meta.schema.slice(1).map(e => [e.name, e.type, e.repetition_type, e.field_id]),
    [['file_path', 'BYTE_ARRAY', 'REQUIRED', 2147483546], ['pos', 'INT64', 'REQUIRED', 2147483545]],
    'posdel: schema');
  const rows = [];
  await parquetRead({ file: ab, compressors, rowFormat: 'array',
    onComplete: data => { for (const r of data) rows.push([String(r[0]), String(r[1])]); } });
  same(rows, p.rows, 'posdel: rows');
}

for (const e of expect.avro) if (e.file) await checkAvro(e);
checkPuffin(expect.puffin);
await checkPosdel(expect.posdel);
console.log(`iceberg interop: ${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
