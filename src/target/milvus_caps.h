/*
 * milvus_caps.h - target capabilities from the version a Milvus-compatible server
 * reports (see milvus_caps.c for the forms recognised). Pure.
 */
#ifndef VMIG_TARGET_MILVUS_CAPS_H
#define VMIG_TARGET_MILVUS_CAPS_H

#include "vmig/types.h"

/* Fill out from GetVersion's text; zilliz: the endpoint is Zilliz Cloud's (known by
 * its address, vmig_milvus_url_is_zilliz()). Never fails: an unrecognised version is
 * the newest Milvus, known = 0. */
void vmig_milvus_caps(const char *version, int zilliz, struct vmig_target_caps *out);
/* The host of url ends in .zillizcloud.com or .zilliz.com. */
int vmig_milvus_url_is_zilliz(const char *url);

#endif
