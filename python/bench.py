# SPDX-License-Identifier: Apache-2.0
"""merutable's Python module beside the standard library's sqlite3, on the
same rows (dicts) and the same operations:

  put_many  all rows in one atomic write: merutable db.put_many(rows);
            sqlite3 executemany(INSERT ...) in one transaction (WAL,
            synchronous=NORMAL, a 128 MiB page cache like merutable's
            default), committed.
  get       every key once, in random order, each row returned as a dict.
  scan      every row in key order, each as a dict.

sqlite3 returns tuples natively; to return "the same dicts" it needs a
row_factory, so both are shown (sqlite3 tuples is the lower bound of what
it costs sqlite3 to hand rows to Python at all). merutable's reads are
measured twice: right after the write (rows in the memtable) and after
compact() (rows in a column-tuned Parquet file, as a reopened table reads
them). The put_many line is split into its two halves to show where the
time goes: converting and encoding the rows (Batch.put, GIL held) and the
engine's write (Batch.commit, GIL released).

    PYTHONPATH=build/python python3 python/bench.py [--rows N] [--dir D]
"""
import argparse
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

# This file sits next to the merutable/ source folder, which has no built
# extension: import the module from PYTHONPATH or site-packages instead.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
import merutable  # noqa: E402

COLUMNS = ("id int64 not null, name string, email string, age int32, "
           "score double, active boolean")


def make_rows(n, seed=42):
    rnd = random.Random(seed)
    ids = list(range(n))
    rnd.shuffle(ids)  # written in random key order
    return [{"id": i, "name": "user%08d" % i,
             "email": "user%08d@example.com" % i, "age": rnd.randrange(100),
             "score": rnd.random() * 1000, "active": bool(i & 1)}
            for i in ids]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def rate(n, secs):
    return n / secs if secs > 0 else float("inf")


def best(fn, repeat):
    return min(timed(fn)[0] for _ in range(repeat))


def bench_merutable(path, rows, keys, repeat):
    res = {}
    db = merutable.open(path, schema=COLUMNS, primary_key="id")
    res["put_many"], _ = timed(lambda: db.put_many(rows))

    def get_all():
        g = db.get
        for k in keys:
            g(k)

    def scan_all():
        n = 0
        for _ in db.scan():
            n += 1
        assert n == len(rows), n

    res["get (memtable)"] = best(get_all, repeat)
    res["scan (memtable)"] = best(scan_all, repeat)
    db.compact()
    res["get (parquet)"] = best(get_all, repeat)
    res["scan (parquet)"] = best(scan_all, repeat)
    # Where put_many's time goes: the same rows into a second table, in
    # two steps.
    db2 = merutable.open(path + "-split", schema=COLUMNS, primary_key="id")
    b = db2.batch()

    def fill():
        put = b.put
        for r in rows:
            put(r)

    res["  convert+encode"], _ = timed(fill)
    res["  engine write"], _ = timed(b.commit)
    b.close()
    db2.close()
    db.close()
    return res


def bench_sqlite(path, rows, keys, repeat):
    res = {}
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    # The same memory budget as merutable's default page cache (128 MiB).
    con.execute("PRAGMA cache_size=-131072")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, "
                "email TEXT, age INTEGER, score REAL, active INTEGER)")

    def put_many():
        con.execute("BEGIN")
        con.executemany("INSERT INTO t VALUES (:id, :name, :email, :age, "
                        ":score, :active)", rows)
        con.execute("COMMIT")

    res["put_many"], _ = timed(put_many)
    names = [d[0] for d in con.execute("SELECT * FROM t LIMIT 0").description]

    def as_dict(cursor, row):
        return dict(zip(names, row))

    def get_all():
        cur = con.cursor()
        ex = cur.execute
        for k in keys:
            ex("SELECT * FROM t WHERE id = ?", (k,)).fetchone()

    def scan_all():
        n = 0
        for _ in con.execute("SELECT * FROM t ORDER BY id"):
            n += 1
        assert n == len(rows), n

    res["get (tuples)"] = best(get_all, repeat)
    res["scan (tuples)"] = best(scan_all, repeat)
    con.row_factory = as_dict
    res["get (dicts)"] = best(get_all, repeat)
    res["scan (dicts)"] = best(scan_all, repeat)
    con.close()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--repeat", type=int, default=3,
                    help="reads: best of this many runs")
    ap.add_argument("--dir", help="where the tables go (default: a "
                                  "temporary directory, removed after)")
    args = ap.parse_args()
    base = args.dir or tempfile.mkdtemp(prefix="pymeru-bench-")
    os.makedirs(base, exist_ok=True)
    rows = make_rows(args.rows)
    keys = [r["id"] for r in rows]
    random.Random(7).shuffle(keys)
    try:
        m = bench_merutable(os.path.join(base, "merutable"), rows, keys,
                            args.repeat)
        s = bench_sqlite(os.path.join(base, "sqlite.db"), rows, keys,
                         args.repeat)
    finally:
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)
    n = args.rows
    print("python %s, merutable %s, sqlite %s; %d rows of %d columns"
          % (sys.version.split()[0], merutable.__version__,
             sqlite3.sqlite_version, n, len(rows[0])))
    print("%-22s %14s" % ("merutable", "rows/s"))
    for k, v in m.items():
        print("%-22s %14.0f" % (k, rate(n, v)))
    print("%-22s %14s" % ("sqlite3", "rows/s"))
    for k, v in s.items():
        print("%-22s %14.0f" % (k, rate(n, v)))
    print("ratios (merutable / sqlite3 dicts): put_many %.2fx, get %.2fx "
          "(parquet) %.2fx (memtable), scan %.2fx (parquet) %.2fx (memtable)"
          % (s["put_many"] / m["put_many"],
             s["get (dicts)"] / m["get (parquet)"],
             s["get (dicts)"] / m["get (memtable)"],
             s["scan (dicts)"] / m["scan (parquet)"],
             s["scan (dicts)"] / m["scan (memtable)"]))


if __name__ == "__main__":
    main()
