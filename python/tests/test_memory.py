# SPDX-License-Identifier: Apache-2.0
"""No leaks: put/get/scan/changes (and their error paths) looped many times leave
Python's traced memory, the reference counts of the objects passed in and
the process's resident memory flat."""
import datetime as dt
import gc
import os
import sys
import tracemalloc
import unittest
from decimal import Decimal

import merutable
from helpers import SANITIZED, TableTest, scaled

SCHEMA = ("id int64 not null, name string, blob binary, at timestamptz, "
          "day date, price decimal(12,2), score double, ok boolean")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class LeakTest(TableTest):
    def setUp(self):
        super().setUp()
        # A small memtable and cache: the engine's own memory stays
        # bounded, so what grows would be the module's. The cache is
        # small enough to fill during the warm-up (a 4 MiB one was still
        # filling with changelog pages 100k rounds in: RSS rose ~4 MB
        # before it levelled off).
        self.db = self.open(schema=SCHEMA, primary_key="id", sync="none",
                            memtable_bytes=1 << 20, cache_bytes=1 << 20)
        self.at = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
        self.day = dt.date(2024, 5, 6)
        self.price = Decimal("12.34")
        self.blob = b"\x00" * 64

    def one_round(self, i):
        db = self.db
        k = i % 512
        seq = db.put({"id": k, "name": "name-%d" % k, "blob": self.blob,
                "at": self.at, "day": self.day, "price": self.price,
                "score": 0.5, "ok": True})
        assert db.get(k)["id"] == k
        if i % 8 == 0:  # a short scan costs the engine a page decode per file
            for _ in db.scan(k, k + 3):
                pass
        if i % 64 == 0:
            db.put_many([{"id": k, "name": "x"}, {"id": k + 1}])
            db.delete(k + 2)
            with db.snapshot() as s:
                s.get(k)
            with db.batch() as b:
                b.put({"id": k})
            db.stats()
            since = max(0, seq - 3)
            for c in db.changes(since):  # the put above, its pre-image, ...
                assert c["seq"] > since
            # Error paths too.
            try:
                db.changes(-1)
            except merutable.Error:
                pass
            for bad in ({"id": "x"}, {"id": k, "nope": 1},
                        {"id": k, "price": Decimal("1.001")}):
                try:
                    db.put(bad)
                except merutable.Error:
                    pass
            try:
                list(db.scan(columns=["nope"]))
            except merutable.Error:
                pass

    def test_loops_leave_memory_flat(self):
        n = scaled(100000, 5000)
        for i in range(n // 4):  # warm-up: caches, pools, memtables fill
            self.one_round(i)
        refs = [sys.getrefcount(o) for o in (self.at, self.day, self.price,
                                             self.blob)]
        gc.collect()
        tracemalloc.start()
        traced0 = tracemalloc.get_traced_memory()[0]
        rss0 = rss_bytes()
        # RSS is a sawtooth (memtables fill and are flushed, compactions
        # come and go: ~9 MB peak to trough here), so two single samples
        # can differ by more than any limit a leak check can use. Compare
        # the envelopes instead: the highest sample of the first quarter
        # with the highest of the last, 3/4 of the rounds apart.
        samples = []
        for i in range(n):
            self.one_round(i)
            if i % 500 == 0:
                samples.append(rss_bytes())
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] - traced0
        tracemalloc.stop()
        rss = rss_bytes() - rss0
        q = max(1, len(samples) // 4)
        rss_late = max(samples[-q:]) - max(samples[:q])
        # One leaked object per round would be >= 16 bytes * n.
        self.assertLess(traced, 64 * 1024,
                        "Python memory grew by %d bytes" % traced)
        self.assertEqual(refs, [sys.getrefcount(o) for o in (
            self.at, self.day, self.price, self.blob)])
        # ASan's quarantine makes RSS meaningless; below ~50k rounds the
        # samples are too few and too close together. Past that a leak of
        # ~60 bytes a round (a row or key per round would be hundreds)
        # lifts the last quarter's envelope by more than the limit.
        if not SANITIZED and n >= 50000:
            self.assertLess(rss_late, n * 40,
                            "RSS peak grew by %d bytes from the first "
                            "quarter to the last" % rss_late)
        print("\n  %d rounds: traced %+d bytes, RSS %+d KiB (peak, first "
              "to last quarter %+d KiB)" % (n, traced, rss // 1024,
                                             rss_late // 1024),
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
