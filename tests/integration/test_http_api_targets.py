"""The HTTP API knows what the target can hold before anything is created: `POST
/target/check` names the product and release, and `POST /plan` against the real Milvus 2.3.5
server refuses a three-vector and a sparse collection with the version and the way out (and a
job of only refused collections is a 422), while Milvus Lite plans them. Runs on both targets.
"""

import pytest

from tests.datagen import datagen
from tests.integration.test_http_api import Serve, call


@pytest.fixture(scope="module")
def env(qdrant, milvus, qdrant_client, milvus_client, vmigrate_bin, tmp_path_factory):
    class Env:
        pass
    e = Env()
    e.m, e.qc, e.mc = milvus, qdrant_client, milvus_client
    e.real = milvus.target == "milvus23"
    e.srv = Serve(vmigrate_bin, str(tmp_path_factory.mktemp("http_targets")))
    e.api = lambda method, path, **kw: call(e.srv.url, method, "/api/v1" + path, **kw)
    e.src, e.dst = {"url": qdrant.url}, {"url": milvus.url}
    yield e
    e.srv.stop()


def test_target_check_names_the_server(env):
    r = env.api("POST", "/target/check", json={"target": env.dst})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["known"] is True
    if env.real:
        assert j["product"] == "Milvus" and j["release"] == "2.3.5", j
    else:
        assert j["product"] == "Milvus Lite", j


def test_plan_refuses_what_the_target_cannot_hold(env):
    multi = datagen.generate(env.qc, "named_mixed", name="http_caps_multi")
    sparse = datagen.generate(env.qc, "sparse_only", name="http_caps_sparse")
    r = env.api("POST", "/plan", json={"source": env.src, "target": env.dst,
                                       "collections": [multi, sparse]})
    assert r.status_code == 200, r.text
    plan = r.json()
    colls = {c["source"]: c for c in plan["collections"]}
    assert plan["target_server"]["known"] is True
    if not env.real:
        assert colls[multi]["error"] is None and colls[sparse]["error"] is None
        return
    for name, needle in ((multi, "holds one vector field per collection"),
                         (sparse, "has no sparse vectors")):
        err = colls[name]["error"]
        assert err["code"] == "schema", err
        assert needle in err["message"] and "Milvus 2.3.5" in err["message"], err
        assert "2.4.0 or newer" in err["message"], err
    r = env.api("POST", "/jobs", json={"source": env.src, "target": env.dst, "plan": plan})
    assert r.status_code == 422 and r.json()["error"]["code"] == "schema", r.text
    assert not env.mc.has_collection(multi) and not env.mc.has_collection(sparse)
