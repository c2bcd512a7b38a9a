/*
 * verify_search.c - how `vmigrate verify --search N` shows a collection's search
 * parity (vmig/search.h): a line per vector field after the collection's
 * verification line, or a "search" member in its --json object. Rules live in the
 * library (engine/search_parity.c); this file only prints.
 */
#include <stdio.h>

#include "cli.h"
#include "vmig/search.h"

/* Whether any field was searched on both sides. */
static int any_compared(const struct vmig_search_result *r)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (r->field[i].compared && r->field[i].queries) return 1;
    return 0;
}

/* same / different / not compared (an error, or no field could be searched) */
static const char *verdict(const struct cli_search_row *row)
{
    return row->code == VMIG_E_VERIFY           ? "different"
           : row->code || !any_compared(row->r) ? "not compared"
                                                : "same";
}

static void print_text(const struct cli_search_row *row)
{
    const struct vmig_search_result *r = row->r;
    printf("  search top-%u: %s\n", r->k, verdict(row));
    for (size_t i = 0; i < r->nfields; i++) {
        const struct vmig_search_field *f = &r->field[i];
        if (!f->compared || !f->queries) {
            printf("    field '%s': not compared: %s\n", f->field,
                   f->why[0] ? f->why : "no query ran");
            continue;
        }
        printf("    field '%s': %u queries, overlap mean %.4f min %.4f, identical %u/%u", f->field,
               f->queries, f->mean_overlap, f->min_overlap, f->identical, f->queries);
        printf(", index misses %u, differences %u", f->index_misses, f->differences);
        if (f->scores_compared) printf(", max score difference %.3g", f->max_score_diff);
        if (f->min_overlap < 1.0) printf(", worst on point %s", f->worst);
        printf("\n");
        if (f->index_misses && !f->differences)
            printf("    (every missed hit is in the target with the same vector: the index is "
                   "approximate, the data is the same)\n");
    }
    if (row->code) cli_error(row->err);
}

static void print_json(const struct cli_search_row *row)
{
    const struct vmig_search_result *r = row->r;
    printf(",\"search\":{\"ok\":%s,\"verdict\":\"%s\",\"k\":%u,\"fields\":[",
           !row->code && any_compared(r) ? "true" : "false", verdict(row), r->k);
    for (size_t i = 0; i < r->nfields; i++) {
        const struct vmig_search_field *f = &r->field[i];
        int cmp = f->compared && f->queries;
        printf("%s{\"field\":", i ? "," : "");
        cli_json_str(stdout, f->field);
        printf(",\"vector\":");
        cli_json_str(stdout, f->vector);
        printf(",\"sparse\":%s,\"compared\":%s,\"queries\":%u,\"skipped\":%u",
               f->sparse ? "true" : "false", cmp ? "true" : "false", f->queries, f->skipped);
        if (cmp) {
            printf(",\"mean_overlap\":%.6f,\"min_overlap\":%.6f,\"identical\":%u", f->mean_overlap,
                   f->min_overlap, f->identical);
            if (f->scores_compared)
                printf(",\"max_score_diff\":%.9g", f->max_score_diff);
            else
                printf(",\"max_score_diff\":null");
            printf(",\"worst_point\":");
            if (f->min_overlap < 1.0)
                cli_json_str(stdout, f->worst);
            else
                printf("null");
            printf(",\"index_misses\":%u,\"differences\":%u,\"diff_point\":", f->index_misses,
                   f->differences);
            if (f->differences) {
                cli_json_str(stdout, f->diff_point);
                printf(",\"diff_query\":");
                cli_json_str(stdout, f->diff_query);
            } else {
                printf("null,\"diff_query\":null");
            }
            printf(",\"reason\":null}");
        } else {
            printf(",\"mean_overlap\":null,\"min_overlap\":null,\"identical\":null,"
                   "\"max_score_diff\":null,\"worst_point\":null,\"index_misses\":null,"
                   "\"differences\":null,\"diff_point\":null,\"diff_query\":null,\"reason\":");
            cli_json_str(stdout, f->why[0] ? f->why : "no query ran");
            printf("}");
        }
    }
    printf("],\"error\":");
    if (row->code)
        cli_json_str(stdout, row->err->msg);
    else
        printf("null");
    printf("}");
}

void cli_search_print(const struct cli_opts *o, const struct cli_search_row *row)
{
    if (o->json)
        print_json(row);
    else
        print_text(row);
}
