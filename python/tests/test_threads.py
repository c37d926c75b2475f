# SPDX-License-Identifier: Apache-2.0
"""Threads: handles shared by writer and reader threads, one iterator shared
by several threads, batches and snapshots used across threads, close()
while others work, and the GIL released around blocking engine calls."""
import sys
import threading
import unittest

import merutable
from helpers import TableTest, scaled

SCHEMA = "id int64 not null, owner int32, name string"


def run_threads(targets):
    """Runs each callable in its own thread; re-raises the first error."""
    errors = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: B902 - handed to the test
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class SharedHandleTest(TableTest):
    def test_writers_and_readers_share_one_handle(self):
        db = self.open(schema=SCHEMA, primary_key="id", sync="none")
        per = scaled(2000, 200)
        nwriters = 4
        done = threading.Event()

        def writer(w):
            def fn():
                for i in range(per):
                    k = w * per + i
                    if i % 2:
                        db.put({"id": k, "owner": w, "name": "n%d" % k})
                    else:
                        with db.batch() as b:
                            b.put({"id": k, "owner": w, "name": "n%d" % k})
            return fn

        def reader():
            while not done.is_set():
                prev = None
                for r in db.scan(limit=500):
                    self.assertEqual(r["name"], "n%d" % r["id"])
                    if prev is not None:
                        self.assertLess(prev, r["id"])
                    prev = r["id"]
                r = db.get(0)
                self.assertIn(r, (None, {"id": 0, "owner": 0, "name": "n0"}))

        def writers():
            try:
                run_threads([writer(w) for w in range(nwriters)])
            finally:
                done.set()

        run_threads([writers, reader, reader])
        rows = list(db.scan())
        self.assertEqual([r["id"] for r in rows], list(range(per * nwriters)))
        self.assertEqual(db.stats()["last_sequence"], per * nwriters)

    def test_one_iterator_shared_by_threads(self):
        db = self.open(schema=SCHEMA, primary_key="id", sync="none")
        n = scaled(20000, 2000)
        db.put_many({"id": i, "name": "n%d" % i} for i in range(n))
        db.flush()
        it = db.scan()
        seen = [[] for _ in range(4)]

        def consumer(out):
            return lambda: out.extend(r["id"] for r in it)

        run_threads([consumer(s) for s in seen])
        ids = sorted(i for s in seen for i in s)
        self.assertEqual(ids, list(range(n)))  # each row exactly once
        for s in seen:  # and each thread saw its rows in key order
            self.assertEqual(s, sorted(s))

    def test_batch_commit_excludes_other_threads(self):
        db = self.open(schema=SCHEMA, primary_key="id", sync="every")
        b = db.batch()
        n = scaled(20000, 2000)
        for i in range(n):
            b.put({"id": i})
        committed = threading.Event()
        outcomes = {"busy": 0, "added": 0}

        def commit():
            try:
                b.commit()
            finally:
                committed.set()

        def poke():
            while not committed.is_set():
                try:
                    b.put({"id": -1})
                    outcomes["added"] += 1
                    break  # only after the commit (or before it began)
                except merutable.BusyError:
                    outcomes["busy"] += 1

        run_threads([commit, poke])
        # An entry added by the poker is either in the commit (it came
        # first) or still waiting in the batch; never lost, never torn.
        in_table = db.get(-1) is not None
        self.assertEqual(outcomes["added"], int(in_table) + len(b))
        self.assertEqual(sum(1 for _ in db.scan(0)), n)

    def test_put_during_a_commit_is_busy(self):
        """With forced switching off, the other thread can only run while
        the commit has released the GIL, that is while the engine reads the
        batch: its put() must be refused, not slipped into the batch."""
        db = self.open(schema=SCHEMA, primary_key="id", sync="every")
        old = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)
        try:
            for attempt in range(3):
                b = db.batch()
                for i in range(scaled(20000, 5000)):
                    b.put({"id": attempt * 100000 + i})
                go = threading.Event()
                outcome = []

                def poke():
                    go.wait()
                    try:
                        b.put({"id": -1})
                        outcome.append("added")
                    except merutable.BusyError:
                        outcome.append("busy")

                t = threading.Thread(target=poke)
                t.start()
                go.set()
                b.commit()
                t.join()
                if outcome == ["busy"]:
                    break
        finally:
            sys.setswitchinterval(old)
        self.assertEqual(outcome, ["busy"])
        self.assertIsNone(db.get(-1))

    def test_snapshot_closed_while_other_threads_read_it(self):
        db = self.open(schema=SCHEMA, primary_key="id")
        db.put_many({"id": i} for i in range(100))
        for _ in range(scaled(20, 5)):
            snap = db.snapshot()

            def reader():
                try:
                    for i in range(200):
                        self.assertIsNotNone(snap.get(i % 100))
                except merutable.ClosedError:
                    pass

            run_threads([reader, reader, snap.close])
            self.assertTrue(snap.closed)

    def test_close_while_others_scan_and_write(self):
        for _ in range(scaled(8, 3)):
            db = merutable.open(self.path(), SCHEMA, "id", sync="none")
            db.put_many({"id": i} for i in range(2000))
            started = threading.Barrier(3)

            def scanner():
                it = db.scan()
                started.wait()
                try:
                    for _ in it:
                        pass
                except merutable.ClosedError:
                    pass

            def writer():
                started.wait()
                try:
                    for i in range(2000):
                        db.put({"id": 10000 + i})
                except merutable.ClosedError:
                    pass

            def closer():
                started.wait()
                db.close()

            run_threads([scanner, writer, closer])
            self.assertTrue(db.closed)
            del db
            with merutable.open(self.path()) as again:
                self.assertEqual(sum(1 for r in again.scan(end=2000)), 2000)


class GilTest(TableTest):
    """Each blocking call lets another Python thread run while it is in the
    engine. The interpreter's forced switching is turned off
    (setswitchinterval), so the main thread gives the GIL away only where
    the module releases it: without the release the other thread's counter
    cannot move during the call at all."""

    def other_thread_runs_during(self, fn, tries=5):
        old = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)
        counter = [0]
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                counter[0] += 1
                stop.wait(0.0001)  # hands the GIL back to the main thread

        t = threading.Thread(target=spin)
        t.start()
        try:
            for _ in range(tries):
                before = counter[0]
                fn()
                if counter[0] != before:
                    return True
            return False
        finally:
            stop.set()
            t.join()
            sys.setswitchinterval(old)

    def test_blocking_calls_release_the_gil(self):
        db = self.open(schema=SCHEMA, primary_key="id", sync="every")
        db.put_many({"id": i, "name": "x"} for i in range(1000))
        db.flush()
        calls = {
            "put": lambda: [db.put({"id": i}) for i in range(20)],
            "delete": lambda: [db.delete(5000 + i) for i in range(20)],
            "put_many": lambda: [db.put_many([{"id": i}]) for i in range(20)],
            "batch": lambda: [db.batch().commit() or
                              db.put({"id": 1}) for _ in range(20)],
            "get": lambda: [db.get(i % 1000) for i in range(2000)],
            "scan": lambda: [list(db.scan(i, i + 5)) for i in range(500)],
            # Taking a snapshot is a few microseconds under the table mutex:
            # released too, but too short for the other thread to be
            # scheduled in; reads through one are long enough.
            "snapshot": lambda: [db.snapshot().get(i) for i in range(2000)],
            "flush": lambda: [db.put({"id": 1}) or db.flush()
                              for _ in range(3)],
            "compact": db.compact,
            "stats": lambda: [db.stats() for _ in range(500)],
            "open+close": lambda: merutable.open(
                self.path("other"), SCHEMA, "id").close(),
        }
        held = [n for n, fn in calls.items()
                if not self.other_thread_runs_during(fn)]
        self.assertEqual(held, [], "calls that kept the GIL")


if __name__ == "__main__":
    unittest.main()
