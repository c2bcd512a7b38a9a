/*
 * names.c - Milvus's naming rules and the sanitizer that turns a Qdrant name
 * into a valid Milvus one. The rules are those of the Milvus proxy
 * (validateCollectionName / validateFieldName): first character a letter or '_',
 * then letters, digits and '_', at most 255 bytes; field names must also not be
 * an expression keyword. Milvus Lite does not enforce all of this, so the plan
 * does, to fail before anything is written.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mapping/mapping_int.h"

/* common.FieldNameKeywords of Milvus 2.5/2.6 plus "null". Milvus matches most of
 * these in a few listed casings and some case-insensitively depending on the
 * version; we refuse every casing so a plan valid today stays valid on upgrade. */
static const char *const keywords[] = {
    "$meta",
    "like",
    "exists",
    "and",
    "or",
    "not",
    "in",
    "json_contains",
    "json_contains_all",
    "json_contains_any",
    "array_contains",
    "array_contains_all",
    "array_contains_any",
    "array_length",
    "true",
    "false",
    "null",
    "text_match",
    "phrase_match",
    "random_sample",
};

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int vmig_name_is_keyword(const char *name)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcasecmp(name, keywords[i]) == 0) return 1;
    return 0;
}

const char *vmig_name_problem(const char *name, int field)
{
    size_t n = strlen(name);
    if (n == 0) return "must not be empty";
    if (n > VMIG_NAME_MAX - 1) return "must be at most 255 bytes long";
    if (!is_alpha(name[0]) && name[0] != '_') return "must start with a letter or '_'";
    for (size_t i = 1; i < n; i++)
        if (!is_alpha(name[i]) && !is_digit(name[i]) && name[i] != '_')
            return "may contain only letters, digits and '_'";
    if (field && vmig_name_is_keyword(name)) return "must not be a Milvus keyword";
    return NULL;
}

int vmig_name_is_valid(const char *name)
{
    return vmig_name_problem(name, 0) == NULL;
}

int vmig_field_name_is_valid(const char *name)
{
    return vmig_name_problem(name, 1) == NULL;
}

void vmig_name_sanitize(const char *in, char out[VMIG_NAME_MAX])
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    if (is_digit((char)*p)) out[o++] = '_';
    while (*p && o < VMIG_NAME_MAX - 1) {
        unsigned char c = *p++;
        if (is_alpha((char)c) || is_digit((char)c) || c == '_') {
            out[o++] = (char)c;
        } else {
            /* one '_' per character: skip a UTF-8 sequence's continuation bytes */
            if (c >= 0xC0)
                while ((*p & 0xC0) == 0x80)
                    p++;
            out[o++] = '_';
        }
    }
    if (o == 0) out[o++] = '_';
    out[o] = '\0';
}

void vmig_field_name_sanitize(const char *in, char out[VMIG_NAME_MAX])
{
    vmig_name_sanitize(in, out);
    if (vmig_name_is_keyword(out)) {
        size_t n = strlen(out); /* keywords are short: room for the suffix */
        out[n] = '_';
        out[n + 1] = '\0';
    }
}

void vmig_name_unique(char name[VMIG_NAME_MAX], const char *const *taken, size_t ntaken)
{
    char base[VMIG_NAME_MAX];
    int clash = 0;
    for (size_t i = 0; i < ntaken; i++)
        if (strcmp(name, taken[i]) == 0) clash = 1;
    if (!clash) return;
    memcpy(base, name, VMIG_NAME_MAX);
    for (unsigned k = 2;; k++) {
        char suffix[16];
        int sl = snprintf(suffix, sizeof suffix, "_%u", k);
        size_t bl = strlen(base);
        if (bl + (size_t)sl > VMIG_NAME_MAX - 1) bl = VMIG_NAME_MAX - 1 - (size_t)sl;
        memcpy(name, base, bl);
        memcpy(name + bl, suffix, (size_t)sl + 1);
        clash = 0;
        for (size_t i = 0; i < ntaken; i++)
            if (strcmp(name, taken[i]) == 0) clash = 1;
        if (!clash) return;
    }
}

void vmig_name_shorten(const char *in, char *out, size_t outsz)
{
    size_t n = strlen(in);
    if (n < outsz) {
        memcpy(out, in, n + 1);
        return;
    }
    /* keep whole UTF-8 sequences: back up over continuation bytes */
    size_t keep = outsz > 4 ? outsz - 4 : 0;
    while (keep > 0 && ((unsigned char)in[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(out, in, keep);
    memcpy(out + keep, "...", 4);
}
