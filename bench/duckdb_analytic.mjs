#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// DuckDB's half of bench_analytic: an analytical query over merutable's
// L1+ Parquet files versus over DuckDB's own Parquet export of the same rows.
//
//   node bench/duckdb_analytic.mjs <v<N>.metadata.json> <out-dir>
//        [--reps N] [--group COL] [--value COL]
//
// The live data files are exactly those the given table metadata version
// lists in its engine section ("merutable" -> "levels" -> "files" ->
// "path", relative to the table directory, which is the metadata file's
// grandparent): the data directory may also hold files a compaction
// replaced that wait for garbage collection, so it is never globbed. A file
// with a deletion vector ("dv-path") or in L0 is refused: the query reads
// raw rows, which equal the live rows only when every file is in L1+ after
// a full compaction (one put row per live key, no tombstone).
//
// DuckDB then writes the user columns (the Iceberg current schema; the
// engine's hidden _merutable_* columns are left out) with
//   COPY (SELECT <user columns> FROM read_parquet([ours])) TO
//        '<out-dir>/duckdb_export.parquet' (FORMAT parquet, COMPRESSION zstd)
// and times, on both sources, with threads=1 and with DuckDB's default
// thread count, one warm-up then N runs (median, min, max reported):
//   group: SELECT <group>, sum(<value>), count(*) FROM read_parquet([...])
//          GROUP BY <group> ORDER BY <group>
//   sum:   SELECT sum(<value>) FROM read_parquet([...])
// The two sources are timed alternately so machine noise hits both alike.
//
// Output, one fact per line (seconds, bytes):
//   threads <default thread count>
//   files <count> <bytes> <row-count per metadata>
//   layout <src> <files> <row groups> <rows> <bytes on disk>
//   column <src> <column> <compressed bytes> <uncompressed bytes> <encodings>
//          (every column of the files, in file order)
//   export <secs> <bytes>
//   time <query> <src> <threads> <median> <min> <max>
//   cpu <query> <src> <threads> <median>
//          (process CPU seconds, user + system, of one run of the query:
//          unlike wall time it barely moves with other load on the machine)
//   group <src> <group value> <count> <sum with 6 decimals>
//   total <src> <sum with 6 decimals>
//   cents <src> <group value> <count> <sum of round(value * 100)>
//          (an untimed query: the exact check of the sums to the cent)
// where <src> is "ours" or "duckdb". Exit status: 0 ok, 1 DuckDB or the
// metadata failed, 2 usage, 3 @duckdb/node-api missing (run bash
// scripts/install-deps.sh --npm). Uses tests/interop/node_modules; nothing
// is fetched.

import { createRequire } from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

const usage = () => {
  process.stderr.write('usage: node duckdb_analytic.mjs <vN.metadata.json> <out-dir> ' +
                       '[--reps N] [--group COL] [--value COL]\n');
  process.exit(2);
};
const args = process.argv.slice(2);
const pos = [];
let reps = 3;
let groupCol = 'region';
let valueCol = 'score';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--reps' && i + 1 < args.length) reps = Number(args[++i]);
  else if (args[i] === '--group' && i + 1 < args.length) groupCol = args[++i];
  else if (args[i] === '--value' && i + 1 < args.length) valueCol = args[++i];
  else if (!args[i].startsWith('--')) pos.push(args[i]);
  else usage();
}
if (pos.length !== 2 || !(reps >= 1)) usage();
const [metaPath, outDir] = pos;

let duckdb;
try {
  const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
  duckdb = require('@duckdb/node-api');
} catch (e) {
  process.stderr.write(`duckdb_analytic: @duckdb/node-api not found (${e.message}); ` +
                       'run bash scripts/install-deps.sh --npm\n');
  process.exit(3);
}

const fail = msg => {
  process.stderr.write(`duckdb_analytic: ${msg}\n`);
  process.exit(1);
};
const out = line => process.stdout.write(line + '\n');
const lit = s => `'${String(s).replaceAll("'", "''")}'`;
const ident = s => `"${String(s).replaceAll('"', '""')}"`;
const stats = xs => {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return [med, s[0], s[s.length - 1]];
};

// ---- the live files, from the metadata version the caller names
let meta;
try {
  meta = JSON.parse(readFileSync(metaPath, 'utf8'));
} catch (e) {
  fail(`${metaPath}: ${e.message}`);
}
const tableDir = dirname(dirname(metaPath));
const engine = meta.merutable;
if (!engine || !Array.isArray(engine.levels)) fail(`${metaPath}: no merutable.levels`);
const ours = [];
let ourBytes = 0;
let metaRows = 0;
for (const lv of engine.levels) {
  for (const f of lv.files) {
    if (lv.level === 0) fail(`${f.path} is in L0: compact the table first`);
    if (f['dv-path']) fail(`${f.path} has a deletion vector: its raw rows are not the live rows`);
    const p = join(tableDir, f.path);
    const size = statSync(p).size;
    if (size !== f['file-size']) fail(`${p}: ${size} bytes on disk, metadata says ${f['file-size']}`);
    ours.push(p);
    ourBytes += size;
    metaRows += f['row-count'];
  }
}
if (ours.length === 0) fail(`${metaPath} lists no data file`);
out(`files ${ours.length} ${ourBytes} ${metaRows}`);

const schema = (meta.schemas ?? []).find(s => s['schema-id'] === meta['current-schema-id']);
if (!schema) fail(`${metaPath}: no current schema`);
const userCols = schema.fields.map(f => f.name);
for (const c of [groupCol, valueCol])
  if (!userCols.includes(c)) fail(`the table has no column ${c}`);

const list = files => `[${files.map(lit).join(', ')}]`;

try {
  const inst = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const con = await inst.connect();
  const one = async sql => (await con.runAndReadAll(sql)).getRows();
  const defThreads = Number((await one(`SELECT current_setting('threads')`))[0][0]);
  out(`threads ${defThreads}`);

  // DuckDB's own file of the same rows (default threads: it is not timed
  // against anything of ours, only reported).
  const exportPath = join(outDir, 'duckdb_export.parquet');
  const t0 = performance.now();
  await con.run(`COPY (SELECT ${userCols.map(ident).join(', ')} FROM read_parquet(${list(ours)}))
                 TO ${lit(exportPath)} (FORMAT parquet, COMPRESSION zstd)`);
  out(`export ${((performance.now() - t0) / 1000).toFixed(6)} ${statSync(exportPath).size}`);

  const sources = [['ours', ours], ['duckdb', [exportPath]]];
  for (const [src, files] of sources) {
    const [[nfiles, rgs, rows]] = await one(`SELECT count(DISTINCT file_name),
        count(DISTINCT (file_name, row_group_id)), sum(row_group_num_rows) / count(DISTINCT column_id)
        FROM parquet_metadata(${list(files)})`);
    const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
    out(`layout ${src} ${nfiles} ${rgs} ${Number(rows)} ${bytes}`);
    const cols = await one(`SELECT path_in_schema, sum(total_compressed_size),
        sum(total_uncompressed_size), string_agg(DISTINCT encodings, '|')
        FROM parquet_metadata(${list(files)}) GROUP BY path_in_schema, column_id ORDER BY column_id`);
    for (const [c, comp, uncomp, enc] of cols)
      out(`column ${src} ${c} ${Number(comp)} ${Number(uncomp)} ${String(enc).replaceAll(' ', '')}`);
  }

  const queries = {
    group: files => `SELECT ${ident(groupCol)}, sum(${ident(valueCol)}), count(*)
        FROM read_parquet(${list(files)}) GROUP BY ${ident(groupCol)} ORDER BY ${ident(groupCol)}`,
    sum: files => `SELECT sum(${ident(valueCol)}) FROM read_parquet(${list(files)})`,
  };
  const results = {};
  for (const threads of [1, defThreads]) {
    await con.run(`SET threads = ${threads}`);
    for (const [q, sql] of Object.entries(queries)) {
      const times = { ours: [], duckdb: [] };
      const cpus = { ours: [], duckdb: [] };
      for (let r = -1; r < reps; r++) {
        for (const [src, files] of sources) {
          const c0 = process.cpuUsage();
          const s0 = performance.now();
          const rows = await one(sql(files));
          const secs = (performance.now() - s0) / 1000;
          const c = process.cpuUsage(c0);
          if (r >= 0) {
            times[src].push(secs);
            cpus[src].push((c.user + c.system) / 1e6);
          }
          results[`${q} ${src}`] = rows;
        }
      }
      for (const [src] of sources) {
        const [med, lo, hi] = stats(times[src]);
        out(`time ${q} ${src} ${threads} ${med.toFixed(6)} ${lo.toFixed(6)} ${hi.toFixed(6)}`);
        out(`cpu ${q} ${src} ${threads} ${stats(cpus[src])[0].toFixed(6)}`);
      }
    }
  }
  // The timed sums are doubles added in some order; to check them to the
  // cent, untimed, the same groups with every score as exact integer cents.
  for (const [src, files] of sources) {
    const rows = await one(`SELECT ${ident(groupCol)}, count(*),
        sum(CAST(round(${ident(valueCol)} * 100) AS BIGINT))
        FROM read_parquet(${list(files)}) GROUP BY ${ident(groupCol)} ORDER BY ${ident(groupCol)}`);
    for (const [g, count, cents] of rows) out(`cents ${src} ${String(g)} ${String(count)} ${String(cents)}`);
  }
  for (const [src] of sources) {
    for (const [g, sum, count] of results[`group ${src}`])
      out(`group ${src} ${String(g)} ${String(count)} ${Number(sum).toFixed(6)}`);
    out(`total ${src} ${Number(results[`sum ${src}`][0][0]).toFixed(6)}`);
  }
} catch (e) {
  fail(e?.message ?? String(e));
}
