/*
 * main.c - vmigrate's command table (git's git.c): finds the subcommand (or says
 * which one was probably meant), parses its options from the one option table,
 * answers `help CMD [SUB]` and `CMD [SUB] --help`, installs the log callback and the
 * SIGINT handler, runs it and returns its exit code; with --json a command that ends
 * without its document answers with the error document. Each subcommand lives in
 * cmd_*.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/retry.h"
#include "vmig/vmig.h"

#ifndef VMIG_COMMIT /* set by CMakeLists.txt from git at configure time */
#define VMIG_COMMIT "unknown"
#endif

struct vmig_run_ctx cli_run;

struct cmd {
    const char *name;
    int (*fn)(struct cli_opts *o);
    const char *usage, *summary;
    const struct cli_sub *subs; /* its subcommands (`jobs show`), NULL = none */
    const size_t *nsubs;
};

static const struct cmd cmds[] = {
    {"collections", cmd_collections, "collections --source URL [--api-key K] [--json]",
     "list source collections and their vector configuration", NULL, NULL},
    {"plan", cmd_plan, "plan --source URL --target URL [-c NAME ... | --all] [--json] [edits]",
     "preview the Milvus schema of each collection (--json writes an editable plan)", NULL, NULL},
    {"migrate", cmd_migrate,
     "migrate --source URL --target URL [-c NAME ... | --all] [--plan FILE] [edits]",
     "copy collections into Milvus, index, load and verify them", NULL, NULL},
    {"verify", cmd_verify,
     "verify --source URL --target URL -c NAME [--sample N] | verify --job ID [--sample N]",
     "compare a migrated collection with its source", NULL, NULL},
    {"repair", cmd_repair,
     "repair [--job] ID [--diff FILE] | repair --source URL --target URL -c NAME [--diff FILE]",
     "re-copy the points a verification found missing or different, delete the extra ones", NULL,
     NULL},
    {"jobs", cmd_jobs,
     "jobs [list] [--status S] [--json] | jobs show|logs|cancel|resume|retry|restart ID",
     "list, inspect, cancel, resume, retry or restart migration jobs", cli_jobs_subs,
     &cli_jobs_nsubs},
    {"worker", cmd_worker, "worker [--concurrency N] [--metrics-listen [HOST:]PORT]",
     "long-running: claim pending jobs from the job store and run them", NULL, NULL},
    {"serve", cmd_serve, "serve [--listen 127.0.0.1:8080] [--api-token T] [--web-root DIR]",
     "HTTP API (/api/v1) and web console, with a job worker inside", NULL, NULL},
};

static void on_sigint(int sig)
{
    (void)sig;
    if (cli_cancel) _exit(EXIT_CANCELLED); /* second Ctrl-C: leave now */
    cli_cancel = 1;
    static const char msg[] = "\nvmigrate: cancelling (checkpoint kept; Ctrl-C again to quit now)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
}

static void usage(FILE *f)
{
    fprintf(f, "vmigrate %s - migrate Qdrant collections into Milvus / Zilliz Cloud\n\n",
            vmig_version());
    fprintf(f, "usage: vmigrate <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
    fprintf(f, "\nsecrets: QDRANT_API_KEY and MILVUS_TOKEN (never echoed).\n"
               "`vmigrate help <command>` (or `vmigrate <command> --help`) lists the options "
               "of a command.\n\n"
               "exit codes:\n"
               "  0    success\n"
               "  1    a collection failed (details on stderr / in --json), or the job store\n"
               "       cannot be opened\n"
               "  2    bad command line or plan file\n"
               "  3    cannot reach a server, TLS failure or bad credentials\n"
               "  4    a collection cannot be mapped, or its target already exists\n"
               "  5    verification found a difference (repair: still different after it)\n"
               "  130  cancelled (Ctrl-C)\n");
}

#define NCMDS (sizeof cmds / sizeof *cmds)

/* The command named name, or NULL after saying which one was probably meant. */
static const struct cmd *find_cmd(const char *name)
{
    const char *names[NCMDS + 1];
    for (size_t i = 0; i < NCMDS; i++) {
        if (strcmp(name, cmds[i].name) == 0) return &cmds[i];
        names[i] = cmds[i].name;
    }
    names[NCMDS] = "help";
    char near[256];
    if (cli_suggest(name, names, NCMDS + 1, NULL, near, sizeof near))
        cli_usage_error("unknown command '%s'; did you mean %s? (see vmigrate --help)", name, near);
    else
        cli_usage_error("unknown command '%s' (see vmigrate --help)", name);
    return NULL;
}

/* The subcommand of c named name, or NULL after saying which one was probably meant. */
static const struct cli_sub *find_sub(const struct cmd *c, const char *name)
{
    const char *names[16];
    size_t n = 0;
    for (size_t i = 0; i < *c->nsubs; i++) {
        if (strcmp(name, c->subs[i].name) == 0) return &c->subs[i];
        if (n < sizeof names / sizeof *names) names[n++] = c->subs[i].name;
    }
    char near[256];
    if (cli_suggest(name, names, n, NULL, near, sizeof near))
        cli_usage_error_in(c->name,
                           "unknown subcommand '%s'; did you mean %s? (see vmigrate "
                           "help %s)",
                           name, near, c->name);
    else
        cli_usage_error_in(c->name, "unknown subcommand '%s' (see vmigrate help %s)", name,
                           c->name);
    return NULL;
}

/* `vmigrate help CMD [SUB]` and `CMD [SUB] --help`: usage, summary and options. */
static int help(const struct cmd *c, const char *subname)
{
    const struct cli_sub *sub = NULL;
    if (subname && c->subs && !(sub = find_sub(c, subname))) return EXIT_USAGE;
    if (sub) {
        printf("usage: vmigrate %s %s\n\n%s\n", c->name, sub->usage, sub->summary);
    } else {
        printf("usage: vmigrate %s\n\n%s\n", c->usage, c->summary);
        if (c->subs) {
            printf("\nsubcommands (`vmigrate help %s SUB` for each):\n", c->name);
            for (size_t i = 0; i < *c->nsubs; i++)
                printf("  %-10s %s\n", c->subs[i].name, c->subs[i].summary);
        }
    }
    printf("\noptions:\n");
    cli_usage(stdout, c->name, sub ? sub->name : NULL);
    return EXIT_OK;
}

static int help_cmd(int argc, char **argv)
{
    if (argc < 1) {
        usage(stdout);
        return EXIT_OK;
    }
    const struct cmd *c = find_cmd(argv[0]);
    if (!c) return EXIT_USAGE;
    if (argc > 2 || (argc == 2 && !c->subs)) {
        cli_usage_error("help takes a command%s, not '%s'", c->subs ? " and a subcommand" : "",
                        argv[argc - 1]);
        return EXIT_USAGE;
    }
    return help(c, argc == 2 ? argv[1] : NULL);
}

static int wants_json(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--json") == 0) return 1;
    return 0;
}

static int run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) return help_cmd(argc - 2, argv + 2);
    if (strcmp(argv[1], "--version") == 0) {
        printf("vmigrate %s (commit %s)\n", vmig_version(), VMIG_COMMIT);
        return EXIT_OK;
    }
    const struct cmd *c = find_cmd(argv[1]);
    if (!c) return EXIT_USAGE;
    struct cli_opts o;
    memset(&o, 0, sizeof o);
    o.sample = -1;
    int rc = cli_parse(c->name, argc - 2, argv + 2, &o);
    if (rc) return rc;
    if (o.help) return help(c, c->subs && o.nargs ? o.args[0] : NULL);
    if (c->subs && o.nargs && !find_sub(c, o.args[0])) return EXIT_USAGE;
    if (c->subs && (rc = cli_check_sub_opts(c->name, o.nargs ? o.args[0] : "list", &o))) return rc;
    vmig_log_set(cli_log_stderr, NULL, o.verbose ? VMIG_LOG_DEBUG : VMIG_LOG_WARN);
    if (o.wait_timeout_s > 0) vmig_wait_default_s = o.wait_timeout_s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return c->fn(&o);
}

int main(int argc, char **argv)
{
    vmig_run_ctx_init(&cli_run);
    int rc = run(argc, argv);
    if (rc != EXIT_OK && !cli_json_done && wants_json(argc, argv)) {
        /* --json answers with one document, whatever went wrong */
        struct vmig_err e = *cli_first_error();
        if (!e.code)
            vmig_err_set(&e,
                         rc == EXIT_USAGE       ? VMIG_E_USAGE
                         : rc == EXIT_CANCELLED ? VMIG_E_CANCELLED
                                                : VMIG_E_INTERNAL,
                         "vmigrate exited with code %d (see stderr)", rc);
        cli_json_error(stdout, &e);
    }
    return rc;
}
