/*
 * opts.c - the CLI's one option table (curl's tool_getparam, Redis's
 * static_configs): each entry gives the flag, its type, the field it fills, the
 * environment variable that supplies it, the subcommands that take it and its help
 * line. Parsing, environment fallback, --help (per subcommand: `jobs show --help`)
 * and "did you mean" for a mistyped option are all driven from it. Numbers
 * are checked against the ranges of vmig/inputs.h (the HTTP API uses the same),
 * URLs against credentials written into them, keys and tokens against control
 * characters.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vmig/inputs.h"
#include "vmig/search.h"
#include "vmig/types.h"

enum opt_type { T_STR, T_INT, T_FLAG, T_COLL, T_EDIT };

struct opt {
    const char *name; /* long name without -- */
    char shortc;
    enum opt_type type;
    size_t off;
    const char *env;  /* environment fallback */
    const char *cmds; /* subcommands taking it, space separated; "*" = all */
    const char *meta, *help;
};

#define F(m) offsetof(struct cli_opts, m)
#define DATA "collections plan migrate verify repair"
#define TGT "plan migrate verify repair"
static const struct opt table[] = {
    {"source", 's', T_STR, F(source), "VMIGRATE_SOURCE", DATA, "URL",
     "Qdrant endpoint: REST http(s)://host:6333 or gRPC grpc(s)://host:6334"},
    {"source-protocol", 0, T_STR, F(source_protocol), "VMIGRATE_SOURCE_PROTOCOL", DATA, "P",
     "read Qdrant over rest or grpc; default: as the URL says (grpc:// and grpcs:// are "
     "gRPC). The port stays the URL's: Qdrant serves REST on 6333, gRPC on 6334"},
    {"api-key", 0, T_STR, F(api_key), "QDRANT_API_KEY", DATA " jobs worker", "KEY",
     "Qdrant API key (prefer the QDRANT_API_KEY variable: flags show up in ps)"},
    {"target", 't', T_STR, F(target), "VMIGRATE_TARGET", TGT, "URL",
     "Milvus / Zilliz Cloud endpoint, e.g. http://localhost:19530"},
    {"token", 0, T_STR, F(token), "MILVUS_TOKEN", TGT " jobs worker", "TOKEN",
     "Milvus token: user:password or a Zilliz API key (prefer MILVUS_TOKEN)"},
    {"db", 0, T_STR, F(db), "MILVUS_DB", TGT, "NAME", "Milvus database (default: default)"},
    {"ca-file", 0, T_STR, F(ca_file), NULL, DATA, "FILE",
     "extra CA certificates (PEM) for https endpoints"},
    {"insecure", 0, T_FLAG, F(insecure), NULL, DATA, NULL,
     "do not verify TLS certificates (self-signed test servers only)"},
    {"source-compression", 0, T_FLAG, F(source_compression), NULL, DATA, NULL,
     "ask Qdrant for gzip responses (helps only on links slower than ~50 MB/s)"},
    {"timeout", 0, T_INT, F(timeout_s), NULL, DATA, "SEC", "per-request timeout (default 60)"},
    {"wait-timeout", 0, T_INT, F(wait_timeout_s), NULL, "migrate jobs worker serve", "SEC",
     "give up waiting for Milvus to build an index or load a collection after SEC "
     "(default 3600; 0 = default)"},
    {"collection", 'c', T_COLL, F(colls), NULL, TGT, "NAME",
     "source collection to work on (repeatable, at most 256, each once)"},
    {"all", 0, T_FLAG, F(all), NULL, "plan migrate", NULL, "every source collection"},
    {"json", 0, T_FLAG, F(json), NULL, "*", NULL,
     "machine-readable output on stdout (progress as JSON lines on stderr)"},
    {"plan", 0, T_STR, F(plan_file), NULL, "migrate", "FILE",
     "run an edited plan (from `vmigrate plan --json`)"},
    {"target-name", 0, T_EDIT, 0, NULL, TGT " jobs", "SRC=DST",
     "name of the Milvus collection for SRC"},
    {"description", 0, T_EDIT, 0, NULL, TGT, "SRC=TEXT", "description of the Milvus collection"},
    {"rename", 0, T_EDIT, 0, NULL, TGT, "SRC.FIELD=NEW",
     "rename a field (a vector, or `id` for the primary key)"},
    {"skip-vector", 0, T_EDIT, 0, NULL, TGT " jobs", "[SRC.]VECTOR",
     "leave a source vector out (e.g. a multivector Milvus cannot hold)"},
    {"max-vector-fields", 0, T_INT, F(max_vector_fields), NULL, TGT " jobs", "N",
     "vector fields allowed per collection (default 4; up to 10 if the cluster allows)"},
    {"null-values", 0, T_STR, F(null_values), NULL, TGT " jobs", "fail|drop|keep",
     "payload null values: fail (default), drop the keys, or keep them"},
    {"payload-conflict", 0, T_STR, F(payload_conflict), NULL, TGT " jobs", "fail|prefix",
     "payload key equal to a schema field: fail (default) or prefix it with payload_"},
    {"field", 0, T_EDIT, 0, NULL, TGT, "SRC.KEY=TYPE[:OPTS]",
     "store payload key KEY in a typed field: INT64, DOUBLE, BOOL, VARCHAR, JSON or "
     "ARRAY_<type>, options nullable, default=V, max_length=N, max_capacity=N, index=NAME, "
     "partition_key, partitions=N; or =dynamic to keep it in $meta"},
    {"payload-misfit", 0, T_STR, F(payload_misfit), NULL, TGT " jobs", "dynamic|reject|fail",
     "a payload value that does not fit its typed field: keep it in $meta (default; the "
     "field is null), set the point aside in --rejects, or fail"},
    {"index", 0, T_STR, F(index), NULL, TGT " jobs", "auto|hnsw",
     "vector index: AUTOINDEX (default) or HNSW with Qdrant's m/ef_construct"},
    {"rejects", 0, T_STR, F(rejects), NULL, "migrate jobs", "FILE",
     "write points Milvus cannot take (payload > 64 KiB) to FILE as JSON lines and go on"},
    {"write-mode", 0, T_STR, F(write_mode), NULL, "migrate", "rows|bulk|auto",
     "write points as Insert requests (rows, default), as bulk import files that Milvus "
     "imports at each checkpoint (bulk: real Milvus 2.3+, with --bulk-dir or --bulk-url), or "
     "bulk for collections of 1000000 points or more when the target can import (auto)"},
    {"bulk-dir", 0, T_STR, F(bulk_dir), "VMIGRATE_BULK_DIR", "migrate", "DIR",
     "directory for the import files that the Milvus server reads under the same absolute "
     "path (its local storage machine or a shared mount)"},
    {"bulk-url", 0, T_STR, F(bulk_url), "VMIGRATE_BULK_URL", "migrate", "s3://BUCKET/PREFIX",
     "upload the import files to S3-compatible storage (Milvus's own bucket); credentials "
     "from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION"},
    {"bulk-endpoint", 0, T_STR, F(bulk_endpoint), "VMIGRATE_BULK_ENDPOINT", "migrate", "URL",
     "S3 endpoint of --bulk-url, e.g. http://minio:9000"},
    {"bulk-file-size", 0, T_INT, F(bulk_file_mib), NULL, "migrate", "MIB",
     "close an import file at this size (default 256)"},
    {"readers", 0, T_INT, F(readers), NULL, "migrate verify repair", "N",
     "parallel source readers (default 4)"},
    {"writers", 0, T_INT, F(writers), NULL, "migrate", "N", "parallel target writers (default 2)"},
    {"page-size", 0, T_INT, F(page_limit), NULL, "migrate verify", "N",
     "points per scroll page (default: sized to ~8 MiB responses)"},
    {"no-verify", 0, T_FLAG, F(no_verify), NULL, "migrate repair", NULL,
     "skip the verification after the copy (after the repair)"},
    {"wait-index", 0, T_FLAG, F(wait_index), NULL, "migrate", NULL,
     "hold the job until Milvus has built every index (default: done once the collection "
     "is loaded and verified; the build goes on in the server)"},
    {"sample", 0, T_INT, F(sample), NULL, "migrate verify", "N",
     "points compared bit-exactly by verification (default 100)"},
    {"profile", 0, T_FLAG, F(profile), NULL, "plan migrate", NULL,
     "profile the payloads first (per key: types, presence, nulls, sizes; and an estimate "
     "of the copy); reads the first 10000 points unless --sample/--full say otherwise"},
    {"sample", 0, T_INT, F(profile_sample), NULL, "plan", "N",
     "points the payload profile reads, first in id order (default 10000; implies --profile)"},
    {"profile-sample", 0, T_INT, F(profile_sample), NULL, "migrate", "N",
     "points the payload profile reads (default 10000; implies --profile)"},
    {"full", 0, T_FLAG, F(profile_full), NULL, "plan migrate", NULL,
     "profile every point, not a sample (implies --profile)"},
    {"full", 0, T_FLAG, F(verify_full), NULL, "verify", NULL,
     "compare every point, not a sample: missing, extra and different ids go to the diff "
     "file; an interrupted run continues where it stopped"},
    {"diff", 0, T_STR, F(diff), NULL, "migrate verify", "FILE",
     "with verify --full / migrate --verify-full: the diff file (JSON lines), or a directory "
     "for one file per collection (default vmigrate-verify-[JOB-]COLLECTION.jsonl in the "
     "current directory)"},
    {"diff", 0, T_STR, F(diff), NULL, "repair", "FILE",
     "the diff file of `verify --full` (JSON lines: collection, id, what) whose points are "
     "repaired; without it a full verification runs first and writes one"},
    {"verify-full", 0, T_FLAG, F(verify_full_mig), NULL, "migrate", NULL,
     "verify every point after the copy (as verify --full), not a sample; the ids that "
     "differ go to the diff file (--diff)"},
    {"job", 0, T_STR, F(job), NULL, "verify repair", "ID",
     "verify (repair) with the plan of job ID (its target names, renames, skipped vectors) "
     "and its endpoints and stored secrets; a unique prefix of the id is enough"},
    {"search", 0, T_INT, F(search), NULL, "verify", "N",
     "also run N sample queries (vectors of random source points) on both sides, exact "
     "search, and compare the top-k ids per vector field"},
    {"top-k", 0, T_INT, F(top_k), NULL, "verify", "K",
     "hits compared per --search query (default 10)"},
    {"store", 0, T_STR, F(store), "VMIGRATE_STORE", "migrate verify repair jobs worker serve",
     "PATH",
     "job store: a SQLite file (default $XDG_DATA_HOME/vmigrate/vmigrate.db) or a PostgreSQL "
     "URL postgres://USER@HOST:PORT/DB (its password in PGPASSWORD or ~/.pgpass)"},
    {"status", 0, T_STR, F(status), NULL, "jobs", "S",
     "list only jobs with this status: pending, in_progress, successful, failed, cancelled"},
    {"refresh-index", 0, T_FLAG, F(refresh_index), NULL, "jobs", NULL,
     "jobs show: ask Milvus for the live index build of the finished collections (with the "
     "job's stored token, or --token / MILVUS_TOKEN)"},
    {"follow", 'f', T_FLAG, F(follow), NULL, "jobs", NULL,
     "jobs logs: keep printing new lines until the job ends"},
    {"detach", 0, T_FLAG, F(detach), NULL, "migrate", NULL,
     "create the job and return its id; `vmigrate worker` runs it"},
    {"no-store-secrets", 0, T_FLAG, F(no_store_secrets), NULL, "migrate", NULL,
     "do not store the API key/token (encrypted) with the job; resume then needs them again"},
    {"concurrency", 0, T_INT, F(concurrency), NULL, "worker serve", "N",
     "jobs (or range tasks) a worker runs at the same time (default 1)"},
    {"tasks", 0, T_INT, F(tasks), NULL, "migrate", "N",
     "split each collection into N range tasks that any `vmigrate worker` on the job store "
     "takes (default: 16 on a PostgreSQL store, none on SQLite; 1 = none)"},
    {"lease", 0, T_INT, F(lease_s), NULL, "migrate jobs worker", "S",
     "seconds a worker holds a range task without renewing it before another may take it "
     "over (default 30)"},
    {"metrics-listen", 0, T_STR, F(metrics_listen), "VMIGRATE_METRICS_LISTEN", "worker",
     "[HOST:]PORT",
     "serve Prometheus metrics at http://HOST:PORT/metrics (host default 127.0.0.1; no "
     "authentication: bind it where only the scraper reaches; default off)"},
    {"listen", 0, T_STR, F(listen), "VMIGRATE_LISTEN", "serve", "HOST:PORT",
     "address of the HTTP API and console (default 127.0.0.1:8080; port 0 = any free one)"},
    {"api-token", 0, T_STR, F(api_token), "VMIGRATE_API_TOKEN", "serve", "TOKEN",
     "require 'Authorization: Bearer TOKEN' on /api/ (prefer VMIGRATE_API_TOKEN)"},
    {"web-root", 0, T_STR, F(web_root), NULL, "serve", "DIR",
     "static files of the web console (default: the repository's web/)"},
    {"verbose", 'v', T_FLAG, F(verbose), NULL, "*", NULL, "log retries and details to stderr"},
    {"quiet", 'q', T_FLAG, F(quiet), NULL, "*", NULL,
     "no progress output (errors are still printed)"},
    {"help", 'h', T_FLAG, F(help), NULL, "*", NULL, "show this help"},
};

/* The range of every T_INT option, checked at parse time and shown by --help; the
 * HTTP API checks its fields against the same limits (vmig/inputs.h). */
static const struct range {
    size_t off; /* the field filled: one flag name may fill different fields per command */
    int min, max;
} ranges[] = {
    {F(timeout_s), VMIG_TIMEOUT_MIN, VMIG_TIMEOUT_MAX},
    {F(wait_timeout_s), VMIG_WAIT_TIMEOUT_MIN, VMIG_WAIT_TIMEOUT_MAX},
    {F(max_vector_fields), VMIG_MAX_VECTOR_FIELDS_MIN, VMIG_MAX_VECTOR_FIELDS},
    {F(readers), VMIG_READERS_MIN, VMIG_READERS_MAX},
    {F(writers), VMIG_WRITERS_MIN, VMIG_WRITERS_MAX},
    {F(page_limit), VMIG_PAGE_SIZE_MIN, VMIG_PAGE_SIZE_MAX},
    {F(bulk_file_mib), VMIG_BULK_FILE_MIB_MIN, VMIG_BULK_FILE_MIB_MAX},
    {F(sample), VMIG_SAMPLE_MIN, VMIG_SAMPLE_MAX},
    {F(search), VMIG_SEARCH_QUERIES_MIN, VMIG_SEARCH_QUERIES_MAX},
    {F(top_k), VMIG_SEARCH_TOPK_MIN, VMIG_SEARCH_TOPK_MAX},
    {F(profile_sample), VMIG_PROFILE_SAMPLE_MIN, VMIG_PROFILE_SAMPLE_MAX},
    {F(concurrency), VMIG_CONCURRENCY_MIN, VMIG_CONCURRENCY_MAX},
    {F(tasks), VMIG_TASKS_MIN, VMIG_TASKS_MAX},
    {F(lease_s), VMIG_LEASE_MIN, VMIG_LEASE_MAX},
};

/* Options of `jobs` that only some of its subcommands take (their --help, and the
 * check that refuses them elsewhere); every other option of `jobs` is one of each. */
static const struct {
    const char *name, *subs;
} jobs_only[] = {
    {"status", "list"},
    {"refresh-index", "show"},
    {"follow", "logs"},
    {"api-key", "resume retry restart"},
    {"token", "show resume retry restart"},
    {"wait-timeout", "resume retry restart"},
    {"null-values", "retry"},
    {"payload-conflict", "retry"},
    {"payload-misfit", "retry"},
    {"rejects", "retry"},
    {"target-name", "retry"},
    {"skip-vector", "retry"},
    {"max-vector-fields", "retry"},
    {"index", "retry"},
};

static const struct range *range_of(const struct opt *op)
{
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++)
        if (ranges[i].off == op->off) return &ranges[i];
    abort(); /* a T_INT option without a range: a bug in this file */
}

/* Whether w is one of the space-separated words of list. */
static int word_in(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; n && (p = strstr(p, w)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    return 0;
}

static int takes(const struct opt *op, const char *cmd)
{
    return strcmp(op->cmds, "*") == 0 || word_in(op->cmds, cmd);
}

/* Whether subcommand sub of cmd (NULL: any) takes op, which cmd takes. */
static int sub_takes(const struct opt *op, const char *cmd, const char *sub)
{
    if (!sub || strcmp(cmd, "jobs") != 0) return 1;
    for (size_t i = 0; i < sizeof jobs_only / sizeof *jobs_only; i++)
        if (strcmp(jobs_only[i].name, op->name) == 0) return word_in(jobs_only[i].subs, sub);
    return 1;
}

int cli_check_sub_opts(const char *cmd, const char *sub, const struct cli_opts *o)
{
    for (size_t i = 0; i < o->ngiven; i++)
        for (size_t k = 0; k < sizeof jobs_only / sizeof *jobs_only && !strcmp(cmd, "jobs"); k++)
            if (!strcmp(jobs_only[k].name, o->given[i]) && !word_in(jobs_only[k].subs, sub)) {
                cli_usage_error_in(cmd, "`jobs %s` takes no --%s (an option of jobs %s)", sub,
                                   o->given[i], jobs_only[k].subs);
                return EXIT_USAGE;
            }
    return 0;
}

/* An unknown option: say so, with the options of cmd nearest to it. */
static int unknown_option(const char *cmd, const char *a, const struct opt *other)
{
    const char *names[sizeof table / sizeof *table];
    size_t n = 0;
    for (size_t k = 0; k < sizeof table / sizeof *table; k++)
        if (takes(&table[k], cmd)) names[n++] = table[k].name;
    char word[64], near[256];
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    snprintf(word, sizeof word, "%.*s", (int)len, a);
    if (other) { /* an option of other commands */
        char by[128];
        size_t k = 0;
        for (const char *p = other->cmds; *p && k + 3 < sizeof by; p++) {
            if (*p == ' ') by[k++] = ',';
            by[k++] = *p;
        }
        by[k] = '\0';
        cli_usage_error_in(cmd, "option '%s' is for %s, not %s (see vmigrate %s --help)", word, by,
                           cmd, cmd);
    } else if (word[0] == '-' && word[1] == '-' &&
               cli_suggest(word + 2, names, n, "--", near, sizeof near))
        cli_usage_error_in(cmd, "unknown option '%s'; did you mean %s? (see vmigrate %s --help)",
                           word, near, cmd);
    else
        cli_usage_error_in(cmd, "unknown option '%s' (see vmigrate %s --help)", word, cmd);
    return EXIT_USAGE;
}

static int set_opt(struct cli_opts *o, const struct opt *op, const char *val)
{
    char *base = (char *)o;
    switch (op->type) {
    case T_STR: *(const char **)(void *)(base + op->off) = val; return 0;
    case T_FLAG: *(int *)(void *)(base + op->off) = 1; return 0;
    case T_INT: {
        char *end;
        const struct range *rg = range_of(op);
        errno = 0;
        long v = strtol(val, &end, 10);
        if (!*val || *end || errno || v < rg->min || v > rg->max) {
            cli_usage_error("--%s takes a whole number from %d to %d, not '%s'%s", op->name,
                            rg->min, rg->max, val,
                            op->off == F(profile_sample) ? " (--full profiles every point)" : "");
            return EXIT_USAGE;
        }
        *(int *)(void *)(base + op->off) = (int)v;
        return 0;
    }
    case T_COLL:
        for (size_t i = 0; i < o->ncolls; i++)
            if (strcmp(o->colls[i], val) == 0) {
                cli_usage_error("collection '%s' is named twice with -c; drop the "
                                "duplicate",
                                val);
                return EXIT_USAGE;
            }
        if (o->ncolls == CLI_MAX_LIST) {
            cli_usage_error("at most %d -c options in one command; use --all, or "
                            "several commands",
                            CLI_MAX_LIST);
            return EXIT_USAGE;
        }
        o->colls[o->ncolls++] = val;
        return 0;
    case T_EDIT:
        if (o->nedits == CLI_MAX_LIST) {
            cli_usage_error("at most %d mapping edits (--%s and the like) in one "
                            "command; edit a plan file instead (vmigrate plan --json, then "
                            "migrate --plan FILE)",
                            CLI_MAX_LIST, op->name);
            return EXIT_USAGE;
        }
        o->edit_kind[o->nedits] = op->name;
        o->edit_val[o->nedits++] = val;
        return 0;
    }
    return EXIT_USAGE;
}

/* What no option may carry, whether it came from a flag or the environment: a
 * password written into a URL (it would be stored with the job and shown by `jobs`),
 * or a control character in a key or token (sent as a header: header injection).
 * The secret itself is never printed. */
static int check_inputs(const char *cmd, const struct cli_opts *o)
{
    /* options that pull opposite ways: one would be dropped without a word */
    if (o->all && o->ncolls) {
        cli_usage_error_in(cmd, "-c NAME and --all pull opposite ways; give one of them");
        return EXIT_USAGE;
    }
    if (o->plan_file && (o->all || o->ncolls)) {
        cli_usage_error_in(cmd,
                           "--plan FILE names the collections itself; drop %s (or edit the "
                           "file's \"collections\")",
                           o->all ? "--all" : "-c");
        return EXIT_USAGE;
    }
    if (o->quiet && o->verbose) {
        cli_usage_error_in(cmd, "-q (--quiet) and -v (--verbose) pull opposite ways; give one "
                                "of them");
        return EXIT_USAGE;
    }
    if (vmig_url_has_credentials(o->source)) {
        cli_usage_error_in(cmd, "--source URL must not contain credentials (user:password@); "
                                "pass the Qdrant API key with QDRANT_API_KEY or --api-key");
        return EXIT_USAGE;
    }
    if (vmig_url_has_credentials(o->target)) {
        cli_usage_error_in(cmd, "--target URL must not contain credentials (user:password@); "
                                "pass them with MILVUS_TOKEN or --token (user:password)");
        return EXIT_USAGE;
    }
    static const struct {
        size_t off;
        const char *what;
    } secrets[] = {
        {offsetof(struct cli_opts, api_key), "the Qdrant API key (--api-key / QDRANT_API_KEY)"},
        {offsetof(struct cli_opts, token), "the Milvus token (--token / MILVUS_TOKEN)"},
        {offsetof(struct cli_opts, api_token), "the API token (--api-token / VMIGRATE_API_TOKEN)"},
    };
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
        const char *v = *(const char *const *)(const void *)((const char *)o + secrets[i].off);
        if (vmig_secret_has_control(v)) {
            cli_usage_error_in(cmd,
                               "%s contains a control character (CR, LF, tab or "
                               "another byte below 0x20 or 0x7f); give the key exactly, without "
                               "line breaks",
                               secrets[i].what);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* The command cli_parse() last read: hints name only flags it takes. */
static const char *parsed_cmd;

int cli_cmd_takes(const char *name)
{
    for (size_t k = 0; k < sizeof table / sizeof *table; k++)
        if (strcmp(table[k].name, name) == 0 && (!parsed_cmd || takes(&table[k], parsed_cmd)))
            return 1;
    return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, struct cli_opts *o)
{
    parsed_cmd = cmd;
    size_t n = sizeof table / sizeof *table;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const struct opt *op = NULL;
        const char *val = NULL;
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (size_t k = 0; k < n; k++) /* the entry of cmd when a name has several */
                if (strlen(table[k].name) == len && strncmp(table[k].name, name, len) == 0 &&
                    (!op || takes(&table[k], cmd)))
                    op = &table[k];
            if (eq) val = eq + 1;
        } else if (a[0] == '-' && a[1] && !a[2]) {
            for (size_t k = 0; k < n; k++)
                if (table[k].shortc == a[1]) op = &table[k];
        } else {
            if (o->nargs == sizeof o->args / sizeof *o->args) {
                cli_usage_error_in(cmd, "too many arguments");
                return EXIT_USAGE;
            }
            o->args[o->nargs++] = a;
            continue;
        }
        if (!op || !takes(op, cmd)) return unknown_option(cmd, a, op);
        if (op->type != T_FLAG && !val) {
            if (i + 1 >= argc) {
                cli_usage_error_in(cmd, "option --%s needs a value (%s)", op->name, op->meta);
                return EXIT_USAGE;
            }
            val = argv[++i];
        }
        int rc = set_opt(o, op, val);
        if (rc) return rc;
        if (o->ngiven < sizeof o->given / sizeof *o->given) o->given[o->ngiven++] = op->name;
    }
    /* environment fallback for what the command line did not give */
    for (size_t k = 0; k < n; k++) {
        const struct opt *op = &table[k];
        if (!op->env || !takes(op, cmd)) continue;
        const char **slot = (const char **)(void *)((char *)o + op->off);
        const char *v = getenv(op->env);
        if (op->type == T_STR && !*slot && v && *v) *slot = v;
    }
    if (o->source_protocol) {
        struct vmig_err err;
        vmig_err_clear(&err);
        if (vmig_source_url_for(o->source, o->source_protocol, o->source_url,
                                sizeof o->source_url, &err)) {
            cli_usage_error_in(cmd, "--source-protocol %s", err.msg);
            return EXIT_USAGE;
        }
        if (o->source) o->source = o->source_url;
    }
    return check_inputs(cmd, o);
}

void cli_usage(FILE *f, const char *cmd, const char *sub)
{
    size_t n = sizeof table / sizeof *table;
    for (size_t k = 0; k < n; k++) {
        const struct opt *op = &table[k];
        if (!takes(op, cmd) || !sub_takes(op, cmd, sub)) continue;
        char left[64];
        if (op->shortc)
            snprintf(left, sizeof left, "-%c, --%s%s%s", op->shortc, op->name, op->meta ? " " : "",
                     op->meta ? op->meta : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", op->name, op->meta ? " " : "",
                     op->meta ? op->meta : "");
        char range[48] = "";
        if (op->type == T_INT)
            snprintf(range, sizeof range, " [%d..%d]", range_of(op)->min, range_of(op)->max);
        fprintf(f, "  %-34s %s%s%s%s%s\n", left, op->help, range, op->env ? " [env " : "",
                op->env ? op->env : "", op->env ? "]" : "");
    }
}
