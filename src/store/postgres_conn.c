/*
 * postgres_conn.c - the PostgreSQL job store's connection: opening it from a
 * postgres:// URL (refused when the URL carries a password, which belongs in
 * PGPASSWORD, ~/.pgpass or a service file), the schema migrations of
 * store/migrations_pg (embedded at build time, each in its own transaction under an
 * advisory lock so many workers starting at once never race), and the execute /
 * reconnect helpers the operations in postgres.c and postgres_tasks.c share. One
 * connection per handle behind a mutex; a lost connection (server restart, network)
 * is reset once and the call run again once, because workers live for hours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres_int.h"
#include "store_migrations_pg.h"
#include "util/alloc.h"

/* The key of the advisory lock migrations hold ("vmig" in ASCII). */
#define MIGRATE_LOCK "1986881895"

void pg_p_text(struct pg_params *p, const char *v)
{
    p->v[p->n] = v;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

void pg_p_i64(struct pg_params *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)v);
    pg_p_text(p, p->num[p->n]);
}

void pg_p_f64(struct pg_params *p, double v)
{
    snprintf(p->num[p->n], sizeof p->num[p->n], "%.17g", v);
    pg_p_text(p, p->num[p->n]);
}

void pg_p_blob(struct pg_params *p, const unsigned char *b, size_t len)
{
    p->v[p->n] = len ? (const char *)b : NULL;
    p->len[p->n] = (int)len;
    p->fmt[p->n] = 1;
    p->n++;
}

/* The server's words on one line: libpq's newlines, tabs and runs of spaces as one. */
static void one_line(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; in && *in && k + 1 < n; in++) {
        char c = *in == '\n' || *in == '\t' ? ' ' : *in;
        if (c != ' ' || (k && out[k - 1] != ' ')) out[k++] = c;
    }
    while (k && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
}

static void reconnect(struct pg_store *s)
{
    PQreset(s->conn);
    memset(s->prepared, 0, sizeof s->prepared);
    s->lost = PQstatus(s->conn) != CONNECTION_OK;
}

void pg_lock(struct pg_store *s)
{
    pthread_mutex_lock(&s->mu);
    if (PQstatus(s->conn) != CONNECTION_OK) reconnect(s);
}

void pg_unlock(struct pg_store *s)
{
    pthread_mutex_unlock(&s->mu);
}

int pg_retry(struct pg_store *s, int *attempt)
{
    if (!s->lost || (*attempt)++) return 0;
    reconnect(s);
    return !s->lost;
}

/* Was the failure of r the connection? Admin shutdown, crash shutdown, cannot connect
 * now (57P01..03) and the connection exception class 08, or a dead socket. */
static int conn_lost(struct pg_store *s, const PGresult *r)
{
    if (PQstatus(s->conn) != CONNECTION_OK || !r) return 1;
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!st) return 0;
    return !strncmp(st, "08", 2) || !strcmp(st, "57P01") || !strcmp(st, "57P02") ||
           !strcmp(st, "57P03");
}

static enum vmig_code failed(struct pg_store *s, PGresult *r, struct vmig_err *err,
                             const char *what)
{
    char msg[VMIG_ERR_MSG_MAX - 64];
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    one_line(primary ? primary : PQerrorMessage(s->conn), msg, sizeof msg);
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    /* the key is taken: a code of its own, so callers never read the server's text */
    enum vmig_code code = st && !strcmp(st, "23505") ? VMIG_E_EXISTS : VMIG_E_IO;
    s->lost = conn_lost(s, r);
    PQclear(r);
    return vmig_err_set(err, code, "job store: cannot %s: %s", what, msg);
}

static int result_ok(const PGresult *r)
{
    ExecStatusType t = PQresultStatus(r);
    return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
}

enum vmig_code pg_exec(struct pg_store *s, int slot, const char *sql, const struct pg_params *p,
                       int binary, PGresult **res, struct vmig_err *err, const char *what)
{
    char name[16];
    snprintf(name, sizeof name, "vq%d", slot);
    if (res) *res = NULL;
    s->lost = 0;
    if (!s->prepared[slot]) {
        PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) return failed(s, r, err, what);
        PQclear(r);
        s->prepared[slot] = 1;
    }
    PGresult *r = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                                 p ? p->fmt : NULL, binary);
    if (!r || !result_ok(r)) return failed(s, r, err, what);
    if (res)
        *res = r;
    else
        PQclear(r);
    return VMIG_OK;
}

enum vmig_code pg_cmd(struct pg_store *s, const char *sql, struct vmig_err *err, const char *what)
{
    s->lost = 0;
    PGresult *r = PQexec(s->conn, sql);
    if (!r || !result_ok(r)) return failed(s, r, err, what);
    PQclear(r);
    return VMIG_OK;
}

enum vmig_code pg_run(struct pg_store *s, int slot, const char *sql, const struct pg_params *p,
                      int binary, PGresult **res, struct vmig_err *err, const char *what)
{
    int attempt = 0;
    enum vmig_code rc;
    pg_lock(s);
    do
        rc = pg_exec(s, slot, sql, p, binary, res, err, what);
    while (rc && pg_retry(s, &attempt));
    pg_unlock(s);
    return rc;
}

int pg_changed(const PGresult *r)
{
    return r ? atoi(PQcmdTuples((PGresult *)r)) : 0;
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double pg_f64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

char *pg_dup(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

void pg_copy(const PGresult *r, int row, int col, char *out, size_t n)
{
    snprintf(out, n, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* ---- schema -------------------------------------------------------------------------- */

/* The version recorded in vmigrate_schema (0 = a fresh database). Caller is in the
 * migration transaction and holds the advisory lock. */
static enum vmig_code read_version(struct pg_store *s, int *have, struct vmig_err *err)
{
    enum vmig_code rc = pg_cmd(s,
                               "CREATE TABLE IF NOT EXISTS vmigrate_schema (version integer"
                               " NOT NULL)",
                               err, "create the schema version table");
    if (rc) return rc;
    PGresult *r = PQexec(s->conn, "SELECT max(version) FROM vmigrate_schema");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
        return failed(s, r, err, "read the schema version");
    *have = PQntuples(r) ? (int)pg_i64(r, 0, 0) : 0;
    PQclear(r);
    return VMIG_OK;
}

/* One step: under the lock, read the version; apply the next migration and record it,
 * all in one transaction, so a crash leaves the previous version intact. *more = 0
 * when the schema is current. */
static enum vmig_code migrate_step(struct pg_store *s, int *more, struct vmig_err *err)
{
    int newest = (int)(sizeof vmig_migrations_pg / sizeof *vmig_migrations_pg), have = 0;
    *more = 0;
    enum vmig_code rc = pg_cmd(s, "BEGIN", err, "begin a migration");
    if (rc) return rc;
    rc = pg_cmd(s, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", err,
                "lock the schema for a migration");
    if (!rc) rc = read_version(s, &have, err);
    if (!rc && have > newest)
        rc = vmig_err_set(err, VMIG_E_IO,
                          "job store schema version %d is newer than this vmigrate knows (%d): "
                          "upgrade vmigrate",
                          have, newest);
    if (!rc && have < newest) {
        char what[128], ver[96];
        snprintf(what, sizeof what, "apply migration %s", vmig_migrations_pg[have].name);
        snprintf(ver, sizeof ver,
                 "DELETE FROM vmigrate_schema; INSERT INTO vmigrate_schema"
                 " VALUES (%d)",
                 have + 1);
        rc = pg_cmd(s, vmig_migrations_pg[have].sql, err, what);
        if (!rc) rc = pg_cmd(s, ver, err, what);
        *more = !rc;
    }
    if (!rc) rc = pg_cmd(s, "COMMIT", err, "commit a migration");
    if (rc) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
        *more = 0;
        return rc;
    }
    s->version = have + *more;
    return VMIG_OK;
}

static enum vmig_code migrate_schema(struct pg_store *s, struct vmig_err *err)
{
    int more = 1;
    enum vmig_code rc = VMIG_OK;
    while (more && !rc)
        rc = migrate_step(s, &more, err);
    return rc;
}

/* ---- open ---------------------------------------------------------------------------- */

/* A password in the URL's user info (postgres://u:PASS@h) or as a parameter. */
static int url_has_password(const char *url)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t alen = strcspn(auth, "/?");
    const char *at = memchr(auth, '@', alen);
    if (at && memchr(auth, ':', (size_t)(at - auth))) return 1;
    return strstr(url, "password=") != NULL;
}

static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like: not ours to print */
}

static enum vmig_code connect_failed(struct pg_store *s, struct vmig_err *err)
{
    char msg[VMIG_ERR_MSG_MAX - 400];
    one_line(PQerrorMessage(s->conn), msg, sizeof msg);
    if (PQconnectionNeedsPassword(s->conn) || PQconnectionUsedPassword(s->conn))
        return vmig_err_set(err, VMIG_E_AUTH,
                            "cannot open the PostgreSQL job store at %s: %s (give the password "
                            "through PGPASSWORD, ~/.pgpass or a service file)",
                            s->where, msg);
    return vmig_err_set(err, VMIG_E_UNAVAILABLE,
                        "cannot open the PostgreSQL job store at %s: %s (check that the server is "
                        "up and reachable there, or choose another job store with --store)",
                        s->where, msg);
}

enum vmig_code vmig_store_pg_open(const char *url, struct vmig_store **out, struct vmig_err *err)
{
    *out = NULL;
    if (url_has_password(url))
        return vmig_err_set(err, VMIG_E_USAGE,
                            "cannot open the PostgreSQL job store: the URL carries a password, "
                            "which would show in process lists and logs; give it through "
                            "PGPASSWORD, ~/.pgpass or a service file (postgres:///?service=NAME)");
    struct pg_store *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    /* defaults first: the URL's own settings override them. No JIT: the store's
     * statements are index probes, which JIT compilation makes 100x slower */
    const char *const keys[] = {"application_name", "connect_timeout", "options", "dbname", NULL};
    const char *const vals[] = {"vmigrate", "10", "-c jit=off", url, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    enum vmig_code rc;
    if (!s->conn) {
        rc = vmig_err_set(err, VMIG_E_INTERNAL,
                          "cannot open the PostgreSQL job store: out of "
                          "memory");
        goto fail;
    }
    const char *host = PQhost(s->conn), *port = PQport(s->conn), *db = PQdb(s->conn);
    snprintf(s->where, sizeof s->where, "%s:%s/%s", host && *host ? host : "localhost",
             port && *port ? port : "5432", db ? db : "");
    if (PQstatus(s->conn) != CONNECTION_OK) {
        rc = connect_failed(s, err);
        goto fail;
    }
    PQsetNoticeProcessor(s->conn, notice_quiet, NULL);
    rc = migrate_schema(s, err);
    if (rc) goto fail;
    s->base.vt = &pg_vt;
    *out = &s->base;
    return VMIG_OK;
fail:
    pg_free(&s->base);
    return rc;
}

void pg_free(struct vmig_store *st)
{
    struct pg_store *s = PS(st);
    if (!s) return;
    if (s->conn) PQfinish(s->conn);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
