#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Reduces the canonical rows of a table's SST files (read_parquet.mjs
// output, hidden columns included) to the live view a merutable reader
// sees: per primary key the version with the highest _merutable_seq, keys
// whose newest version is a delete (_merutable_op 0) dropped. Prints one
// line per live row, sorted by key: "<id>\t<name>".
//
//   node live_rows.mjs <file.jsonl>...
//   node live_rows.mjs --meru <scan.jsonl>   (meru scan --format jsonl)
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const out = new Map();
if (args[0] === '--meru') {
  for (const line of readFileSync(args[1], 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    out.set(BigInt(r.id), r.name);
  }
} else {
  const newest = new Map();
  for (const f of args) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line);
      const id = BigInt(r.id), seq = BigInt(r._merutable_seq);
      const cur = newest.get(id);
      if (!cur || seq > cur.seq) newest.set(id, { seq, op: r._merutable_op, name: r.name });
    }
  }
  for (const [id, v] of newest) if (v.op === 1) out.set(id, v.name);
}
const keys = [...out.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
for (const k of keys) process.stdout.write(`${k}\t${out.get(k)}\n`);
