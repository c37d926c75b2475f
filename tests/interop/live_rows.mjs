#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Reduces the canonical rows of a table's SST files (read_parquet.mjs
// output, hidden columns included) to the live view a merutable reader
// sees: per primary key the version with the highest _merutable_seq, keys
// whose newest version is a delete (_merutable_op 0) dropped. Prints one
// line per live row, sorted by key: "<id>\t<value of the column>".
//
//   node live_rows.mjs [--column C] [--missing V] <file.jsonl>...
//   node live_rows.mjs [--column C] --meru <scan.jsonl>   (meru scan --format jsonl)
//
// --column: the column printed (default "name"). --missing: what a row of a
// file that lacks the column reads as (Iceberg's initial-default of a column
// added after the file was written); without it such a row prints
// "(missing)".
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let column = 'name', missing = null, meru = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--column') column = args[++i];
  else if (args[i] === '--missing') missing = args[++i];
  else if (args[i] === '--meru') meru = args[++i];
  else files.push(args[i]);
}
const show = (r) => (column in r ? String(r[column]) : missing ?? '(missing)');
const out = new Map();
if (meru !== null) {
  for (const line of readFileSync(meru, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    out.set(BigInt(r.id), show(r));
  }
} else {
  const newest = new Map();
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line);
      const id = BigInt(r.id), seq = BigInt(r._merutable_seq);
      const cur = newest.get(id);
      if (!cur || seq > cur.seq) newest.set(id, { seq, op: r._merutable_op, value: show(r) });
    }
  }
  for (const [id, v] of newest) if (v.op === 1) out.set(id, v.value);
}
const keys = [...out.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
for (const k of keys) process.stdout.write(`${k}\t${out.get(k)}\n`);
