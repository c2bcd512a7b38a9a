/*
 * queue.h - a bounded blocking FIFO of pointers: the only way engine threads hand
 * work to each other (readers -> writers). Its capacity is what keeps memory flat
 * whatever the collection size: a reader blocks when writers fall behind.
 */
#ifndef VMIG_UTIL_QUEUE_H
#define VMIG_UTIL_QUEUE_H

#include <pthread.h>
#include <stddef.h>

struct vmig_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    void **items;
    size_t cap, head, len;
    int closed;
};

void vmig_queue_init(struct vmig_queue *q, size_t cap);
void vmig_queue_release(struct vmig_queue *q);
/* Blocks while full. Returns -1 (item not queued) once the queue is closed. */
int vmig_queue_push(struct vmig_queue *q, void *item);
/* Blocks while empty. Returns NULL when closed and drained. */
void *vmig_queue_pop(struct vmig_queue *q);
/* Wake everyone; pushes fail from now on, pops drain what is left. */
void vmig_queue_close(struct vmig_queue *q);

#endif
