/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_lookup.h — what the table's files hold of many keys at once, and the
 * deletion vectors of the Iceberg view computed from the data alone.
 *
 * The Iceberg view (SPEC §9) shows every live data file minus its deletion
 * vector, and must show exactly one row per live user key: the newest
 * version when it is a put, nothing when it is a delete. A flush keeps that
 * true by hiding, in the older files, the newest older version of each key
 * it writes (meru_db_lookup_older finds them); the change feed uses the
 * same lookup for pre-images. meru_db_rebuild_dvs is the oracle: every
 * file's vector from one merge over the data, for tables whose vectors
 * were not maintained and for checking the maintained ones.
 *
 * File lists are in view order (db_internal.h: L0 newest first, then each
 * level >= 1 by smallest key, its files not overlapping).
 */
#ifndef MERU_ENGINE_DB_LOOKUP_H
#define MERU_ENGINE_DB_LOOKUP_H

#include "engine/db_internal.h"
#include "iceberg/dv.h"
#include "sst/sst.h"

/* The newest version of a key among a list of files. */
typedef struct meru_db_older {
    /* MERU_SST_NOT_FOUND: no file holds the key; MERU_SST_FOUND: a put;
     * MERU_SST_DELETED: a delete. */
    meru_sst_state state;
    uint64_t seq;  /* the version's sequence (found or deleted) */
    size_t file;   /* its file: an index into the list given */
    uint64_t pos;  /* its row position in that file (Iceberg's _pos) */
} meru_db_older;

typedef struct meru_db_lookup_stats {
    uint64_t keys;           /* keys asked */
    uint64_t probes;         /* (file, key range) lookups run */
    uint64_t bloom_checks;   /* keys that consulted a file's filters */
    uint64_t bloom_negatives;
    uint64_t pages_read;     /* data pages decoded (ikey and values) */
    uint64_t found;          /* keys with a version in the files */
} meru_db_lookup_stats;

/*
 * For each of the n distinct keys (encoded user keys, ascending) the newest
 * version any of `files` holds: out[i] for keys[i]. Files are probed in
 * view order and a key is resolved by the first file that holds any
 * version of it (a file newer than another holds newer versions of every
 * key both hold: true of a view's files). Each probe is one
 * meru_sst_lookup_batch over the keys still unresolved that fall in the
 * file's key range: a deeper level gives each key to the one file whose
 * range holds it. Files are opened as needed (meru_db_file_sst).
 *
 * Values: with o && o->value_fn, value_fn(arg, i, pos, value, len) is
 * called once for each key i whose newest version is a put (and that
 * o->want selects, as in meru_sst_lookup_opts), with its rowcodec value;
 * its file is out[i].file once this returns. o NULL = no values.
 *
 * `st` (optional) is added to. Errors: those of opening or reading a file
 * (MERU_ECORRUPT, MERU_EIO), MERU_ENOMEM, MERU_EINVAL for keys that are
 * not ascending, or value_fn's; *out is then undefined.
 */
int meru_db_lookup_older(meru_db_file *const *files, size_t nfiles,
                         const meru_schema *schema, const meru_sst_ukey *keys,
                         size_t n, const meru_sst_lookup_opts *o,
                         meru_db_older *out, meru_db_lookup_stats *st);

/*
 * Every file's deletion vector computed from the data alone, in one
 * streaming merge over all of `files` (the internal-key column only): the
 * first entry of each user key in internal-key order is its newest version
 * in the whole list and stays visible when it is a put; every other row is
 * hidden. out[i] gets files[i]'s vector, or NULL when it hides nothing
 * (free each with meru_dv_free). The files must be a whole table's (the
 * vectors of a subset would leave versions visible that newer files
 * outside it supersede). Memory: one window per file plus the vectors.
 * Errors as reading the files; out[] is all NULL then.
 */
int meru_db_rebuild_dvs(meru_db_file *const *files, size_t n, meru_dv **out);

/*
 * A compaction's reconcile, at its commit (cat_mu held): in[0..nin) are
 * its inputs, in_dv[i] their vectors as captured when it started (NULL:
 * none); flushes that committed since may have added positions to the
 * inputs' current vectors (the catalog's). Each such position hid the row
 * that was then its key's newest; that row's key is now first in the
 * outputs out[0..nout) (files of one level, in key order), and its
 * position there is added to out_dv[] (a NULL entry gets a new vector).
 * Counted in db->st_view_reconciled. MERU_ECORRUPT when such a key is not
 * a put in the outputs (the outputs do not come from these inputs);
 * errors of reading the files; MERU_ENOMEM.
 */
int meru_db_reconcile_dvs(meru_db *db, meru_db_file *const *in,
                          meru_dv *const *in_dv, size_t nin,
                          const meru_catalog_file *out, meru_dv **out_dv,
                          size_t nout);

#endif
