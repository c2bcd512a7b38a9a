"""The web console's browser tests, run by `make test`: `node --test tests/browser/` drives
Debian's chromium through playwright-core (npm) against the mock API (fast UI tests) and against
the real stack (tests/browser/stack.py: Milvus Lite, the Qdrant test server, `vmigrate serve`),
checking the migrated data with pymilvus. scripts/setup installs node, chromium and
playwright-core, so a missing piece is a failure, not a skip. Screenshots of every step land in
build/reports/console/.
"""

import os
import shutil
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT_S = 1500


def _require():
    problems = []
    if not shutil.which("node"):
        problems.append("node is not on PATH")
    if not os.path.isfile(os.path.join(REPO, "node_modules", "playwright-core", "package.json")):
        problems.append("node_modules/playwright-core is missing (run `npm install` in the repo)")
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} is missing (apt-get install chromium)")
    if problems:
        pytest.fail("console browser tests cannot run: " + "; ".join(problems)
                    + " - scripts/setup installs all of them", pytrace=False)


def test_console_in_chromium(vmigrate_bin):
    _require()
    shots = os.path.join(REPO, "build", "reports", "console")
    shutil.rmtree(shots, ignore_errors=True)
    os.makedirs(shots, exist_ok=True)
    env = dict(os.environ, VMIGRATE_BIN=vmigrate_bin, VMIG_SCREENSHOTS=shots, CHROMIUM=CHROMIUM)
    try:
        p = subprocess.run(["node", "--test", "--test-concurrency=1", "tests/browser/"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"")
        out = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
        pytest.fail(f"node --test tests/browser/ did not finish in {TIMEOUT_S} s\n{out[-6000:]}",
                    pytrace=False)
    if p.returncode != 0:
        pytest.fail(f"node --test tests/browser/ exited {p.returncode}\n"
                    f"--- stdout (tail):\n{p.stdout[-8000:]}\n--- stderr (tail):\n{p.stderr[-4000:]}",
                    pytrace=False)
    assert "# fail 0" in p.stdout, p.stdout[-4000:]
