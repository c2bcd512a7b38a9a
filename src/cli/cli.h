/*
 * cli.h - what the CLI's files share: the parsed options (filled from one option
 * table that also drives the environment variables and --help), output helpers
 * and the subcommands. The CLI is a thin face: it parses, calls libvmig, prints,
 * and maps the result to an exit code.
 */
#ifndef VMIG_CLI_H
#define VMIG_CLI_H

#include <pthread.h>
#include <stdio.h>

#include "vmig/error.h"
#include "vmig/migrate.h"
#include "vmig/types.h"

/* Exit codes (documented in `vmigrate --help`). */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,    /* a collection failed to migrate */
    EXIT_USAGE = 2,     /* bad command line or plan file */
    EXIT_CONNECT = 3,   /* cannot reach a server, TLS or credentials */
    EXIT_SCHEMA = 4,    /* a collection cannot be mapped, or the target exists */
    EXIT_VERIFY = 5,    /* verification found a difference */
    EXIT_CANCELLED = 130,
};

#define CLI_MAX_LIST 256

struct cli_opts {
    const char *source, *target, *api_key, *token, *db, *ca_file, *source_ca_file;
    const char *source_protocol; /* --source-protocol: source rewritten into source_url */
    char source_url[2048];
    int insecure, json, all, help, source_compression;
    const char *colls[CLI_MAX_LIST];
    size_t ncolls;
    /* mapping edits, as given: "kind\0value" pairs handed to vmig_map_opts_add */
    const char *edit_kind[CLI_MAX_LIST], *edit_val[CLI_MAX_LIST];
    size_t nedits;
    const char *plan_file, *rejects, *null_values, *payload_conflict, *index, *payload_misfit;
    int max_vector_fields, sample, readers, writers, timeout_s, no_verify, page_limit;
    int wait_timeout_s; /* --wait-timeout: bound on each wait for Milvus (index build, load) */
    int wait_index;     /* --wait-index: the job holds until every index is built */
    /* --write-mode rows|bulk|auto and the import files' storage (bulk import) */
    const char *write_mode, *bulk_dir, *bulk_url, *bulk_endpoint;
    int bulk_file_mib;
    int profile, profile_full, profile_sample; /* --profile, --full, plan --sample N */
    int verbose, quiet;
    /* job center (issue 4) */
    const char *store, *status;
    int detach, follow, no_store_secrets, concurrency;
    int tasks;         /* migrate --tasks N: range tasks per collection (0 = auto, 1 = none) */
    int lease_s;       /* worker / jobs resume --lease S: a range task's lease (0 = 30) */
    int refresh_index; /* jobs show --refresh-index: the live index build from Milvus */
    const char *listen, *api_token, *web_root; /* serve */
    const char *metrics_listen;                /* worker --metrics-listen */
    const char *args[8]; /* positional arguments after the subcommand */
    size_t nargs;
    const char *job; /* verify --job ID: verify with the job's plan */
    int verify_full; /* verify --full: every point (vmig/verify.h) */
    int verify_full_mig; /* migrate --verify-full: the job's verification takes every point */
    const char *diff; /* verify --diff FILE|DIR: where the differences go; repair --diff: read */
    int search, top_k;     /* verify --search N [--top-k K]: search parity (verify_search.c) */
    const char *given[64]; /* long names of the options on the command line (not env) */
    size_t ngiven;
};

/* verify --search (verify_search.c): one collection's search parity, printed after its
 * verification line (text) or as its "search" member (--json, inside its object). */
struct vmig_search_result;
struct cli_search_row {
    const struct vmig_search_result *r;
    enum vmig_code code;
    const struct vmig_err *err;
};
void cli_search_print(const struct cli_opts *o, const struct cli_search_row *row);

/* Parse argv (after the subcommand name) for `cmd`. Returns 0, or EXIT_USAGE after
 * printing the problem. */
int cli_parse(const char *cmd, int argc, char **argv, struct cli_opts *o);
/* The options given that subcommand sub of cmd does not take (`jobs resume
 * --null-values`): 0, or EXIT_USAGE after naming the first and who takes it. */
int cli_check_sub_opts(const char *cmd, const char *sub, const struct cli_opts *o);
/* The options of cmd (of its subcommand sub when not NULL: `jobs show`), one a line. */
void cli_usage(FILE *f, const char *cmd, const char *sub);

/* A subcommand of a command with subcommands (`jobs show`): its usage and summary. */
struct cli_sub {
    const char *name, *usage, *summary;
};
extern const struct cli_sub cli_jobs_subs[]; /* cmd_jobs.c */
extern const size_t cli_jobs_nsubs;

/* "Did you mean" (suggest.c): the edit distance of two words (swapping two neighbours
 * is one edit), and the candidates near word written as "'a' or 'b'" (each prefixed
 * with pre) into out; 0 when none is near. */
size_t cli_edit_distance(const char *a, const char *b);
int cli_suggest(const char *word, const char *const *cand, size_t n, const char *pre, char *out,
                size_t outlen);

/* Endpoints from options + environment (QDRANT_API_KEY, MILVUS_TOKEN). */
void cli_endpoints(const struct cli_opts *o, struct vmig_endpoint *src, struct vmig_endpoint *dst);
int cli_exit_code(enum vmig_code rc);
/* Print err and, on a "hint:" line, the way out in the CLI's words (hint.c); inside
 * job `job` (may be NULL) the way out is a `vmigrate jobs …` command on it. */
void cli_error(const struct vmig_err *err);
void cli_error_job(const struct vmig_err *err, const char *job);
/* The same with both: ctx before the message ("job ID"), job for the way out. */
void cli_error_in(const char *ctx, const char *job, const struct vmig_err *err);
void cli_fix_hint(const struct vmig_err *err, const char *job, char *out, size_t n);
/* Whether the command being run takes long option name ("token"): 1 before any parse. */
int cli_cmd_takes(const char *name);
/* "vmigrate: MESSAGE" (with ctx: "vmigrate: CTX: MESSAGE") is the one prefix of every
 * message. The first error printed is kept for --json (cli_json_error). */
void cli_error_ctx(const char *ctx, const struct vmig_err *err);
/* A bad command line: "vmigrate: MESSAGE" on stderr, kept as a usage error. */
void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, about a command: "vmigrate CMD: MESSAGE" (cmd "jobs show"). */
void cli_usage_error_in(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* --json: a command sets cli_json_done once its document is on stdout; when it ends
 * without one, main prints the error document {"error":{...}} (cli_json_error) of
 * the first error kept, so --json always answers with one JSON document. */
extern int cli_json_done;
void cli_json_error(FILE *f, const struct vmig_err *err);
const struct vmig_err *cli_first_error(void);
/* The error as a JSON object: code, message, collection, point, field, fix, fix_arg
 * (null when unset). */
struct json_t;
struct json_t *cli_err_json(const struct vmig_err *err);
struct vmig_map_opts;
int cli_map_opts(const struct cli_opts *o, struct vmig_map_opts *mo);
/* --null-values/--payload-conflict/--index are words the library takes; 0 or EXIT_USAGE. */
int cli_policy_words(const struct cli_opts *o, struct vmig_map_opts *mo);
struct vmig_plan;
int cli_plan(const struct cli_opts *o, struct vmig_map_opts *mo, struct vmig_endpoint *src,
             struct vmig_endpoint *dst, struct vmig_plan *plan);
int cli_need(const struct cli_opts *o, int source, int target);
struct vmig_store;
/* The whole job id of a given id or unique prefix (vmig_job_resolve); 0, or the exit
 * code after printing why. */
int cli_job_id(struct vmig_store *s, const char *given, char *id_out);
/* Open the job store of --store / VMIGRATE_STORE / the default: 0, or the exit code
 * after printing why. */
int cli_store_open(const struct cli_opts *o, struct vmig_store **s);
/* The job form of `cmd` (verify/repair --job ID): no -c or mapping edits (the job's
 * plan names them), the store open and the job's whole id in id_out (a unique prefix
 * given is enough). 0, or the exit code after saying why (nothing left open). */
int cli_job_open(const struct cli_opts *o, const char *cmd, struct vmig_store **s, char *id_out);
void cli_json_str(FILE *f, const char *s);

/* The CLI's run context: SIGINT sets its cancel flag (cli_cancel); commands that
 * call the engine directly (verify) hand it over, jobs take cli_cancel as the host's
 * flag. */
extern struct vmig_run_ctx cli_run;
#define cli_cancel (cli_run.cancel)

/* Progress output (progress.c): pass a struct cli_ui as hooks.ud with cli_on_progress. */
struct cli_ui {
    const struct cli_opts *o;
    int tty, drawn;
    pthread_mutex_t mu;
    uint64_t last_line;
    int last_phase;      /* of the last line printed, -1 = none */
    char last_coll[256]; /* collection of the last line printed (drawn on a TTY) */
};
void cli_ui_init(struct cli_ui *u, const struct cli_opts *o);
void cli_ui_release(struct cli_ui *u);
void cli_on_progress(void *ud, const struct vmig_progress *p);
void cli_log_stderr(void *ud, int level, const char *msg);

int cmd_collections(struct cli_opts *o);
int cmd_plan(struct cli_opts *o);
int cmd_migrate(struct cli_opts *o);
int cmd_verify(struct cli_opts *o);
int cmd_repair(struct cli_opts *o); /* cmd_repair.c */
int cmd_jobs(struct cli_opts *o);   /* cmd_jobs.c */
int cmd_worker(struct cli_opts *o); /* cmd_worker.c */
int cmd_serve(struct cli_opts *o);  /* cmd_serve.c: the HTTP API and web console */
struct vmig_job_run_opts;
/* Run options of jobs resume/retry/restart and worker: secrets from flags/env,
 * cancel on SIGINT, log to stderr. */
void cli_job_run_opts(const struct cli_opts *o, struct vmig_job_run_opts *ro);

#endif
