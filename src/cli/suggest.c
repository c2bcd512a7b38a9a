/*
 * suggest.c - "did you mean" for a mistyped command, subcommand or option (git's
 * help.c, kubectl's suggestions): the candidates nearest the word typed by edit
 * distance (insert, delete, substitute, or swap two neighbours: "shwo" is one step
 * from "show"), or those it is the beginning of. Pure string work, unit-tested.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define WORD_MAX 64

/* Optimal string alignment distance (Damerau-Levenshtein without repeated edits of
 * one substring), bounded to words of WORD_MAX bytes (longer ones: WORD_MAX). */
size_t cli_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n >= WORD_MAX || m >= WORD_MAX) return WORD_MAX;
    size_t d[WORD_MAX + 1][WORD_MAX + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

/* The suggestion for word among cand[0..n): each candidate at the smallest distance,
 * when that distance is small for the word's length (1 for up to 4 letters, 2 for up
 * to 8, then 3), else each candidate word begins (at least 3 letters typed). Written as
 * "'a'", "'a' or 'b'", "'a', 'b' or 'c'" (prefix each with pre, e.g. "--") into out;
 * 0 when there is nothing near (out ""). */
int cli_suggest(const char *word, const char *const *cand, size_t n, const char *pre, char *out,
                size_t outlen)
{
    size_t len = strlen(word), best = WORD_MAX, limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    const char *pick[3];
    size_t npick = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t d = cli_edit_distance(word, cand[i]);
        if (d > limit || d > best) continue;
        if (d < best) npick = 0;
        best = d;
        if (npick < 3) pick[npick++] = cand[i];
    }
    if (!npick && len >= 3)
        for (size_t i = 0; i < n && npick < 3; i++)
            if (strncmp(cand[i], word, len) == 0) pick[npick++] = cand[i];
    size_t off = 0;
    for (size_t i = 0; i < npick && off < outlen; i++) {
        const char *sep = i == 0 ? "" : i + 1 == npick ? " or " : ", ";
        int w = snprintf(out + off, outlen - off, "%s'%s%s'", sep, pre ? pre : "", pick[i]);
        if (w < 0) break;
        off += (size_t)w;
    }
    return npick > 0;
}
