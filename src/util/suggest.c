/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suggest.c — edit distance and the "did you mean" pick (suggest.h).
 *
 * The distance counts insertions, deletions, substitutions and swaps of
 * two neighbours (the typos people make), case-insensitively. Words
 * longer than 63 bytes are compared on their first 63: names are short.
 */
#include "util/suggest.h"

#include <ctype.h>
#include <string.h>

#define MAXW 63

size_t meru_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > MAXW)
        n = MAXW;
    if (m > MAXW)
        m = MAXW;
    unsigned char d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]);
            int cb = tolower((unsigned char)b[j - 1]);
            unsigned best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1u < best)
                best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best)
                best = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb &&
                d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)(best > 255 ? 255 : best);
        }
    }
    return d[n][m];
}

const char *meru_suggest(const char *word, const char *const *candidates,
                         size_t n)
{
    const char *best = NULL, *prefix_of = NULL;
    size_t best_d = (size_t)-1, wl = strlen(word), nprefix = 0;
    if (!wl)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = meru_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
        if (!strncmp(candidates[i], word, wl)) {
            prefix_of = candidates[i];
            nprefix++;
        }
    }
    if (best && best_d <= 2 && best_d * 3 <= wl)
        return best;
    return nprefix == 1 ? prefix_of : NULL;
}
