# SPDX-License-Identifier: Apache-2.0
"""The API of merutable.open() and DB: open modes, writes, reads, scans,
batches, snapshots, close, read-only handles, and every error class."""
import glob
import os
import unittest

import merutable
from helpers import TableTest

SCHEMA = "id int64 not null, name string, score double"


class OpenTest(TableTest):
    def test_create_then_reopen_with_stored_schema(self):
        with merutable.open(self.path(), schema=SCHEMA, primary_key="id") as db:
            self.assertEqual(db.put({"id": 1, "name": "a"}), 1)
            self.assertFalse(db.closed)
        self.assertTrue(db.closed)
        with merutable.open(self.path()) as db:
            self.assertEqual(db.get(1), {"id": 1, "name": "a", "score": None})
            self.assertEqual(db.name, "t")
            self.assertEqual(db.path, self.path())

    def test_path_like_and_bytes_paths(self):
        import pathlib
        with merutable.open(pathlib.Path(self.path()), SCHEMA, "id") as db:
            db.put({"id": 1})
        with merutable.open(os.fsencode(self.path())) as db:
            self.assertIsNotNone(db.get(1))

    def test_open_without_schema_needs_a_table(self):
        with self.assertRaises(merutable.NotFoundError) as cm:
            merutable.open(self.path("absent"))
        self.assertIsInstance(cm.exception, FileNotFoundError)
        self.assertFalse(os.path.exists(self.path("absent") + "/metadata"))

    def test_schema_must_match_or_extend(self):
        self.open(schema=SCHEMA, primary_key="id").close()
        with self.assertRaises(merutable.SchemaError):
            merutable.open(self.path(), schema="id int32 not null",
                           primary_key="id")
        # An additive schema (a new nullable column at the end) is taken.
        with merutable.open(self.path(), schema=SCHEMA + ", extra string",
                            primary_key="id") as db:
            self.assertEqual([c["name"] for c in db.schema][-1], "extra")

    def test_error_if_exists(self):
        self.open(schema=SCHEMA, primary_key="id").close()
        with self.assertRaises(merutable.ExistsError) as cm:
            merutable.open(self.path(), SCHEMA, "id", error_if_exists=True)
        self.assertIsInstance(cm.exception, FileExistsError)

    def test_bad_schema_text(self):
        with self.assertRaises(merutable.SchemaError) as cm:
            merutable.open(self.path(), schema="id nosuchtype",
                           primary_key="id")
        self.assertIn("nosuchtype", str(cm.exception))
        with self.assertRaises(merutable.SchemaError):
            merutable.open(self.path(), schema="id int64", primary_key="nope")
        with self.assertRaises(merutable.TypeMismatchError):
            merutable.open(self.path(), schema=["id int64"])
        with self.assertRaises(merutable.InvalidArgumentError):
            merutable.open(self.path(), primary_key="id")

    def test_second_writer_is_locked_out(self):
        self.open(schema=SCHEMA, primary_key="id")
        with self.assertRaises(merutable.LockedError) as cm:
            merutable.open(self.path())
        self.assertIsInstance(cm.exception, OSError)
        self.assertTrue(str(cm.exception))

    def test_options(self):
        with self.assertRaises(merutable.InvalidArgumentError):
            merutable.open(self.path(), SCHEMA, "id", sync="sometimes")
        with self.assertRaises(merutable.TypeMismatchError):
            merutable.open(self.path(), SCHEMA, "id", memtable_bytes="big")
        with self.assertRaises(merutable.InvalidArgumentError):
            merutable.open(self.path(), SCHEMA, "id", memtable_bytes=1)
        # A small memtable is flushed by itself once it fills.
        db = self.open(schema=SCHEMA, primary_key="id",
                       memtable_bytes=256 << 10, sync="none")
        db.put_many({"id": i, "name": "n" * 100} for i in range(20000))
        db.put({"id": -1})
        db.flush()
        self.assertGreater(db.stats()["flushes"], 1)
        for sync in ("every", "group", "none"):
            with merutable.open(self.path("s" + sync), SCHEMA, "id",
                                sync=sync) as db:
                db.put({"id": 1})
                syncs = db.stats()["wal_syncs"]
                self.assertEqual(syncs > 0, sync != "none", sync)


class WriteReadTest(TableTest):
    def setUp(self):
        super().setUp()
        self.db = self.open(schema=SCHEMA, primary_key="id")

    def test_put_get_delete(self):
        s1 = self.db.put({"id": 1, "name": "a", "score": 1.5})
        s2 = self.db.put({"id": 1, "name": "b"})
        self.assertEqual(s2, s1 + 1)
        self.assertEqual(self.db.get(1), {"id": 1, "name": "b",
                                          "score": None})
        self.assertIsNone(self.db.get(2))
        s3 = self.db.delete(1)
        self.assertEqual(s3, s2 + 1)
        self.assertIsNone(self.db.get(1))
        self.db.delete(12345)  # absent: not an error

    def test_put_takes_any_mapping(self):
        import types
        self.db.put(types.MappingProxyType({"id": 3, "name": "m"}))
        self.assertEqual(self.db.get(3)["name"], "m")
        with self.assertRaises(merutable.TypeMismatchError):
            self.db.put([("id", 1)])
        with self.assertRaises(merutable.TypeMismatchError):
            self.db.put(range(3))
        with self.assertRaises(merutable.TypeMismatchError):
            self.db.put({1: 2})
        with self.assertRaises(merutable.InvalidArgumentError) as cm:
            self.db.put({"id": 1, "nope": 2})
        self.assertIn("nope", str(cm.exception))

    def test_key_arity(self):
        with self.assertRaises(merutable.InvalidArgumentError):
            self.db.get()
        with self.assertRaises(merutable.InvalidArgumentError):
            self.db.get(1, 2)
        with self.assertRaises(merutable.InvalidArgumentError):
            self.db.delete()

    def test_put_many_is_one_atomic_batch(self):
        first = self.db.put_many({"id": i} for i in range(10))
        self.assertEqual(self.db.stats()["last_sequence"], first + 9)
        self.assertEqual(self.db.put_many([]), 0)
        before = self.db.stats()["last_sequence"]
        bad = [{"id": 100}, {"id": 101}, {"id": "x"}]
        with self.assertRaises(merutable.TypeMismatchError):
            self.db.put_many(bad)

        def failing():
            yield {"id": 200}
            raise KeyError("from the generator")
        with self.assertRaises(KeyError):
            self.db.put_many(failing())
        with self.assertRaises(merutable.TypeMismatchError):
            self.db.put_many(5)
        self.assertIsNone(self.db.get(100))
        self.assertIsNone(self.db.get(200))
        self.assertEqual(self.db.stats()["last_sequence"], before)

    def test_flush_compact_stats(self):
        self.db.put_many({"id": i, "name": str(i)} for i in range(1000))
        self.db.flush()
        st = self.db.stats()
        self.assertEqual(st["flushes"], 1)
        self.db.delete(5)
        self.db.compact()
        st = self.db.stats()
        self.assertGreaterEqual(st["compactions"], 1)
        self.assertEqual(sum(1 for _ in self.db.scan()), 999)
        self.assertEqual(self.db.get(6), {"id": 6, "name": "6",
                                          "score": None})
        self.assertEqual(st["total_rows"], sum(x["rows"] for x in st["level"]))


class ScanTest(TableTest):
    def setUp(self):
        super().setUp()
        self.db = self.open(schema="u string not null, n int32 not null, "
                                   "v string", primary_key="u,n")
        self.rows = [{"u": u, "n": n, "v": u + str(n)}
                     for u in ("a", "b", "c") for n in range(3)]
        self.db.put_many(self.rows)

    def keys(self, it):
        return [(r["u"], r["n"]) for r in it]

    def test_bounds_start_inclusive_end_exclusive(self):
        self.assertEqual(self.keys(self.db.scan()),
                         [(r["u"], r["n"]) for r in self.rows])
        self.assertEqual(self.keys(self.db.scan(("a", 1), ("b", 1))),
                         [("a", 1), ("a", 2), ("b", 0)])
        # A leading part of the key: start at the first "b", stop before
        # the first "c".
        self.assertEqual(self.keys(self.db.scan("b", "c")),
                         [("b", 0), ("b", 1), ("b", 2)])
        self.assertEqual(self.keys(self.db.scan(("b",), None)),
                         [("b", 0), ("b", 1), ("b", 2), ("c", 0), ("c", 1),
                          ("c", 2)])
        self.assertEqual(self.keys(self.db.scan(end="a")), [])
        self.assertEqual(self.keys(self.db.scan("c", "a")), [])

    def test_prefix_reverse_limit_columns(self):
        self.assertEqual(self.keys(self.db.scan(prefix="b")),
                         [("b", 0), ("b", 1), ("b", 2)])
        self.assertEqual(self.keys(self.db.scan(prefix=("b", 1))),
                         [("b", 1)])
        self.assertEqual(self.keys(self.db.scan(prefix="b", reverse=True)),
                         [("b", 2), ("b", 1), ("b", 0)])
        self.assertEqual(self.keys(self.db.scan("a", "b", reverse=True)),
                         [("a", 2), ("a", 1), ("a", 0)])
        self.assertEqual(self.keys(self.db.scan(limit=2)),
                         [("a", 0), ("a", 1)])
        self.assertEqual(list(self.db.scan(limit=0)), [])
        self.assertEqual(len(list(self.db.scan(limit=2**70))), 9)
        self.assertEqual(list(self.db.scan(prefix="c", columns=["v", "n"])),
                         [{"v": "c0", "n": 0}, {"v": "c1", "n": 1},
                          {"v": "c2", "n": 2}])
        with self.assertRaises(merutable.InvalidArgumentError) as cm:
            self.db.scan(columns=["nope"])
        self.assertIn("nope", str(cm.exception))
        with self.assertRaises(merutable.NoColumnError):
            self.db.scan(columns=["nope"])
        with self.assertRaises(merutable.TypeMismatchError):
            self.db.scan(columns="v")
        with self.assertRaises(merutable.InvalidArgumentError):
            self.db.scan(limit=-1)
        with self.assertRaises(merutable.InvalidArgumentError):
            self.db.scan(("a", 1, "extra"))
        with self.assertRaises(merutable.InvalidArgumentError):
            self.db.scan(())
        with self.assertRaises(merutable.TypeMismatchError):
            self.db.scan(5)

    def test_iterator_sees_the_state_it_started_on(self):
        it = self.db.scan()
        first = next(it)
        self.db.put({"u": "a", "n": 99})
        self.db.delete("c", 2)
        self.db.flush()
        rest = list(it)
        self.assertEqual(len(rest) + 1, 9)
        self.assertEqual(first["u"], "a")
        self.assertRaises(StopIteration, next, it)
        self.assertEqual(len(list(self.db.scan())), 9)

    def test_iterator_close(self):
        it = self.db.scan()
        next(it)
        it.close()
        self.assertEqual(list(it), [])
        it.close()  # idempotent
        self.assertIs(iter(it), it)


class BatchTest(TableTest):
    def setUp(self):
        super().setUp()
        self.db = self.open(schema=SCHEMA, primary_key="id")

    def test_commit_at_exit(self):
        self.db.put({"id": 9})
        with self.db.batch() as b:
            b.put({"id": 1, "name": "x"})
            b.put({"id": 2})
            b.delete(9)
            self.assertEqual(len(b), 3)
            self.assertIsNone(self.db.get(1))  # not yet
        self.assertEqual(b.sequence, 2)
        self.assertTrue(b.closed)
        self.assertEqual(self.db.get(1)["name"], "x")
        self.assertIsNotNone(self.db.get(2))
        self.assertIsNone(self.db.get(9))
        self.assertEqual(self.db.stats()["last_sequence"], 4)
        with self.assertRaises(merutable.ClosedError):
            b.put({"id": 3})

    def test_discarded_when_the_block_raises(self):
        with self.assertRaises(ZeroDivisionError):
            with self.db.batch() as b:
                b.put({"id": 1})
                1 / 0
        self.assertIsNone(self.db.get(1))
        self.assertEqual(self.db.stats()["last_sequence"], 0)

    def test_bad_entry_leaves_the_batch_as_it_was(self):
        b = self.db.batch()
        b.put({"id": 1})
        with self.assertRaises(merutable.InvalidArgumentError):
            b.put({"id": None})
        with self.assertRaises(merutable.InvalidArgumentError):
            b.delete()
        self.assertEqual(len(b), 1)
        self.assertEqual(b.commit(), 1)
        self.assertEqual(len(b), 0)
        b.put({"id": 2})
        b.clear()
        self.assertEqual(b.commit(), 0)  # empty
        b.close()
        b.close()
        self.assertIsNone(self.db.get(2))


class SnapshotTest(TableTest):
    def test_snapshot_reads_the_pinned_state(self):
        db = self.open(schema=SCHEMA, primary_key="id")
        db.put_many({"id": i, "name": "old"} for i in range(100))
        with db.snapshot() as s:
            self.assertEqual(s.sequence, 100)
            db.put_many({"id": i, "name": "new"} for i in range(50, 150))
            db.delete(0)
            db.flush()
            db.compact()
            self.assertEqual(s.get(0)["name"], "old")
            self.assertIsNone(s.get(120))
            rows = list(s.scan())
            self.assertEqual(len(rows), 100)
            self.assertTrue(all(r["name"] == "old" for r in rows))
            it = s.scan(10, 20, columns=["name"])
        self.assertTrue(s.closed)
        # The iterator pins its own view: it outlives its snapshot.
        self.assertEqual(len(list(it)), 10)
        with self.assertRaises(merutable.ClosedError):
            s.get(1)
        with self.assertRaises(merutable.ClosedError):
            s.scan()
        self.assertEqual(db.get(0), None)
        self.assertEqual(db.get(120)["name"], "new")


class CloseTest(TableTest):
    def test_everything_raises_after_close(self):
        db = self.open(schema=SCHEMA, primary_key="id")
        db.put_many({"id": i} for i in range(10))
        it = db.scan()
        next(it)
        snap = db.snapshot()
        b = db.batch()
        b.put({"id": 100})
        db.close()
        db.close()  # idempotent
        self.assertIn("closed", repr(db))
        for call in (lambda: db.put({"id": 1}), lambda: db.get(1),
                     lambda: db.delete(1), lambda: db.scan(),
                     lambda: db.put_many([]), db.flush, db.compact,
                     db.refresh, db.batch, db.snapshot, lambda: next(it),
                     lambda: snap.get(1), lambda: snap.scan(), b.commit,
                     lambda: b.put({"id": 2})):
            with self.assertRaises(merutable.ClosedError):
                call()
        # An iterator that was ended keeps ending.
        self.assertEqual(list(it), [])
        self.assertEqual(db.stats()["closed"], 1)
        self.assertEqual(db.schema[0]["name"], "id")
        with merutable.open(self.path()) as again:  # the lock was released
            self.assertEqual(len(list(again.scan())), 10)
            self.assertIsNone(again.get(100))

    def test_dropping_the_last_reference_closes(self):
        db = merutable.open(self.path(), SCHEMA, "id")
        db.put({"id": 1})
        it = db.scan()
        del db  # the iterator keeps the handle alive
        self.assertEqual(next(it)["id"], 1)
        with self.assertRaises(merutable.LockedError):
            merutable.open(self.path())
        del it
        with merutable.open(self.path()) as db:
            self.assertEqual(db.get(1)["id"], 1)


class ReadOnlyTest(TableTest):
    def test_reader_beside_a_writer_catches_up_with_refresh(self):
        w = self.open(schema=SCHEMA, primary_key="id")
        w.put({"id": 1})
        r = self.open(read_only=True)
        self.assertTrue(r.read_only)
        self.assertEqual(r.get(1)["id"], 1)
        w.put({"id": 2})
        w.flush()
        w.put({"id": 3})
        self.assertIsNone(r.get(2))
        r.refresh()
        self.assertEqual([x["id"] for x in r.scan()], [1, 2, 3])
        for call in (lambda: r.put({"id": 9}), lambda: r.delete(1),
                     lambda: r.put_many([{"id": 9}]), r.flush, r.compact):
            with self.assertRaises(merutable.ReadOnlyError) as cm:
                call()
            self.assertIsInstance(cm.exception, PermissionError)
        with self.assertRaises(merutable.ReadOnlyError):
            with r.batch() as b:
                b.put({"id": 9})
        w.refresh()  # a no-op on a writer


class ErrorsTest(TableTest):
    CLASSES = {
        "NotFoundError": (-1, FileNotFoundError),
        "InvalidArgumentError": (-2, ValueError),
        "OutOfMemoryError": (-3, MemoryError),
        "StorageError": (-4, OSError),
        "CorruptionError": (-5, OSError),
        "NotSupportedError": (-6, NotImplementedError),
        "LockedError": (-7, OSError),
        "ClosedError": (-8, ValueError),
        "ExistsError": (-9, FileExistsError),
        "SchemaError": (-10, ValueError),
        "NoSpaceError": (-11, OSError),
        "WritesStoppedError": (-12, OSError),
        "BusyError": (-13, RuntimeError),
        "RangeError": (-14, ValueError),
        "ReadOnlyError": (-15, PermissionError),
        "InternalError": (-16, RuntimeError),
        "TypeMismatchError": (-2, TypeError),
        "NoColumnError": (-17, KeyError),
        "ExpiredError": (-18, LookupError),
    }

    def test_one_class_per_status_with_its_builtin(self):
        self.assertIsNone(merutable.Error.code)
        for name, (code, builtin) in self.CLASSES.items():
            cls = getattr(merutable, name)
            self.assertTrue(issubclass(cls, merutable.Error), name)
            self.assertTrue(issubclass(cls, builtin), name)
            self.assertEqual(cls.code, code, name)
            self.assertEqual(cls.__module__, "merutable")
            self.assertTrue(cls.__doc__)
        self.assertTrue(issubclass(merutable.TypeMismatchError,
                                   merutable.InvalidArgumentError))
        self.assertTrue(issubclass(merutable.NoColumnError,
                                   merutable.InvalidArgumentError))
        errors = [n for n in dir(merutable) if n.endswith("Error")]
        self.assertEqual(sorted(errors), sorted(list(self.CLASSES) +
                                                ["Error"]))

    def test_storage_error_carries_the_engine_message(self):
        path = self.path("file")
        with open(path, "w") as f:
            f.write("not a directory")
        with self.assertRaises(merutable.StorageError) as cm:
            merutable.open(path, SCHEMA, "id")
        self.assertIn("Not a directory", str(cm.exception))
        self.assertEqual(cm.exception.code, -4)

    def test_corruption_error(self):
        with merutable.open(self.path(), SCHEMA, "id") as db:
            db.put_many({"id": i, "name": "v%06d" % i} for i in range(5000))
            db.flush()
        (data,) = glob.glob(self.path() + "/data/L0/*.parquet")
        with open(data, "r+b") as f:
            f.seek(os.path.getsize(data) // 3)
            f.write(b"\xde\xad\xbe\xef" * 64)
        with merutable.open(self.path()) as db:
            with self.assertRaises(merutable.CorruptionError) as cm:
                for _ in db.scan():
                    pass
            self.assertIsInstance(cm.exception, OSError)
            self.assertTrue(str(cm.exception))


if __name__ == "__main__":
    unittest.main()
