/*
 * files.c - the web console's static files for `vmigrate serve`: index.html at /,
 * other files by path under the web root with their Content-Type. The web root is
 * --web-root, else where an installed binary's console is (/proc/self/exe is
 * PREFIX/bin/vmigrate: ../share/vmigrate/web, as CMakeLists.txt installs it), else web/
 * of the repository the executable was built in (build/<preset>/vmigrate: ../../web),
 * else ./web; a directory without index.html is no console. Paths are
 * resolved with realpath() and must stay inside the root (no traversal, no symlink
 * escapes); only regular files are served.
 */
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void files_find_root(struct srv *s)
{
    char cand[3][PATH_MAX];
    int n = 0;
    if (s->cfg->web_root && *s->cfg->web_root) {
        snprintf(cand[n++], PATH_MAX, "%s", s->cfg->web_root);
    } else {
        char exe[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len > 0) {
            exe[len] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) *slash = '\0';
            snprintf(cand[n++], PATH_MAX, "%s/../share/vmigrate/web", exe);
            snprintf(cand[n++], PATH_MAX, "%s/../../web", exe);
        }
        snprintf(cand[n++], PATH_MAX, "web");
    }
    s->web_root[0] = '\0';
    for (int i = 0; i < n; i++) {
        char real[PATH_MAX], index[PATH_MAX + 16];
        snprintf(index, sizeof index, "%s/index.html", cand[i]);
        if (is_dir(cand[i]) && access(index, R_OK) == 0 && realpath(cand[i], real)) {
            snprintf(s->web_root, sizeof s->web_root, "%s", real);
            return;
        }
    }
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof *types; i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

static int send_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    struct MHD_Response *rs =
        MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
    if (!rs) return MHD_NO;
    MHD_add_response_header(rs, "Content-Type", "text/plain; charset=utf-8");
    int ret = MHD_queue_response(c, status, rs);
    MHD_destroy_response(rs);
    return ret;
}

int files_serve(struct srv *s, void *conn, const char *path)
{
    struct MHD_Connection *c = conn;
    if (!s->web_root[0])
        return send_text(c, 404, "no web console installed (start vmigrate serve with "
                                 "--web-root DIR); the API is under /api/v1/\n");
    /* MHD has already percent-decoded the path; refuse anything that names a parent
     * or hidden entry before touching the file system */
    if (path[0] != '/' || strstr(path, "/.") || strchr(path, '\\'))
        return send_text(c, 404, "not found\n");
    for (const unsigned char *b = (const unsigned char *)path; *b; b++)
        if (*b < 0x20 || *b == 0x7f) return send_text(c, 404, "not found\n"); /* %00, ... */
    char want[PATH_MAX], real[PATH_MAX];
    int n = snprintf(want, sizeof want, "%s%s%s", s->web_root, path,
                     path[strlen(path) - 1] == '/' ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof want) return send_text(c, 404, "not found\n");
    size_t rootlen = strlen(s->web_root);
    if (!realpath(want, real) || strncmp(real, s->web_root, rootlen) != 0 ||
        real[rootlen] != '/')
        return send_text(c, 404, "not found\n");
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return send_text(c, 404, "not found\n");
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return send_text(c, 404, "not found\n");
    }
    struct MHD_Response *rs = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!rs) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(rs, "Content-Type", content_type(real));
    MHD_add_response_header(rs, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(rs, "Cache-Control", "no-cache");
    int ret = MHD_queue_response(c, 200, rs);
    MHD_destroy_response(rs);
    return ret;
}
