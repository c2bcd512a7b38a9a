"""Installable like a real tool (issue 11): `cmake --install BUILD --prefix P` puts the binary
in P/bin, the web console in P/share/vmigrate/web and the man page vmigrate(1) in
P/share/man/man1; the installed binary prints its version and commit, `vmigrate serve` from it
serves the console's index.html without --web-root (found next to the executable, not in the
source tree), and a migration from the installed copy lands in Milvus (checked with pymilvus
against qdrant-client).

The build installed is the one the tests run (VMIG_BUILD_DIR, default build/dev): configuring a
release build here would only repeat the compile.
"""

import os
import re
import subprocess

import pytest
import requests

from tests.datagen import datagen
from tests.integration.checks import REPO, compare, run_vmigrate
from tests.integration.test_http_api import Serve

N = 500


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    build = os.environ.get("VMIG_BUILD_DIR") or os.path.join(REPO, "build", "dev")
    p = str(tmp_path_factory.mktemp("prefix") / "usr")
    r = subprocess.run(["cmake", "--install", build, "--prefix", p], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return p


def test_files_are_installed(prefix):
    assert os.access(os.path.join(prefix, "bin", "vmigrate"), os.X_OK)
    for f in os.listdir(os.path.join(REPO, "web")):
        assert os.path.isfile(os.path.join(prefix, "share", "vmigrate", "web", f)), f
    page = os.path.join(prefix, "share", "man", "man1", "vmigrate.1")
    assert open(page).read().startswith(".\\\""), page
    # man-db is installed by scripts/setup: the page must render
    r = subprocess.run(["man", "-l", page], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
    assert r.returncode == 0, r.stderr
    assert "vmigrate - migrate Qdrant collections into Milvus" in r.stdout, r.stdout[:2000]
    assert "EXIT STATUS" in r.stdout


def test_version_names_the_commit(prefix):
    p = run_vmigrate(os.path.join(prefix, "bin", "vmigrate"), "--version", check=True)
    m = re.fullmatch(r"vmigrate (\d+\.\d+\.\d+) \(commit ([0-9a-f]{7,40})(-dirty)?\)\n", p.stdout)
    assert m, p.stdout
    if os.path.exists(os.path.join(REPO, ".git")):
        # a commit of this checkout (the build may predate the newest one)
        r = subprocess.run(["git", "-C", REPO, "cat-file", "-e", m.group(2) + "^{commit}"])
        assert r.returncode == 0, f"{m.group(2)} is no commit of {REPO}"


def test_installed_serve_finds_its_console(prefix, tmp_path):
    binary = os.path.join(prefix, "bin", "vmigrate")
    srv = Serve(binary, str(tmp_path), "-v")  # -v: it says where the console is from
    try:
        web = os.path.realpath(os.path.join(prefix, "share", "vmigrate", "web"))
        assert f"web console from {web}" in srv.stderr(), srv.stderr()
        r = requests.get(srv.url + "/", timeout=60)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        assert r.text == open(os.path.join(web, "index.html")).read()
    finally:
        srv.stop()


def test_installed_copy_migrates(prefix, qdrant, milvus, qdrant_client, milvus_client, tmp_path):
    coll = datagen.generate(qdrant_client, "paging_100k", n=N, name="installed_copy")
    if milvus_client.has_collection(coll):
        milvus_client.drop_collection(coll)
    p = run_vmigrate(os.path.join(prefix, "bin", "vmigrate"), "migrate", "--source", qdrant.url,
                     "--target", milvus.url, "-c", coll, "--store", str(tmp_path / "vm.db"))
    assert p.returncode == 0, p.stderr[-3000:]
    assert compare(qdrant_client, milvus_client, coll, coll,
                   {"": ("vector", "dense")}) == N
