// SPDX-License-Identifier: Apache-2.0
// The canonical row form the Iceberg readers of the tests print, and the
// comparison of a reader's rows with `meru scan --format jsonl`, shared by
// iceberg_read.mjs (our reader written from the spec) and icebird_read.mjs
// (the icebird package), so both are judged by the same rule.
import { readFileSync } from 'node:fs';

// One JSON object with sorted keys: int64s (BigInt or number) print as
// integers, doubles to 15 significant digits, bytes as hex, missing as null.
export function canonical(obj) {
  const keys = Object.keys(obj).sort();
  const o = {};
  for (const k of keys) {
    let v = obj[k];
    if (typeof v === 'bigint') v = v.toString();
    else if (typeof v === 'number') v = Number.isInteger(v) ? String(v) : v.toPrecision(15);
    else if (v instanceof Uint8Array) v = Buffer.from(v).toString('hex');
    o[k] = v === undefined ? null : v;
  }
  return JSON.stringify(o);
}

// Prints canonical lines sorted, one per line.
export function printRows(lines) {
  lines.sort();
  process.stdout.write(lines.map(l => l + '\n').join(''));
}

// The canonical lines of a `meru scan --format jsonl` file.
export function scanRows(path) {
  const lines = [];
  for (const line of readFileSync(path, 'utf8').split('\n'))
    if (line) lines.push(canonical(JSON.parse(line)));
  return lines;
}

// Compares `lines` with the scan in `expectFile` as multisets; on a
// difference prints the counts and the first differing rows to stderr
// (prefixed with `who`) and exits 1.
export function expectRows(who, lines, expectFile) {
  const want = scanRows(expectFile).sort();
  lines.sort();
  if (want.join('\n') === lines.join('\n')) return;
  const w = new Set(want), g = new Set(lines);
  console.error(`${who} has ${lines.length} rows, the scan ${want.length}`);
  for (const l of want.filter(x => !g.has(x)).slice(0, 10)) console.error(`< ${l}`);
  for (const l of lines.filter(x => !w.has(x)).slice(0, 10)) console.error(`> ${l}`);
  process.exit(1);
}
