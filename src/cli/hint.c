/*
 * hint.c - the CLI's words for the way out of an error. The library decides the fix
 * (struct vmig_err.fix, with the collection, field and fix_arg it is about); this file
 * names the flag or the command that carries it out. Inside a job the way out is a
 * `vmigrate jobs …` command on that job (a new `migrate` would meet the collection
 * the job created); before a job, the flag to give the command again with.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The collection as the flags take it: the source name of the error's subject. */
static const char *coll_of(const struct vmig_err *e)
{
    return e->coll[0] ? e->coll : "COLLECTION";
}

void cli_fix_hint(const struct vmig_err *e, const char *job, char *out, size_t n)
{
    const char *c = coll_of(e), *f = e->field[0] ? e->field : "VECTOR";
    char retry[160] = "";
    int in_job = job && *job;
    if (in_job) snprintf(retry, sizeof retry, "vmigrate jobs retry %s", job);
    out[0] = '\0';
    switch (e->fix) {
    case VMIG_FIX_NONE: break;
    case VMIG_FIX_NULL_VALUES:
        if (in_job)
            snprintf(out, n, "drop the nulls (or keep them): `%s --null-values drop`", retry);
        else
            snprintf(out, n, "use --null-values drop (or keep)");
        break;
    case VMIG_FIX_PAYLOAD_CONFLICT:
        if (in_job)
            snprintf(out, n, "store such keys as payload_KEY: `%s --payload-conflict prefix`",
                     retry);
        else
            snprintf(out, n, "use --payload-conflict prefix to store it as payload_KEY");
        break;
    case VMIG_FIX_TARGET_NAME:
        if (in_job)
            snprintf(out, n, "write it under another name: `%s --target-name '%s=NEW'`, or drop "
                             "it in Milvus and run `vmigrate jobs retry %s`",
                     retry, c, job);
        else
            snprintf(out, n, "use --target-name '%s=NEW', or drop it in Milvus", c);
        break;
    case VMIG_FIX_SKIP_VECTOR:
        if (in_job)
            snprintf(out, n, "leave it out: `%s --skip-vector '%s.%s'`", retry, c, f);
        else
            snprintf(out, n, "use --skip-vector '%s.%s' to migrate without it", c, f);
        break;
    case VMIG_FIX_VECTOR_LIMIT:
        snprintf(out, n,
                 "leave vectors out with --skip-vector '%s.VECTOR', or raise --max-vector-fields "
                 "N if your cluster allows more (proxy.maxVectorFieldNum)%s%s",
                 c, in_job ? ", with " : "", in_job ? retry : "");
        break;
    case VMIG_FIX_RENAME_FIELD:
        snprintf(out, n, "use --rename '%s.FIELD=NEW'", c);
        break;
    case VMIG_FIX_DESCRIPTION: snprintf(out, n, "give a shorter --description"); break;
    case VMIG_FIX_TYPED_FIELD: {
        const char *k = e->field[0] ? e->field : "KEY";
        snprintf(out, n,
                 "change it with --field '%s.%s=TYPE[:OPTIONS]', or keep the key in the dynamic "
                 "field with --field '%s.%s=dynamic'",
                 c, k, c, k);
        break;
    }
    case VMIG_FIX_PAYLOAD_MISFIT:
        if (in_job)
            snprintf(out, n,
                     "keep such values in the dynamic field: `%s --payload-misfit dynamic`, or set "
                     "the points aside: `%s --payload-misfit reject --rejects FILE`",
                     retry, retry);
        else
            snprintf(out, n,
                     "use --payload-misfit dynamic to keep such values in the dynamic field, or "
                     "--payload-misfit reject --rejects FILE to set the points aside");
        break;
    case VMIG_FIX_WRITE_MODE:
        snprintf(out, n, "use --write-mode rows (or auto, which picks rows here)");
        break;
    case VMIG_FIX_REJECTS:
        if (in_job)
            snprintf(out, n, "set such points aside: `%s --rejects FILE`", retry);
        else
            snprintf(out, n, "use --rejects FILE to set such points aside and go on");
        break;
    case VMIG_FIX_RESUME:
        if (in_job) snprintf(out, n, "`vmigrate jobs resume %s` continues", job);
        else snprintf(out, n, "run the command again");
        break;
    case VMIG_FIX_WAIT_TIMEOUT:
        if (in_job)
            snprintf(out, n, "`vmigrate jobs resume %s` waits again; raise --wait-timeout SEC to "
                             "wait longer",
                     job);
        else
            snprintf(out, n, "raise --wait-timeout SEC");
        break;
    case VMIG_FIX_CREDENTIALS:
        if (!cli_cmd_takes("token")) /* collections: only Qdrant is asked */
            snprintf(out, n, "check --api-key / QDRANT_API_KEY (the Qdrant API key)");
        else
            snprintf(out, n,
                     "check --api-key / QDRANT_API_KEY (Qdrant) or --token / MILVUS_TOKEN "
                     "(Milvus: user:password or a Zilliz API key)");
        break;
    case VMIG_FIX_TLS:
        snprintf(out, n, "use --ca-file with the server's CA certificate, or --insecure for a "
                         "test server");
        break;
    case VMIG_FIX_ENDPOINT:
        snprintf(out, n, "check the URL and port in %s, and that the server runs",
                 cli_cmd_takes("target") ? "--source / --target" : "--source");
        break;
    case VMIG_FIX_DATABASE:
        snprintf(out, n, "create the database in Milvus first, or pass --db NAME");
        break;
    case VMIG_FIX_JOB: {
        const char *h = e->fix_arg[0] ? e->fix_arg : "ID";
        snprintf(out, n,
                 "continue that job: `vmigrate jobs retry %s` (with the changes it needs, e.g. "
                 "--null-values drop) or `vmigrate jobs resume %s`; or use --target-name '%s=NEW'",
                 h, h, c);
        break;
    }
    case VMIG_FIX_BUSY: {
        const char *h = e->fix_arg[0] ? e->fix_arg : "ID";
        int k = snprintf(out, n, "wait until job %s ends or cancel it (`vmigrate jobs cancel %s`)",
                         h, h);
        if (in_job && k > 0 && (size_t)k < n)
            snprintf(out + k, n - (size_t)k,
                     ", or retry under another name: `%s --target-name '%s=NEW'`", retry, c);
        break;
    }
    }
}
