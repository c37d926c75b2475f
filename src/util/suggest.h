/* SPDX-License-Identifier: Apache-2.0 */
/*
 * suggest.h — "did you mean": the closest of a list of names to a word
 * that matches none of them (a mistyped property key, command or option).
 */
#ifndef MERU_UTIL_SUGGEST_H
#define MERU_UTIL_SUGGEST_H

#include <stddef.h>

/* Damerau-Levenshtein (optimal string alignment) distance between a and b,
 * ASCII case-insensitive, capped at 255. */
size_t meru_edit_distance(const char *a, const char *b);

/* The candidate closest to `word` when it is close enough to be a typo
 * (distance at most 2, and at most a third of the word's length, or a
 * word that is a prefix of exactly one candidate); NULL otherwise. */
const char *meru_suggest(const char *word, const char *const *candidates,
                         size_t n);

#endif
