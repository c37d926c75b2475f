# SPDX-License-Identifier: Apache-2.0
"""DB.changes(): the change feed as dicts (kinds, rows, pre-images, order),
resuming from the last seq, a read-only follower, an expired since
(ExpiredError naming the oldest), bad arguments, an iterator used after
close(), and one iterator shared by threads."""
import datetime as dt
import os
import subprocess
import threading
import unittest

import merutable
from helpers import TableTest

SCHEMA = "id int64 not null, name string, d date"
MERU = os.environ.get("MERU")


class ChangesTest(TableTest):
    def history(self):
        db = self.open(schema=SCHEMA, primary_key="id")
        db.put({"id": 1, "name": "a", "d": dt.date(2024, 2, 29)})   # 1
        db.put({"id": 2, "name": "b"})                              # 2
        db.flush()  # 1 and 2 in a changelog file, the rest in memory
        db.put({"id": 1, "name": "a2"})                             # 3
        db.delete(2)                                                # 4
        db.delete(3)  # absent: a sequence (5), but no change
        db.put_many([{"id": 3, "name": "c"}, {"id": 1}])            # 6, 7
        return db

    def test_kinds_rows_before_and_order(self):
        db = self.history()
        a = {"id": 1, "name": "a", "d": dt.date(2024, 2, 29)}
        a2 = {"id": 1, "name": "a2", "d": None}
        b = {"id": 2, "name": "b", "d": None}
        c = {"id": 3, "name": "c", "d": None}
        bare = {"id": 1, "name": None, "d": None}
        want = [
            {"seq": 1, "op": "insert", "row": a, "before": None},
            {"seq": 2, "op": "insert", "row": b, "before": None},
            {"seq": 3, "op": "update", "row": a2, "before": a},
            {"seq": 4, "op": "delete", "row": None, "before": b},
            {"seq": 6, "op": "insert", "row": c, "before": None},
            {"seq": 7, "op": "update", "row": bare, "before": a2},
        ]
        self.assertEqual(list(db.changes()), want)
        self.assertEqual(list(db.changes(since=0)), want)
        self.assertEqual(list(db.changes(3)), want[3:])
        # The rows are the dicts get() returns.
        self.assertEqual(want[-1]["row"], db.get(1))
        # The same after the rest is flushed and compacted.
        db.flush()
        db.compact()
        self.assertEqual(list(db.changes()), want)

    def test_resume_from_the_last_seq(self):
        db = self.history()
        seen = list(db.changes())
        it = db.changes(seen[-1]["seq"])
        db.put({"id": 9, "name": "later"})  # after the iterator: not in it
        self.assertEqual(list(it), [])
        new = list(db.changes(seen[-1]["seq"]))
        self.assertEqual([(c["seq"], c["op"], c["row"]["id"]) for c in new],
                         [(8, "insert", 9)])
        self.assertEqual(list(db.changes(new[-1]["seq"])), [])
        self.assertEqual(list(db.changes(2**64 - 1)), [])

    def test_read_only_follower(self):
        db = self.history()
        reader = self.open(read_only=True)
        self.assertEqual(len(list(reader.changes())), 6)
        db.delete(3)
        self.assertEqual(list(reader.changes(7)), [])
        reader.refresh()
        self.assertEqual([(c["seq"], c["op"], c["before"]["name"])
                          for c in reader.changes(7)], [(8, "delete", "c")])

    def test_bad_since(self):
        db = self.history()
        with self.assertRaises(merutable.InvalidArgumentError) as e:
            db.changes(-1)
        self.assertIsInstance(e.exception, ValueError)
        with self.assertRaises(merutable.TypeMismatchError):
            db.changes("1")
        with self.assertRaises(TypeError):
            db.changes(True)
        with self.assertRaises(TypeError):
            db.changes(1.0)
        with self.assertRaises(merutable.RangeError):
            db.changes(2**64)
        with self.assertRaises(TypeError):
            db.changes(1, 2)
        with self.assertRaises(TypeError):
            db.changes(until=1)

    def test_iterator_used_after_close(self):
        db = self.history()
        it = db.changes()
        self.assertEqual(next(it)["seq"], 1)
        db.close()
        with self.assertRaises(merutable.ClosedError) as e:
            next(it)
        self.assertIn("closed", str(e.exception))
        self.assertEqual(list(it), [])  # ended, no crash
        it.close()
        with self.assertRaises(merutable.ClosedError):
            db.changes()
        # An iterator that outlives its last DB reference keeps it alive.
        db2 = merutable.open(self.path("u"), SCHEMA, "id")
        db2.put({"id": 1})
        it2 = db2.changes()
        del db2
        self.assertEqual(next(it2)["row"]["id"], 1)
        it2.close()
        self.assertEqual(list(it2), [])

    def test_one_iterator_shared_by_threads(self):
        db = self.open(schema=SCHEMA, primary_key="id")
        n = 2000
        db.put_many({"id": i, "name": str(i)} for i in range(n))
        it = db.changes()
        got = [[] for _ in range(4)]

        def drain(out):
            for c in it:
                out.append(c["seq"])

        threads = [threading.Thread(target=drain, args=(g,)) for g in got]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seqs = sorted(s for g in got for s in g)
        self.assertEqual(seqs, list(range(1, n + 1)))

    @unittest.skipUnless(MERU, "MERU (the meru binary) is not set")
    def test_expired_since_raises_expired_error(self):
        p = self.path()
        r = subprocess.run(
            [MERU, "create", p, "--schema", SCHEMA, "--primary-key", "id",
             "--property", "merutable.changes.retention-bytes=1"],
            capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        db = self.open()
        db.put({"id": 1})
        db.put({"id": 2})
        db.flush()
        db.put({"id": 3})
        db.flush()  # only this newest changelog file is kept
        with self.assertRaises(merutable.ExpiredError) as e:
            db.changes(0)
        self.assertIsInstance(e.exception, LookupError)
        self.assertIsInstance(e.exception, merutable.Error)
        self.assertIn("the oldest since_seq available is 2",
                      str(e.exception))
        with self.assertRaises(merutable.ExpiredError):
            db.changes(1)
        self.assertEqual([c["seq"] for c in db.changes(2)], [3])


if __name__ == "__main__":
    unittest.main()
