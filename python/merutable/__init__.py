# SPDX-License-Identifier: Apache-2.0
"""merutable: an embeddable single-table storage engine.

An LSM tree whose files are Apache Parquet and whose metadata is Apache
Iceberg compatible, as a CPython extension module. Everything lives in the
C extension ``merutable._merutable``; this file only re-exports it, so
``import merutable`` gives the whole API::

    import merutable
    with merutable.open("t", schema="id int64 not null, name string",
                        primary_key="id") as db:
        db.put({"id": 1, "name": "a"})
        db.get(1)   # {'id': 1, 'name': 'a'}

See python/README.md and the docstrings of each object.
"""
from ._merutable import *  # noqa: F401,F403
from ._merutable import __version__  # noqa: F401
