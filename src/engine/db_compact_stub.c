#include "engine/db_internal.h"
int meru_db_compact_step(meru_db *db, bool *did);
int meru_db_compact_step(meru_db *db, bool *did)
{
    (void)db;
    *did = false;
    return MERU_OK;
}
int meru_compact(meru_db *db)
{
    return meru_flush(db);
}
