// SPDX-License-Identifier: Apache-2.0
// The rows icebird (npm; a third-party Iceberg reader built on hyparquet)
// sees in a table directory, in view_rows.mjs's canonical form, so they can
// be compared with `meru scan`:
//
//   node icebird_read.mjs <table-dir>
//   node icebird_read.mjs <table-dir> --expect <scan.jsonl>   (exit 1 on a difference)
//
// icebird reads Iceberg v1/v2 tables with position-delete files, not v3
// deletion vectors, so this is run on tables made with
// `meru create --iceberg-format-version 2`. It fetches every file by URL:
// the global fetch is replaced by one that serves local paths (absolute,
// as merutable writes them, or file:// URLs) with HTTP semantics (404 for
// a missing file, 206 for a byte range), so icebird's own code follows
// version-hint.text -> metadata -> manifest list -> manifests -> data
// files minus position deletes, unchanged.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonical, expectRows, printRows } from './view_rows.mjs';

const args = process.argv.slice(2);
if (args.length !== 1 && !(args.length === 3 && args[1] === '--expect')) {
  console.error('usage: node icebird_read.mjs <table-dir> [--expect <scan.jsonl>]');
  process.exit(2);
}

globalThis.fetch = async (url, init) => {
  const s = String(url);
  const path = s.startsWith('file://') ? fileURLToPath(s) : s;
  if (!path.startsWith('/')) return new Response(null, { status: 400, statusText: `not a local path: ${s}` });
  let buf;
  try {
    buf = readFileSync(path);
  } catch {
    return new Response(null, { status: 404, statusText: 'Not Found' });
  }
  const range = new Headers(init?.headers).get('Range');
  const m = range && /^bytes=(\d+)-(\d*)$/.exec(range);
  if (!m) return new Response(buf, { status: 200 });
  const start = Number(m[1]);
  const end = m[2] === '' ? buf.length : Math.min(Number(m[2]) + 1, buf.length);
  if (start >= buf.length) return new Response(null, { status: 416, statusText: 'Range Not Satisfiable' });
  return new Response(buf.subarray(start, end), { status: 206 });
};

const { icebergRead } = await import('icebird');
const rows = await icebergRead({ tableUrl: resolve(args[0]) });
const lines = rows.map(canonical);
if (args[1] === '--expect') expectRows('icebird', lines, args[2]);
else printRows(lines);
