/*
 * cmd_serve.c - `vmigrate serve`: the HTTP API (/api/v1) and the web console,
 * with a job worker inside so jobs created over HTTP run in the background. The
 * server itself lives in src/server/; this file only hands it the parsed options,
 * the stderr log sink and the SIGINT/SIGTERM flag of main.c.
 */
#include <stdio.h>

#include "cli.h"
#include "server/server.h"

int cmd_serve(struct cli_opts *o)
{
    if (o->nargs) {
        fprintf(stderr, "vmigrate serve: unexpected argument '%s'\n", o->args[0]);
        return EXIT_USAGE;
    }
    struct srv_config cfg = {
        .listen = o->listen ? o->listen : "127.0.0.1:8080",
        .store = o->store,
        .api_token = o->api_token,
        .web_root = o->web_root,
        .concurrency = o->concurrency > 0 ? o->concurrency : 1,
        .verbose = o->verbose,
        .log = cli_log_stderr,
        .host_stop = &cli_cancel,
    };
    int rc = srv_run(&cfg);
    return rc == 2 ? EXIT_USAGE : rc ? EXIT_FAILED : EXIT_OK;
}
