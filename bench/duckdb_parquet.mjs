#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// DuckDB's half of bench_parquet_duckdb: loads the benchmark table from the
// column-tuned file merutable wrote (so both sides hold the same rows), then
// times, single-threaded, DuckDB writing it with
//   COPY t TO '<dir>/duckdb.parquet' (FORMAT parquet, COMPRESSION zstd)
// and DuckDB scanning its own file and ours with
//   SELECT sum(k), sum(i), sum(d), sum(length(s)) FROM read_parquet(...)
//
//   node bench/duckdb_parquet.mjs <dir> [--reps N] [--files a.parquet,b.parquet]
//
// <dir> holds column.parquet (the table's source) and the files to scan
// (--files, default column.parquet,row.parquet); duckdb.parquet is written
// there and scanned too. Prints one line per fact, medians of N runs in
// seconds:
//   write <median_s> <bytes>
//   scan <file> <median_s> <rows> <sum k> <sum i> <sum d> <sum length(s)>
// Exit status: 0 ok, 1 DuckDB failed, 2 usage, 3 @duckdb/node-api missing
// (run bash scripts/install-deps.sh --npm). Uses the packages installed in
// tests/interop/node_modules; nothing is fetched.

import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
let dir = null;
let reps = 3;
let files = ['column.parquet', 'row.parquet'];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--reps') reps = Number(args[++i]);
  else if (args[i] === '--files') files = String(args[++i]).split(',').filter(Boolean);
  else if (!args[i].startsWith('--') && dir === null) dir = args[i];
  else {
    process.stderr.write('usage: node duckdb_parquet.mjs <dir> [--reps N] [--files a,b]\n');
    process.exit(2);
  }
}
if (dir === null || !(reps >= 1)) {
  process.stderr.write('usage: node duckdb_parquet.mjs <dir> [--reps N] [--files a,b]\n');
  process.exit(2);
}

let duckdb;
try {
  const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
  duckdb = require('@duckdb/node-api');
} catch (e) {
  process.stderr.write(`duckdb_parquet: @duckdb/node-api not found (${e.message}); run bash scripts/install-deps.sh --npm\n`);
  process.exit(3);
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const lit = s => `'${String(s).replaceAll("'", "''")}'`;

try {
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    threads: '1',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const con = await inst.connect();
  await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${lit(join(dir, 'column.parquet'))})`);

  const out = join(dir, 'duckdb.parquet');
  const writes = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await con.run(`COPY t TO ${lit(out)} (FORMAT parquet, COMPRESSION zstd)`);
    writes.push((performance.now() - t0) / 1000);
  }
  process.stdout.write(`write ${median(writes).toFixed(6)} ${statSync(out).size}\n`);

  for (const f of ['duckdb.parquet', ...files]) {
    const path = join(dir, f);
    const times = [];
    let row = null;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const res = await con.runAndReadAll(`SELECT count(*), sum(k), sum(i), sum(d), sum(length(s))
        FROM read_parquet(${lit(path)})`);
      times.push((performance.now() - t0) / 1000);
      row = res.getRows()[0];
    }
    const text = row.map(v => (typeof v === 'number' ? v.toPrecision(17) : String(v)));
    process.stdout.write(`scan ${f} ${median(times).toFixed(6)} ${text.join(' ')}\n`);
  }
} catch (e) {
  process.stderr.write(`duckdb_parquet: ${e?.message ?? e}\n`);
  process.exit(1);
}
