# SPDX-License-Identifier: Apache-2.0
"""Every column type both ways: what put() takes, what get()/scan() give
back, and what each type refuses (TypeMismatchError, RangeError)."""
import datetime as dt
import math
import struct
import unittest
from decimal import Decimal

import merutable
from helpers import TableTest

UTC = dt.timezone.utc

ALL_TYPES = (
    "id int64 not null, b boolean, i32 int32, i64 int64, f float, d double, "
    "s string, bin binary, fx fixed(4), day date, ts timestamp, "
    "tz timestamptz, dec decimal(10,2), big decimal(38,0)"
)


class Index:
    """An int-like object (as numpy integers are): has __index__ only."""

    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


class TypesTest(TableTest):
    def setUp(self):
        super().setUp()
        self.db = self.open(schema=ALL_TYPES, primary_key="id")
        self.next_id = 0

    def roundtrip(self, col, value):
        """Writes `value` into `col` of a new row and returns what get()
        and scan() give back (checked to agree)."""
        self.next_id += 1
        self.db.put({"id": self.next_id, col: value})
        got = self.db.get(self.next_id)[col]
        scanned = list(self.db.scan(self.next_id, self.next_id + 1))
        self.assertEqual(len(scanned), 1)
        if not (isinstance(got, float) and math.isnan(got)):
            self.assertEqual(scanned[0][col], got)
        return got

    def rejects(self, col, value, cls):
        before = self.db.stats()["last_sequence"]
        with self.assertRaises(cls) as cm:
            self.db.put({"id": 999999, col: value})
        self.assertIsNone(self.db.get(999999))  # bad input changes nothing
        self.assertEqual(self.db.stats()["last_sequence"], before)
        return str(cm.exception)

    def test_every_column_comes_back_typed(self):
        row = {
            "id": 1, "b": True, "i32": -7, "i64": 1 << 40, "f": 0.5,
            "d": 0.1, "s": "héllo", "bin": b"\x00\xff", "fx": b"abcd",
            "day": dt.date(2024, 2, 29),
            "ts": dt.datetime(2024, 2, 29, 13, 14, 15, 161718),
            "tz": dt.datetime(2024, 2, 29, 13, 14, 15, 161718, tzinfo=UTC),
            "dec": Decimal("-12.34"), "big": Decimal(10**37),
        }
        self.db.put(row)
        got = self.db.get(1)
        self.assertEqual(got, row)
        for k, v in row.items():
            self.assertIs(type(got[k]), type(v), k)
        self.assertEqual(list(got), [c["name"] for c in self.db.schema])

    def test_null_and_missing_columns(self):
        self.db.put({"id": 1})
        self.assertTrue(all(v is None for k, v in self.db.get(1).items()
                            if k != "id"))
        row = {c["name"]: None for c in self.db.schema}
        row["id"] = 2
        self.db.put(row)
        self.assertEqual(self.db.get(2), row)
        msg = self.rejects("id", None, merutable.InvalidArgumentError)
        self.assertIn("id", msg)

    def test_bool(self):
        self.assertIs(self.roundtrip("b", True), True)
        self.assertIs(self.roundtrip("b", False), False)
        self.rejects("b", 1, merutable.TypeMismatchError)
        self.rejects("b", "true", merutable.TypeMismatchError)

    def test_int32(self):
        for v in (0, -1, 2**31 - 1, -2**31):
            self.assertEqual(self.roundtrip("i32", v), v)
        self.assertEqual(self.roundtrip("i32", Index(42)), 42)
        msg = self.rejects("i32", 2**31, merutable.RangeError)
        self.assertIn("i32", msg)
        self.rejects("i32", -2**31 - 1, merutable.RangeError)
        self.rejects("i32", True, merutable.TypeMismatchError)
        self.rejects("i32", 1.0, merutable.TypeMismatchError)
        self.rejects("i32", "1", merutable.TypeMismatchError)

    def test_int64(self):
        for v in (2**63 - 1, -2**63, 123456789012345):
            self.assertEqual(self.roundtrip("i64", v), v)
        self.rejects("i64", 2**63, merutable.RangeError)
        self.rejects("i64", -2**63 - 1, merutable.RangeError)
        self.rejects("i64", 10**30, merutable.RangeError)

    def test_float(self):
        f32 = struct.unpack("f", struct.pack("f", 0.1))[0]
        self.assertEqual(self.roundtrip("f", 0.1), f32)
        self.assertEqual(self.roundtrip("f", 3), 3.0)
        self.assertEqual(self.roundtrip("f", math.inf), math.inf)
        self.assertTrue(math.isnan(self.roundtrip("f", math.nan)))
        self.rejects("f", 1e39, merutable.RangeError)
        self.rejects("f", "1.5", merutable.TypeMismatchError)
        self.rejects("f", True, merutable.TypeMismatchError)

    def test_double(self):
        for v in (0.1, -0.0, 1e308, -math.inf, 5e-324):
            got = self.roundtrip("d", v)
            self.assertEqual(struct.pack("d", got), struct.pack("d", v))
        self.assertIs(type(self.roundtrip("d", 7)), float)
        self.assertTrue(math.isnan(self.roundtrip("d", math.nan)))
        self.rejects("d", 10**400, merutable.RangeError)
        self.rejects("d", Decimal("1"), merutable.TypeMismatchError)

    def test_string(self):
        for v in ("", "a\x00b", "日本語 🎉", "x" * 100000):
            self.assertEqual(self.roundtrip("s", v), v)
        msg = self.rejects("s", "\ud800", merutable.InvalidArgumentError)
        self.assertIn("surrogate", msg)
        self.rejects("s", b"bytes", merutable.TypeMismatchError)
        self.rejects("s", 5, merutable.TypeMismatchError)

    def test_oversize_value_is_refused_by_the_engine(self):
        big = b"x" * (merutable.MAX_VALUE_BYTES + 1)
        msg = self.rejects("bin", big, merutable.RangeError)
        self.assertIn("bin", msg)

    def test_binary_takes_any_contiguous_buffer(self):
        self.assertEqual(self.roundtrip("bin", b""), b"")
        self.assertEqual(self.roundtrip("bin", bytearray(b"\x01\x02")),
                         b"\x01\x02")
        self.assertEqual(self.roundtrip("bin", memoryview(b"abcdef")[1:3]),
                         b"bc")
        self.assertIs(type(self.roundtrip("bin", bytearray(b"z"))), bytes)
        self.rejects("bin", memoryview(b"abcdef")[::2],
                     merutable.TypeMismatchError)
        self.rejects("bin", "text", merutable.TypeMismatchError)

    def test_fixed_length_is_checked(self):
        self.assertEqual(self.roundtrip("fx", b"\x00\x01\x02\x03"),
                         b"\x00\x01\x02\x03")
        msg = self.rejects("fx", b"abc", merutable.InvalidArgumentError)
        self.assertIn("fx", msg)

    def test_date(self):
        for v in (dt.date(1970, 1, 1), dt.date(1969, 12, 31),
                  dt.date(1, 1, 1), dt.date(9999, 12, 31),
                  dt.date(2000, 2, 29)):
            self.assertEqual(self.roundtrip("day", v), v)
        self.rejects("day", dt.datetime(2020, 1, 1),
                     merutable.TypeMismatchError)
        self.rejects("day", "2020-01-01", merutable.TypeMismatchError)

    def test_timestamp_is_naive(self):
        for v in (dt.datetime(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59,
                                                       59, 999999),
                  dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59,
                                                    999999)):
            got = self.roundtrip("ts", v)
            self.assertEqual(got, v)
            self.assertIsNone(got.tzinfo)
        msg = self.rejects("ts", dt.datetime(2020, 1, 1, tzinfo=UTC),
                           merutable.TypeMismatchError)
        self.assertIn("naive", msg)
        self.rejects("ts", dt.date(2020, 1, 1), merutable.TypeMismatchError)

    def test_timestamptz_is_stored_as_utc(self):
        ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
        v = dt.datetime(2024, 1, 1, 5, 30, tzinfo=ist)
        got = self.roundtrip("tz", v)
        self.assertEqual(got, v)  # the same instant
        self.assertIs(got.tzinfo, UTC)
        self.assertEqual(got, dt.datetime(2024, 1, 1, tzinfo=UTC))
        west = dt.timezone(dt.timedelta(hours=-8))
        v = dt.datetime(1969, 12, 31, 20, 0, 0, 1, tzinfo=west)
        self.assertEqual(self.roundtrip("tz", v),
                         dt.datetime(1970, 1, 1, 4, 0, 0, 1, tzinfo=UTC))
        msg = self.rejects("tz", dt.datetime(2020, 1, 1),
                           merutable.TypeMismatchError)
        self.assertIn("aware", msg)

    def test_decimal_is_exact(self):
        self.assertEqual(str(self.roundtrip("dec", Decimal("12.34"))),
                         "12.34")
        self.assertEqual(str(self.roundtrip("dec", Decimal("-0.01"))),
                         "-0.01")
        self.assertEqual(str(self.roundtrip("dec", 5)), "5.00")
        self.assertEqual(str(self.roundtrip("dec", Decimal("1.5"))), "1.50")
        # Zeros past the scale are exact, not rounding: accepted.
        self.assertEqual(str(self.roundtrip("dec", Decimal("1.500"))), "1.50")
        self.assertEqual(str(self.roundtrip("dec", Decimal("1E+2"))),
                         "100.00")
        self.assertEqual(str(self.roundtrip("dec", Decimal("0E-9"))), "0.00")
        self.assertEqual(str(self.roundtrip("dec", Decimal("99999999.99"))),
                         "99999999.99")
        msg = self.rejects("dec", Decimal("1.005"), merutable.RangeError)
        self.assertIn("scale", msg)
        msg = self.rejects("dec", Decimal("123456789.00"),
                           merutable.RangeError)
        self.assertIn("precision", msg)
        self.rejects("dec", Decimal("1E+40"), merutable.RangeError)
        self.rejects("dec", Decimal("NaN"), merutable.InvalidArgumentError)
        self.rejects("dec", Decimal("-Infinity"),
                     merutable.InvalidArgumentError)
        self.rejects("dec", 1.5, merutable.TypeMismatchError)
        self.rejects("dec", "1.5", merutable.TypeMismatchError)
        big = Decimal("-" + "9" * 38)
        self.assertEqual(self.roundtrip("big", big), big)
        self.rejects("big", Decimal("1" + "0" * 38), merutable.RangeError)


class KeyTypesTest(TableTest):
    def test_composite_key_of_several_types(self):
        db = self.open(schema="u string not null, at timestamptz not null, "
                              "n int32 not null, v double",
                       primary_key=["u", "at", "n"])
        t0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
        rows = [{"u": u, "at": t0 + dt.timedelta(seconds=s), "n": n,
                 "v": float(n)}
                for u in ("", "a", "a\x00", "b") for s in (0, 1) for n in
                (-1, 0, 1)]
        db.put_many(reversed(rows))
        expected = sorted(rows, key=lambda r: (r["u"].encode(), r["at"],
                                               r["n"]))
        self.assertEqual(list(db.scan()), expected)
        for r in rows:
            self.assertEqual(db.get(r["u"], r["at"], r["n"]), r)
            self.assertEqual(db.get((r["u"], r["at"], r["n"])), r)
        self.assertEqual(db.primary_key, ("u", "at", "n"))

    def test_float_and_date_keys(self):
        db = self.open(schema="k double not null, d date not null",
                       primary_key="k,d")
        for k in (-1.5, 0.0, 2.25, math.inf):
            db.put({"k": k, "d": dt.date(2020, 1, 2)})
        self.assertEqual([r["k"] for r in db.scan()],
                         [-1.5, 0.0, 2.25, math.inf])
        with self.assertRaises(merutable.InvalidArgumentError):
            db.put({"k": math.nan, "d": dt.date(2020, 1, 2)})


class DefaultsTest(TableTest):
    def test_write_default_fills_a_missing_column(self):
        db = self.open(schema="id int64 not null, price decimal(6,2) "
                              "default 1.25, tag string default \"x\", "
                              "n int32 not null default 7",
                       primary_key="id")
        db.put({"id": 1})
        self.assertEqual(db.get(1), {"id": 1, "price": Decimal("1.25"),
                                     "tag": "x", "n": 7})
        db.put({"id": 2, "price": None, "n": 3})
        self.assertEqual(db.get(2), {"id": 2, "price": None, "tag": "x",
                                     "n": 3})
        desc = {c["name"]: c for c in db.schema}
        self.assertEqual(desc["price"]["default"], Decimal("1.25"))
        self.assertEqual(desc["n"]["default"], 7)
        self.assertNotIn("default", desc["id"])

    def test_schema_description(self):
        db = self.open(schema="id int64 not null, p decimal(12,3), "
                              "h fixed(16), at timestamptz",
                       primary_key="id", name="things")
        self.assertEqual(db.name, "things")
        self.assertEqual(db.schema, [
            {"name": "id", "type": "int64", "nullable": False, "field_id": 1,
             "primary_key": True},
            {"name": "p", "type": "decimal(12,3)", "nullable": True,
             "field_id": 2, "primary_key": False, "precision": 12,
             "scale": 3},
            {"name": "h", "type": "fixed(16)", "nullable": True,
             "field_id": 3, "primary_key": False, "length": 16},
            {"name": "at", "type": "timestamptz", "nullable": True,
             "field_id": 4, "primary_key": False},
        ])
        # A copy each time: changing it changes nothing.
        db.schema[0]["name"] = "zzz"
        self.assertEqual(db.schema[0]["name"], "id")
        # The description's types re-create the same schema.
        text = ", ".join(c["name"] + " " + c["type"] +
                         ("" if c["nullable"] else " not null")
                         for c in db.schema)
        again = self.open("again", schema=text, primary_key="id")
        self.assertEqual(again.schema, db.schema)


if __name__ == "__main__":
    unittest.main()
