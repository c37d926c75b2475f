# SPDX-License-Identifier: Apache-2.0
"""Interop with the C tool: a table written by `meru` reads back typed in
Python, and one written from Python reads back in `meru` (as its JSON).
$MERU is the meru binary (ctest sets it)."""
import datetime as dt
import json
import os
import subprocess
import unittest
from decimal import Decimal

import merutable
from helpers import TableTest

MERU = os.environ.get("MERU")
COLUMNS = ("id int64 not null, s string, b binary, d date, ts timestamp, "
           "tz timestamptz, dec decimal(10,2), f float, ok boolean, "
           "fx fixed(2)")


def meru(*args, stdin=None):
    return subprocess.run([MERU, *args], input=stdin, capture_output=True,
                          text=True)


@unittest.skipUnless(MERU, "MERU (the meru binary) is not set")
class CliInteropTest(TableTest):
    def test_python_reads_a_table_the_cli_wrote(self):
        p = self.path()
        r = meru("create", p, "--schema", COLUMNS, "--primary-key", "id")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [
            '{"id":1,"s":"héllo","b":"00ff","d":"2024-02-29",'
            '"ts":"2024-02-29T01:02:03.000004",'
            '"tz":"2024-02-29T01:02:03.000004Z","dec":"-1.50","f":0.5,'
            '"ok":true,"fx":"abcd"}',
            '{"id":2}',
        ]
        r = meru("put", p, "-", stdin="\n".join(lines) + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = meru("flush", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        meru("put", p, '{"id":3,"s":"in the log"}')  # stays in the WAL
        with merutable.open(p, read_only=True) as db:
            rows = list(db.scan())
        self.assertEqual(rows[0], {
            "id": 1, "s": "héllo", "b": b"\x00\xff",
            "d": dt.date(2024, 2, 29),
            "ts": dt.datetime(2024, 2, 29, 1, 2, 3, 4),
            "tz": dt.datetime(2024, 2, 29, 1, 2, 3, 4,
                              tzinfo=dt.timezone.utc),
            "dec": Decimal("-1.50"), "f": 0.5, "ok": True, "fx": b"\xab\xcd",
        })
        self.assertEqual(rows[1]["id"], 2)
        self.assertIsNone(rows[1]["s"])
        self.assertEqual(rows[2]["s"], "in the log")
        with merutable.open(p) as db:  # a writer too
            self.assertEqual(db.get(3)["s"], "in the log")
            self.assertEqual(db.name, "t")

    def test_cli_reads_a_table_python_wrote(self):
        p = self.path()
        with merutable.open(p, schema=COLUMNS, primary_key="id") as db:
            db.put({"id": 7, "s": "x\"y", "b": b"\x01",
                    "d": dt.date(1969, 7, 20),
                    "ts": dt.datetime(1969, 7, 20, 20, 17),
                    "tz": dt.datetime(2024, 1, 1, 5, 30, tzinfo=dt.timezone(
                        dt.timedelta(hours=5, minutes=30))),
                    "dec": Decimal("3.1"), "f": 2.0, "ok": False,
                    "fx": b"\x00\x01"})
            db.put_many({"id": i} for i in range(10, 13))
            db.flush()
            db.delete(11)
        r = meru("get", p, "7")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {
            "id": 7, "s": "x\"y", "b": "01", "d": "1969-07-20",
            "ts": "1969-07-20T20:17:00", "tz": "2024-01-01T00:00:00Z",
            "dec": "3.10", "f": 2.0, "ok": False, "fx": "0001"})
        r = meru("scan", p, "--format", "jsonl", "--columns", "id")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([json.loads(x)["id"] for x in r.stdout.split()],
                         [7, 10, 12])
        self.assertEqual(meru("get", p, "11").returncode, 1)
        r = meru("verify", p)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_cli_is_locked_out_while_python_writes(self):
        p = self.path()
        db = self.open(schema=COLUMNS, primary_key="id")
        r = meru("put", p, '{"id":1}')
        self.assertEqual(r.returncode, 1)
        self.assertIn("lock", r.stderr.lower())
        db.close()
        self.assertEqual(meru("put", p, '{"id":1}').returncode, 0)
        with merutable.open(p) as db:
            self.assertIsNotNone(db.get(1))


if __name__ == "__main__":
    unittest.main()
