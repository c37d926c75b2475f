# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the merutable unittest suite (not a test module).

Tables go in temporary directories under $MERU_TEST_TMP when ctest sets it
(the build tree), else the system temp dir. MERU_TEST_SCALE (0.25 under
`make test`) shrinks loop counts; MERU_PY_SANITIZED is set when the module
runs under ASan (RSS measurements mean nothing there).
"""
import os
import shutil
import tempfile
import unittest

import merutable

SCALE = float(os.environ.get("MERU_TEST_SCALE", "1") or "1")
SANITIZED = bool(os.environ.get("MERU_PY_SANITIZED"))


def scaled(n, minimum=1):
    """n times MERU_TEST_SCALE, at least `minimum`."""
    return max(minimum, int(n * SCALE))


class TableTest(unittest.TestCase):
    """A test case with a fresh temporary directory per test."""

    def setUp(self):
        base = os.environ.get("MERU_TEST_TMP")
        if base:
            os.makedirs(base, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="pymeru-", dir=base)
        self._dbs = []

    def tearDown(self):
        for db in self._dbs:
            db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name="t"):
        return os.path.join(self.tmp, name)

    def open(self, name="t", schema=None, primary_key=None, **kw):
        db = merutable.open(self.path(name), schema, primary_key, **kw)
        self._dbs.append(db)
        return db
