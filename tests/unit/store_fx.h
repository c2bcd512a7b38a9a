/*
 * store_fx.h - the fixtures the job store tests (test_store.c, test_store_tasks.c)
 * share, so each case runs on SQLite and on PostgreSQL alike: a temporary folder with
 * the key file and either a SQLite file or a fresh PostgreSQL database (created on
 * the server $VMIG_TEST_PG_URL names, dropped after), a plan of n collections and a
 * job made from it. Without $VMIG_TEST_PG_URL the PostgreSQL cases are skipped.
 */
#ifndef VMIG_TEST_STORE_FX_H
#define VMIG_TEST_STORE_FX_H

#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/alloc.h"
#include "vmig/job.h"
#include "vmig/vmig.h"

#define API_KEY "qdrant-SECRET-apikey-0123456789"
#define TOKEN "root:Milvus-PASS-word-9876"

struct fx {
    char dir[256];
    char db[1024]; /* the SQLite file, or the PostgreSQL URL of the test's database */
    char key[512];
    int pg;
    char pg_name[64];
};

static inline const char *pg_base_url(void)
{
    const char *u = getenv("VMIG_TEST_PG_URL");
    return u && *u ? u : NULL;
}

/* url with its database replaced by name (the query string kept). */
static inline void pg_url_with_db(const char *url, const char *name, char *out, size_t n)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    const char *slash = auth + strcspn(auth, "/?");
    const char *query = strchr(slash, '?');
    snprintf(out, n, "%.*s/%s%s", (int)(slash - url), url, name, query ? query : "");
}

/* Run sql on the database of url; 0 = ok. With out: the first value, as text. */
static inline int pg_sql(const char *url, const char *sql, char *out, size_t n)
{
    PGconn *c = PQconnectdb(url);
    int rc = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        ExecStatusType t = PQresultStatus(r);
        rc = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK ? 0 : -1;
        if (rc) fprintf(stderr, "pg_sql: %s: %s", sql, PQerrorMessage(c));
        if (out) snprintf(out, n, "%s", !rc && PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
        PQclear(r);
    } else {
        fprintf(stderr, "pg_sql: cannot connect: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return rc;
}

static inline int fx_setup(void **state, int pg)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vmig_test_store_XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->db, sizeof f->db, "%s/data/vmigrate.db", f->dir);
    snprintf(f->key, sizeof f->key, "%s/conf/secret.key", f->dir);
    setenv("VMIGRATE_SECRET_KEY_FILE", f->key, 1);
    *state = f;
    if (!pg) return 0;
    static int seq;
    f->pg = 1;
    snprintf(f->pg_name, sizeof f->pg_name, "vt_%d_%d", (int)getpid(), ++seq);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pg_name);
    if (pg_sql(pg_base_url(), sql, NULL, 0)) return -1;
    pg_url_with_db(pg_base_url(), f->pg_name, f->db, sizeof f->db);
    return 0;
}

static inline int setup(void **state)
{
    return fx_setup(state, 0);
}

static inline int setup_pg(void **state)
{
    return fx_setup(state, 1);
}

static inline void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            rm_rf(p);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    if (f->pg) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->pg_name);
        pg_sql(pg_base_url(), sql, NULL, 0);
    }
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* A plan of n collections "c0".."c{n-1}" (one 4-dim cosine vector each). */
static inline void make_plan(struct vmig_plan *p, size_t n)
{
    struct vmig_map_opts mo;
    vmig_map_opts_init(&mo);
    memset(p, 0, sizeof *p);
    p->n = n;
    p->coll = xcalloc(n, sizeof *p->coll);
    for (size_t i = 0; i < n; i++) {
        struct vmig_src_coll src;
        memset(&src, 0, sizeof src);
        snprintf(src.name, sizeof src.name, "c%zu", i);
        src.unnamed = 1;
        src.nvec = 1;
        src.vec[0].size = 4;
        src.vec[0].distance = VMIG_DIST_COSINE;
        snprintf(src.vec[0].datatype_name, sizeof src.vec[0].datatype_name, "float32");
        src.vec[0].hnsw_m = src.vec[0].hnsw_ef = -1;
        src.hnsw_m = src.hnsw_ef = -1;
        src.ids_probed = 1;
        vmig_plan_coll_build(&src, &mo, &p->coll[i]);
    }
    vmig_map_opts_release(&mo);
}

static inline struct vmig_store *open_store(struct fx *f)
{
    struct vmig_store *s = NULL;
    struct vmig_err err;
    vmig_err_clear(&err);
    enum vmig_code rc = vmig_store_open(f->db, &s, &err);
    if (rc) fprintf(stderr, "open: %s\n", err.msg);
    assert_int_equal(rc, VMIG_OK);
    return s;
}

static inline void endpoints(struct vmig_endpoint *src, struct vmig_endpoint *dst, int secrets)
{
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    src->url = "http://127.0.0.1:1";
    src->secret = secrets ? API_KEY : NULL;
    dst->url = "http://127.0.0.1:2";
    dst->db = "analytics";
    dst->secret = secrets ? TOKEN : NULL;
}

static inline void create_job(struct vmig_store *s, const struct vmig_plan *p, int secrets,
                              char id[VMIG_JOB_ID_MAX])
{
    struct vmig_endpoint src, dst;
    struct vmig_err err;
    vmig_err_clear(&err);
    endpoints(&src, &dst, 1);
    struct vmig_job_opts o;
    vmig_job_opts_init(&o);
    o.readers = 3;
    o.page_limit = 500;
    snprintf(o.rejects, sizeof o.rejects, "/tmp/rejects.jsonl");
    enum vmig_code rc = vmig_job_create(s, &src, &dst, p, &o, secrets, id, &err);
    if (rc) fprintf(stderr, "create: %s\n", err.msg);
    assert_int_equal(rc, VMIG_OK);
}

/* Run the group on SQLite, then (when $VMIG_TEST_PG_URL names a server) on PostgreSQL:
 * the same cases with setup_pg. */
#define RUN_ON_BOTH(sqlite_tests, pg_tests)                                                        \
    (cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL) +                             \
     (pg_base_url() ? cmocka_run_group_tests_name("postgres", pg_tests, NULL, NULL)                \
                    : (printf("[  SKIPPED ] postgres: VMIG_TEST_PG_URL is not set\n"), 0)))

#endif
