/*
 * fake.h - an in-memory source and target behind the real connector vtables
 * (scheme "fake://"), with scripted faults, for engine tests that need no server.
 *
 * Every call of either connector, and every checkpoint the test's hook persists
 * (fake_step), is one numbered step. A test picks a step K and what happens there:
 *
 *   FAKE_CRASH   the process dies at K: the call at K fails (with odd K after its
 *                effect was applied - a write the server took but never
 *                acknowledged), and so does every later call and checkpoint;
 *                fake_recover() then brings the servers back (with `lossy`, the
 *                target loses what was not flushed, as Milvus Lite does).
 *   FAKE_OUTAGE  the target restarts between two calls at K: it loses what was not
 *                flushed (always, like Lite), counts a fault, and the call succeeds
 *                (as if the connector's retry got through).
 *   FAKE_STALL   the call at K blocks (a hung server) until the run context it was
 *                opened with is cancelled; fake_stalled() tells the test it got there.
 *
 * The target keeps Milvus's semantics that matter for exactness: Insert never
 * de-duplicates, Upsert replaces every row of its key, nothing survives a lossy crash
 * that was not flushed (an unflushed Upsert's delete is undone too).
 */
#ifndef VMIG_TEST_FAKE_H
#define VMIG_TEST_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "source/source.h"
#include "target/target.h"

enum fake_fault { FAKE_NONE = 0, FAKE_CRASH, FAKE_OUTAGE, FAKE_STALL };

struct fake_params {
    size_t npoints;   /* source points: integer ids, the last quarter UUIDs */
    int slices;       /* the source has the slice filter (else ids are sampled) */
    int lossy;        /* a crash also loses the target's unflushed writes */
    uint64_t fault_at; /* step of the fault; 0 = none */
    enum fake_fault fault;
    uint64_t crash_at; /* a FAKE_CRASH besides (e.g. while an outage is being repaired) */
};

/* Empty both servers and load the source; register the connectors (once). */
void fake_reset(const struct fake_params *p);
/* Steps so far. */
uint64_t fake_steps(void);
/* A step of the test itself (its checkpoint hook): nonzero = crashed, do not persist. */
int fake_step(void);
/* After a crash: the servers come back (lossy: the target drops unflushed writes);
 * no more faults. */
void fake_recover(void);
/* Nonzero once a FAKE_STALL call is blocked. */
int fake_stalled(void);
/* Nonzero when the stalled call saw its run context cancelled. */
int fake_stall_saw_cancel(void);

/* Every source point exactly once in the target, with its vector and payload:
 * 0, else nonzero with what differs in why. */
int fake_check_exact(char *why, size_t n);
size_t fake_target_rows(void);
uint64_t fake_inserted(void), fake_upserted(void);

/* A plan for the fake collection: "fake" -> "fake_t", one 4-d vector "v". */
void fake_plan(struct vmig_plan_coll *pc);

extern const struct vmig_source_vt fake_source;
extern const struct vmig_target_vt fake_target;

#endif
