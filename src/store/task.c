/*
 * task.c - what every job store shares about range tasks (store.h): the stored
 * names of their kinds and the release of a task read back.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

const char *vmig_task_kind_name(enum vmig_task_kind k)
{
    switch (k) {
    case VMIG_TASK_SETUP:
        return "setup";
    case VMIG_TASK_RANGE:
        return "range";
    case VMIG_TASK_FINISH:
        return "finish";
    }
    return "range";
}

void vmig_store_task_release(struct vmig_store_task *t)
{
    if (!t) return;
    free(t->state_json);
    t->state_json = NULL;
}
