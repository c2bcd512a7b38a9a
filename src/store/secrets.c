/*
 * secrets.c - the secrets box of the job store: the Qdrant API key and the Milvus
 * token a job needs to resume are sealed with libsodium's crypto_secretbox_easy
 * (XSalsa20-Poly1305, random nonce per secret) under a 32-byte key kept in a key
 * file, created on first use with mode 0600 in a 0700 directory. The store only
 * ever sees nonce || ciphertext, so the database file can be copied or inspected
 * without revealing a credential; losing the key file only means resume asks for
 * the secrets again (env or flags).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "util/alloc.h"

int vmig_secret_key_path(char *out, size_t n)
{
    const char *env = getenv("VMIGRATE_SECRET_KEY_FILE");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return 0;
    }
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg) {
        snprintf(out, n, "%s/vmigrate/secret.key", xdg);
        return 0;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) return -1;
    snprintf(out, n, "%s/.config/vmigrate/secret.key", home);
    return 0;
}

static int mkparents(const char *path)
{
    char tmp[VMIG_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

static int read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Load the key, creating it (O_EXCL: two processes racing agree on one key) when
 * create is set and it does not exist yet. */
static enum vmig_code load_key(unsigned char key[crypto_secretbox_KEYBYTES], int create,
                               struct vmig_err *err)
{
    char path[VMIG_PATH_MAX];
    if (sodium_init() < 0) return vmig_err_set(err, VMIG_E_INTERNAL, "cannot initialise libsodium");
    if (vmig_secret_key_path(path, sizeof path))
        return vmig_err_set(err, VMIG_E_IO, "cannot find the secret key file: HOME is not set");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkparents(path))
            return vmig_err_set(err, VMIG_E_IO, "cannot create the directory of '%s': %s", path,
                                strerror(errno));
        int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (wfd >= 0) {
            unsigned char k[crypto_secretbox_KEYBYTES];
            crypto_secretbox_keygen(k);
            ssize_t w = write(wfd, k, sizeof k);
            int bad = w != (ssize_t)sizeof k || fsync(wfd) != 0;
            sodium_memzero(k, sizeof k);
            close(wfd);
            if (bad) {
                unlink(path);
                return vmig_err_set(err, VMIG_E_IO, "cannot write the secret key file '%s'",
                                    path);
            }
        } else if (errno != EEXIST) {
            return vmig_err_set(err, VMIG_E_IO, "cannot create the secret key file '%s': %s",
                                path, strerror(errno));
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return vmig_err_set(err, errno == ENOENT ? VMIG_E_AUTH : VMIG_E_IO,
                            "cannot read the secret key file '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077)) {
        close(fd);
        return vmig_err_set(err, VMIG_E_IO,
                            "secret key file '%s' is readable by others (chmod 600 it)", path);
    }
    int bad = read_full(fd, key, crypto_secretbox_KEYBYTES);
    close(fd);
    if (bad)
        return vmig_err_set(err, VMIG_E_IO, "secret key file '%s' is truncated", path);
    return VMIG_OK;
}

enum vmig_code vmig_secret_seal(const char *plain, struct vmig_store_blob *out,
                                struct vmig_err *err)
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    out->p = NULL;
    out->len = 0;
    if (!plain || !*plain) return VMIG_OK;
    enum vmig_code rc = load_key(key, 1, err);
    if (rc) return rc;
    size_t n = strlen(plain);
    out->len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    out->p = xmalloc(out->len);
    randombytes_buf(out->p, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out->p + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n,
                          out->p, key);
    sodium_memzero(key, sizeof key);
    return VMIG_OK;
}

enum vmig_code vmig_secret_open(const struct vmig_store_blob *in, char **plain,
                                struct vmig_err *err)
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    *plain = NULL;
    if (!in->len) return VMIG_OK;
    if (in->len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return vmig_err_set(err, VMIG_E_IO, "stored secret is truncated");
    enum vmig_code rc = load_key(key, 0, err);
    if (rc) return rc;
    size_t n = in->len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *p = xmalloc(n + 1);
    if (crypto_secretbox_open_easy((unsigned char *)p, in->p + crypto_secretbox_NONCEBYTES,
                                   in->len - crypto_secretbox_NONCEBYTES, in->p, key) != 0) {
        sodium_memzero(key, sizeof key);
        free(p);
        return vmig_err_set(err, VMIG_E_AUTH,
                            "cannot decrypt the stored secrets (the secret key file changed?): "
                            "give them again with QDRANT_API_KEY / MILVUS_TOKEN");
    }
    sodium_memzero(key, sizeof key);
    p[n] = '\0';
    *plain = p;
    return VMIG_OK;
}

void vmig_store_blob_release(struct vmig_store_blob *b)
{
    if (b->p) sodium_memzero(b->p, b->len);
    free(b->p);
    b->p = NULL;
    b->len = 0;
}
