/*
 * redact.c - secret redaction (util/redact.h).
 */
#include "util/redact.h"

#include <string.h>

static void redact_one(struct vmig_buf *b, const char *secret, size_t n)
{
    if (n < 3 || !b->p) return;
    struct vmig_buf o = VMIG_BUF_INIT;
    const char *p = b->p, *hit;
    int any = 0;
    while ((hit = strstr(p, secret))) {
        vmig_buf_add(&o, p, (size_t)(hit - p));
        vmig_buf_adds(&o, "***");
        p = hit + n;
        any = 1;
    }
    if (!any) {
        vmig_buf_release(&o);
        return;
    }
    vmig_buf_adds(&o, p);
    vmig_buf_release(b);
    *b = o;
}

void vmig_redact_secret(struct vmig_buf *b, const char *secret)
{
    if (!secret) return;
    redact_one(b, secret, strlen(secret));
    /* a Milvus token user:password: the password alone must not leak either */
    const char *colon = strchr(secret, ':');
    if (colon) redact_one(b, colon + 1, strlen(colon + 1));
}

void vmig_redact_userinfo(struct vmig_buf *b)
{
    if (!b->p) return;
    struct vmig_buf o = VMIG_BUF_INIT;
    const char *p = b->p, *sep;
    while ((sep = strstr(p, "://"))) {
        const char *h = sep + 3;
        size_t n = strcspn(h, "/@ \t'\"");
        vmig_buf_add(&o, p, (size_t)(h - p));
        if (h[n] == '@') {
            vmig_buf_adds(&o, "***");
            h += n;
        }
        p = h;
    }
    vmig_buf_adds(&o, p);
    vmig_buf_release(b);
    *b = o;
}
