"""Cancel reaches every wait of a running job (issue 10, "Done when"): Ctrl-C (SIGINT to the
runner) and `jobs cancel` (the store request the HTTP API's and the console's Cancel make too)
end a job within 2 s while it waits for the target - a write the target never answers (a hung
server), Milvus gone (the retry back-off), a load that does not end, an index build that does
not end (--wait-index) - and the job shows CANCELLED and resumes exactly.

The waits are made by a HoldingLedgerProxy in front of Milvus that holds the chosen call until
its client goes away, and by stopping Milvus; the moment to cancel comes from the proxy (a call
is held) or from the job's own log (a retry was logged), never from a sleep. A held call never
ends by itself, so a cancel that did not reach it would leave the runner waiting for the call's
deadline (minutes), a retry back-off would run out its five-minute budget: the tests assert the
runner ended far sooner (STUCK_S), and print how long it took - the issue's 2 s (the runner polls
the store twice a second, every wait and call ends within 100 ms of the cancel, the last flush
within 1 s) is the machine's to meet, not a timed assertion.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.harness.gates import HoldingLedgerProxy, SourceGate
from tests.integration.test_jobs import (PAGE, WAIT_S, assert_exact, create_job, env,  # noqa: F401
                                         fresh, job_json, kill, log_tail, start_run, vm,
                                         wait_for, wait_milvus_healthy)

# far below what a cancel that does not reach the wait would take (a held call's deadline,
# the retry budget), far above any machine's cancel latency
STUCK_S = 30.0


def cancel_and_time(env, jid, p, how):
    """Cancel the running job by `how` ("sigint" or "jobs-cancel"); seconds until p exits."""
    t0 = time.monotonic()
    if how == "sigint":
        os.killpg(p.pid, signal.SIGINT)
    else:
        subprocess.Popen([env.bin, "jobs", "cancel", jid, "--store", env.store, "-q"],
                         env=dict(os.environ, **env.env), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        kill(p)
        pytest.fail(f"the runner did not stop within {WAIT_S} s of the cancel ({how})",
                    pytrace=False)
    return time.monotonic() - t0


def assert_cancelled_then_resume_exact(env, px, jid, coll, n, took, p, what):
    j = job_json(env, jid)
    assert j["status"] == "CANCELLED", (j["status"], log_tail(p.log_path))
    print(f"{what}: the runner ended {took:.2f} s after the cancel")
    assert took < STUCK_S, f"{what}: the job ended only {took:.2f} s after the cancel"
    r = vm(env, "jobs", "resume", jid, "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    assert job_json(env, jid)["status"] == "SUCCESSFUL"
    assert_exact(env, px, coll, n, upserts=False)


@pytest.mark.parametrize("how", ["sigint", "jobs-cancel"])
def test_cancel_during_a_write_the_target_never_answers(env, how):
    n = 20_000
    coll = fresh(env, "paging_100k", n=n, name="cancel_hung_" + how.replace("-", "_"))
    with HoldingLedgerProxy(f"127.0.0.1:{env.m.port}") as px, SourceGate(env.q.url) as gate:
        jid = create_job(env, [coll], q=gate, target=px.url)
        p = start_run(env, jid, f"hung-{how}.log")
        wait_for(env, jid, p, "2 pages written", lambda j: j["written"] >= 2 * PAGE)
        # the next writes reach a server that never answers (held before Milvus sees them)
        px.hold(before=["Insert", "Upsert"])
        wait_for(env, jid, p, "a write held", lambda j: px.waiting("Insert", "Upsert"))
        took = cancel_and_time(env, jid, p, how)
        px.release_after_kill()
        gate.set_mode("open")
        assert_cancelled_then_resume_exact(env, px, jid, coll, n, took, p, "hung write")


def test_sigint_during_a_target_outage(env):
    n = 20_000
    coll = fresh(env, "paging_100k", n=n, name="cancel_outage")
    with HoldingLedgerProxy(f"127.0.0.1:{env.m.port}") as px, SourceGate(env.q.url) as gate:
        jid = create_job(env, [coll], q=gate, target=px.url)
        p = start_run(env, jid, "outage.log")
        try:
            wait_for(env, jid, p, "2 pages written", lambda j: j["written"] >= 2 * PAGE)
            env.m.stop()
            # the runner is in its retry back-off once it logged a retry of the target
            wait_for(env, jid, p, "a retry of the target logged",
                     lambda j: "retry" in vm(env, "jobs", "logs", jid).stdout)
            took = cancel_and_time(env, jid, p, "sigint")
        finally:
            if p.poll() is None:
                kill(p)
            if not env.m.running:
                env.m.start()
            wait_milvus_healthy(env)
        gate.set_mode("open")
        assert_cancelled_then_resume_exact(env, px, jid, coll, n, took, p, "outage")


@pytest.mark.parametrize("how", ["sigint", "jobs-cancel"])
@pytest.mark.parametrize("wait", ["load", "index"])
def test_cancel_during_a_wait_on_the_server(env, wait, how):
    """The load after the copy, or the index build with --wait-index, never ends."""
    n = 5_000
    coll = fresh(env, "paging_100k", n=n, name=f"cancel_{wait}_" + how.replace("-", "_"))
    rpc = {"load": "GetLoadState", "index": "DescribeIndex"}[wait]
    with HoldingLedgerProxy(f"127.0.0.1:{env.m.port}") as px:
        px.hold(before=[rpc])
        jid = create_job(env, [coll], target=px.url,
                         extra=["--wait-index"] if wait == "index" else [])
        p = start_run(env, jid, f"{wait}-{how}.log")
        wait_for(env, jid, p, f"the {wait} wait", lambda j: px.waiting(rpc))
        took = cancel_and_time(env, jid, p, how)
        px.release_after_kill()
        if wait == "index":
            # the data was in and loaded before the index wait: searchable while it builds
            assert job_json(env, jid)["collections"][0]["state"]["copied"]
            assert "Loaded" in str(env.mc.get_load_state(coll)["state"])
        assert_cancelled_then_resume_exact(env, px, jid, coll, n, took, p, f"{wait} wait")
