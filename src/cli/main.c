/*
 * main.c - vmigrate's command table (git's git.c): finds the subcommand, parses
 * its options from the one option table, installs the log callback and the SIGINT
 * handler, runs it and returns its exit code. Each subcommand lives in cmd_*.c.
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
};

static const struct cmd cmds[] = {
    {"collections", cmd_collections, "collections --source URL [--api-key K] [--json]",
     "list source collections and their vector configuration"},
    {"plan", cmd_plan, "plan --source URL --target URL [-c NAME ... | --all] [--json] [edits]",
     "preview the Milvus schema of each collection (--json writes an editable plan)"},
    {"migrate", cmd_migrate,
     "migrate --source URL --target URL [-c NAME ... | --all] [--plan FILE] [edits]",
     "copy collections into Milvus, index, load and verify them"},
    {"verify", cmd_verify, "verify --source URL --target URL -c NAME [--sample N]",
     "compare a migrated collection with its source"},
    {"jobs", cmd_jobs,
     "jobs [list] [--status S] [--json] | jobs show|logs|cancel|resume|retry|restart ID",
     "list, inspect, cancel, resume, retry or restart migration jobs"},
    {"worker", cmd_worker, "worker [--concurrency N]",
     "long-running: claim pending jobs from the job store and run them"},
    {"serve", cmd_serve, "serve [--listen 127.0.0.1:8080] [--api-token T] [--web-root DIR]",
     "HTTP API (/api/v1) and web console, with a job worker inside"},
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
               "`vmigrate <command> --help` lists the options of a command.\n\n"
               "exit codes:\n"
               "  0    success\n"
               "  1    a collection failed (details on stderr / in --json)\n"
               "  2    bad command line or plan file\n"
               "  3    cannot reach a server, TLS failure or bad credentials\n"
               "  4    a collection cannot be mapped, or its target already exists\n"
               "  5    verification found a difference\n"
               "  130  cancelled (Ctrl-C)\n");
}

int main(int argc, char **argv)
{
    vmig_run_ctx_init(&cli_run);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vmigrate %s (commit %s)\n", vmig_version(), VMIG_COMMIT);
        return EXIT_OK;
    }
    const struct cmd *c = NULL;
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) c = &cmds[i];
    if (!c) {
        fprintf(stderr, "vmigrate: unknown command '%s' (see vmigrate --help)\n", argv[1]);
        return EXIT_USAGE;
    }
    struct cli_opts o;
    memset(&o, 0, sizeof o);
    o.sample = -1;
    int rc = cli_parse(c->name, argc - 2, argv + 2, &o);
    if (rc) return rc;
    if (o.help) {
        printf("usage: vmigrate %s\n\n%s\n\noptions:\n", c->usage, c->summary);
        cli_usage(stdout, c->name);
        return EXIT_OK;
    }
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
