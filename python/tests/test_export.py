# SPDX-License-Identifier: Apache-2.0
"""DB.export_iceberg(): the exported Iceberg table reads back (opened
read-only, and by `meru iceberg`) as exactly the source's committed rows;
a non-empty target, a closed handle and a bad path are errors."""
import glob
import os
import subprocess
import unittest

import merutable
from helpers import TableTest

SCHEMA = "id int64 not null, name string"
MERU = os.environ.get("MERU")


class ExportIcebergTest(TableTest):
    def source(self):
        db = self.open(schema=SCHEMA, primary_key="id")
        db.put_many({"id": i, "name": "n%d" % i} for i in range(40))
        db.flush()
        db.put({"id": 3, "name": "three"})  # an overwrite
        db.delete(5)                         # a delete
        db.flush()
        return db

    def test_export_reads_back_as_the_scan(self):
        db = self.source()
        target = self.path("export")
        self.assertIsNone(db.export_iceberg(target))
        self.assertTrue(glob.glob(os.path.join(target, "metadata",
                                               "*.metadata.json")))
        with merutable.open(target, read_only=True) as copy:
            self.assertEqual(list(copy.scan()), list(db.scan()))
            self.assertEqual(copy.get(3), {"id": 3, "name": "three"})
            self.assertIsNone(copy.get(5))
        if MERU:
            r = subprocess.run([MERU, "iceberg", target],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("live rows: 39\n", r.stdout)

    def test_errors(self):
        db = self.source()
        target = self.path("export")
        os.makedirs(target)
        with open(os.path.join(target, "x"), "w") as f:
            f.write("x")
        with self.assertRaises(merutable.ExistsError):
            db.export_iceberg(target)
        with self.assertRaises(TypeError):
            db.export_iceberg(42)
        with self.assertRaises(ValueError):
            db.export_iceberg("a\0b")
        db.close()
        with self.assertRaises(merutable.ClosedError):
            db.export_iceberg(self.path("export2"))


if __name__ == "__main__":
    unittest.main()
