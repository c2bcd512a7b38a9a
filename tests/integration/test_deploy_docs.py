"""Keeps deploy/ and docs/user/scale-out.md honest against the binary: every Kubernetes
manifest parses (PyYAML) and has the fields a deployment relies on (the worker's command and
flags, the secrets wired in from Secrets, probes on the ports that serve them), the Secret
templates hold placeholders only, the systemd units' ExecStart run real subcommands, the
Dockerfile builds with `make release` + `make install` and runs as non-root, and every
`vmigrate ...` command written in the docs and deploy files uses only flags that its
subcommand's `--help` lists (build/dev/vmigrate, or $VMIGRATE_BIN). No server is started."""

import functools
import os
import re
import shlex
import subprocess

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(REPO, "deploy")
K8S = os.path.join(DEPLOY, "kubernetes")
SYSTEMD = os.path.join(DEPLOY, "systemd")
SCALE_OUT = os.path.join(REPO, "docs", "user", "scale-out.md")

# Flags the docs use that come from branches not merged yet (issue 14): `bulk` (write modes)
# and `metrics` (worker --metrics-listen). Empty this after merging them: the test fails for
# any entry the binary's --help already lists, so the list cannot go stale.
PENDING_FLAGS = {}  # flags of branches not yet merged: none (every flag is in the binary)

JOBS_SUBS = {"list", "show", "logs", "cancel", "resume", "retry", "restart"}
PLACEHOLDER = "REPLACE_ME"


# ---- helpers ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def help_text(binary, sub):
    """`vmigrate SUB --help` (sub like "migrate" or "jobs show"); fails the test on exit != 0."""
    r = subprocess.run([binary, *sub.split(), "--help"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, f"`vmigrate {sub} --help` exited {r.returncode}: {r.stderr}"
    return r.stdout + r.stderr


@functools.lru_cache(maxsize=None)
def commands(binary):
    """The commands `vmigrate --help` lists."""
    r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    text = r.stdout + r.stderr
    block = text.split("commands:", 1)[1].split("\n\n", 1)[0]
    return frozenset(re.findall(r"^\s+([a-z]+)\s", block, re.M))


def help_flags(binary, sub):
    text = help_text(binary, sub)
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))
    flags |= set(re.findall(r"^\s+(-[a-zA-Z]),", text, re.M))
    return flags


def subcommand(argv):
    """(sub, rest) of a vmigrate argv without the program name: "jobs show" and the like."""
    if not argv:
        return None, []
    if argv[0] == "jobs":
        if len(argv) > 1 and argv[1] in JOBS_SUBS:
            return "jobs " + argv[1], argv[2:]
        return "jobs", argv[1:]
    if argv[0] == "help":
        return None, []
    return argv[0], argv[1:]


def flags_of(args):
    out = []
    for a in args:
        if a.startswith("--") and len(a) > 2:
            out.append(a.split("=", 1)[0])
        elif re.fullmatch(r"-[a-zA-Z]", a):
            out.append(a)
    return out


def check_command(binary, argv, where):
    """Each flag of one vmigrate command appears in its subcommand's --help (or in
    PENDING_FLAGS); returns the problems found."""
    sub, rest = subcommand(argv)
    if sub is None:
        return []
    known = help_flags(binary, sub)
    problems = []
    for f in flags_of(rest):
        if f in known or f in {"-h", "--help"}:
            continue
        if f in PENDING_FLAGS.get(sub.split()[0], set()):
            continue
        problems.append(f"{where}: `vmigrate {sub}` has no option {f} "
                        f"(in: vmigrate {' '.join(argv)})")
    return problems


def split_shell(line):
    """shlex words of a shell line, up to a comment; None when it does not parse
    (prose, placeholders)."""
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return None


def vmigrate_commands(text):
    """Every `vmigrate ...` command in a Markdown (or plain text) file: in fenced blocks
    (joined over trailing backslashes, split on ; && |) and in inline code spans."""
    cmds = []
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    for b in blocks:
        joined = re.sub(r"\\\n\s*", " ", b)
        for line in joined.splitlines():
            cmds += commands_in_line(line)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    for span in re.findall(r"``(.+?)``|`([^`\n]+)`", prose):
        code = span[0] or span[1]
        if re.match(r"\s*vmigrate\s+[a-z]", code):
            cmds += commands_in_line(code)
    return cmds


def commands_in_line(line, known=None):
    """The vmigrate commands of one shell line; with known (the binary's commands), only
    those whose command is one of them (comments in manifests are partly prose)."""
    line = line.strip()
    if line.startswith("$ "):
        line = line[2:]
    out = []
    for part in re.split(r"\s*(?:;|&&|\|\|?)\s*", line):
        words = split_shell(part)
        if not words:
            continue
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):  # VAR=x vmigrate ...
            words = words[1:]
        # a command, not a line of output (`vmigrate worker: ...`, `vmigrate: ...`)
        if (words and os.path.basename(words[0]) == "vmigrate" and len(words) > 1
                and re.fullmatch(r"[a-z]+", words[1])
                and (known is None or words[1] in known)):
            out.append(words[1:])
    return out


def load_yaml(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def k8s_docs():
    docs = []
    for name in sorted(os.listdir(K8S)):
        if name.endswith((".yaml", ".yml")):
            for d in load_yaml(os.path.join(K8S, name)):
                docs.append((name, d))
    return docs


def by_kind(kind):
    return [(n, d) for n, d in k8s_docs() if d.get("kind") == kind]


def deployment(component):
    found = [d for _, d in by_kind("Deployment")
             if d["metadata"]["labels"].get("app.kubernetes.io/component") == component]
    assert len(found) == 1, f"one Deployment of component {component}, found {len(found)}"
    return found[0]


def parse_unit(path):
    """A systemd unit as {section: {key: [values...]}} (keys repeat: Environment=)."""
    sections, cur = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
            if m:
                cur = sections.setdefault(m.group(1), {})
                continue
            assert cur is not None and "=" in line, f"{path}: not a unit line: {raw!r}"
            k, v = line.split("=", 1)
            cur.setdefault(k.strip(), []).append(v.strip())
    return sections


def units():
    return sorted(n for n in os.listdir(SYSTEMD) if n.endswith(".service"))


def env_file(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k] = v
    return out


def container_env(c):
    return {e["name"]: e for e in c.get("env", [])}


def mounts_path(pod, container, path):
    """The volume a file path of the container lies on, or None."""
    for m in container.get("volumeMounts", []):
        if path.startswith(m["mountPath"].rstrip("/") + "/"):
            return next(v for v in pod["volumes"] if v["name"] == m["name"])
    return None


# ---- Kubernetes ---------------------------------------------------------------------------

def test_every_manifest_parses_and_names_itself():
    docs = k8s_docs()
    assert docs, "no YAML in deploy/kubernetes"
    kinds = set()
    for name, d in docs:
        assert isinstance(d, dict) and d.get("apiVersion") and d.get("kind"), name
        kinds.add(d["kind"])
        if d["kind"] != "Kustomization":
            assert d["metadata"].get("name"), f"{name}: a {d['kind']} without a name"
    assert {"Deployment", "Service", "Secret", "Kustomization"} <= kinds, kinds


def test_kustomization_lists_existing_files_and_no_secret_template():
    (name, k), = by_kind("Kustomization")
    for r in k["resources"]:
        assert os.path.isfile(os.path.join(K8S, r)), f"{name}: {r} does not exist"
        assert all(d["kind"] != "Secret" for d in load_yaml(os.path.join(K8S, r))), \
            f"{name}: {r} holds a Secret (placeholders would be applied)"


def test_secrets_hold_placeholders_only():
    secrets = by_kind("Secret")
    names = {d["metadata"]["name"] for _, d in secrets}
    assert {"vmigrate-store", "vmigrate-secret-key"} <= names, names
    for name, d in secrets:
        values = {**(d.get("data") or {}), **(d.get("stringData") or {})}
        assert values, f"{name}: Secret {d['metadata']['name']} has no keys"
        for k, v in values.items():
            assert v == PLACEHOLDER, \
                f"{name}: Secret {d['metadata']['name']} key {k} holds {v!r}, not {PLACEHOLDER}"


def secret_keys():
    out = set()
    for _, d in by_kind("Secret"):
        for k in {**(d.get("data") or {}), **(d.get("stringData") or {})}:
            out.add((d["metadata"]["name"], k))
    return out


def check_pod_secrets(dep):
    """PGPASSWORD from a Secret key that the templates define; the key file on a volume
    only the container's user reads (copied 0600 by the init container from the Secret)."""
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = container_env(c)
    ref = env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) in secret_keys(), ref
    assert "value" not in env["PGPASSWORD"]
    key_path = env["VMIGRATE_SECRET_KEY_FILE"]["value"]
    vol = mounts_path(pod, c, key_path)
    assert vol is not None, f"VMIGRATE_SECRET_KEY_FILE {key_path} is on no volume"
    # vmigrate refuses a key file with any group/other bit; a Secret volume under fsGroup
    # is 0440, so the key must reach the container through the init container's copy
    init = [i for i in pod.get("initContainers", []) if key_path in i.get("command", [])]
    assert init, f"no init container writes {key_path}"
    cmd = init[0]["command"]
    assert cmd[:3] == ["install", "-m", "0600"], cmd
    src_vol = mounts_path(pod, init[0], cmd[3])
    assert src_vol and src_vol["secret"]["secretName"] == "vmigrate-secret-key", src_vol
    assert ("vmigrate-secret-key", os.path.basename(cmd[3])) in secret_keys()
    assert "emptyDir" in vol and vol["emptyDir"].get("medium") == "Memory", vol
    sc = pod["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0, sc
    # without fsGroup the Secret's files are root's, mode 0400: the init container (same
    # non-root user) could not read them
    assert sc["fsGroup"] == sc["runAsGroup"], sc


def args_of(dep):
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert "command" not in c, "the image's ENTRYPOINT is vmigrate: give args only"
    return [str(a) for a in c["args"]]


def opt(args, name):
    assert name in args, f"{name} missing from {args}"
    return args[args.index(name) + 1]


def test_worker_deployment(vmigrate_bin):
    dep = deployment("worker")
    spec = dep["spec"]
    assert spec["replicas"] >= 2
    pod = spec["template"]["spec"]
    args = args_of(dep)
    assert args[0] == "worker", args
    store = opt(args, "--store")
    assert store.startswith("postgres://"), store
    assert not re.match(r"postgres://[^/@]*:[^/@]*@", store), f"a password in {store}"
    assert int(opt(args, "--concurrency")) >= 1
    listen = opt(args, "--metrics-listen")
    port = int(listen.rsplit(":", 1)[1])
    assert check_command(vmigrate_bin, args, "worker.yaml") == []
    check_pod_secrets(dep)
    # SIGTERM gives tasks back: room for it, but not past a default lease of waiting
    assert 30 <= pod["terminationGracePeriodSeconds"] <= 300
    c = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["metrics"] == port
    ann = spec["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert int(ann["prometheus.io/port"]) == port and ann["prometheus.io/path"] == "/metrics"
    assert c["readinessProbe"]["httpGet"]["path"] == "/metrics"
    for probe in ("readinessProbe", "livenessProbe"):
        p = c[probe]
        target = (p.get("httpGet") or p.get("tcpSocket"))["port"]
        assert target in ("metrics", port), f"{probe} probes {target}"
    res = c["resources"]
    assert res["requests"]["memory"] == "256Mi", res
    assert "memory" in res["limits"]


def test_serve_deployment_and_service(vmigrate_bin):
    dep = deployment("serve")
    args = args_of(dep)
    assert args[0] == "serve", args
    assert opt(args, "--store") == opt(args_of(deployment("worker")), "--store")
    listen = opt(args, "--listen")
    port = int(listen.rsplit(":", 1)[1])
    assert check_command(vmigrate_bin, args, "serve.yaml") == []
    check_pod_secrets(dep)
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = container_env(c)
    assert "secretKeyRef" in env["VMIGRATE_API_TOKEN"]["valueFrom"]
    assert "--api-token" not in args, "the token belongs in VMIGRATE_API_TOKEN (ps shows flags)"
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["http"] == port
    # /api/ (health included) wants the token, which a probe cannot send
    assert not c["readinessProbe"]["httpGet"]["path"].startswith("/api/")
    (_, svc), = by_kind("Service")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
    assert svc["spec"]["ports"][0]["targetPort"] in ("http", port)


def test_images_match():
    images = set()
    for _, d in by_kind("Deployment"):
        pod = d["spec"]["template"]["spec"]
        images |= {c["image"] for c in pod["containers"] + pod.get("initContainers", [])}
    assert len(images) == 1, f"one image for every container, found {images}"


# ---- systemd ------------------------------------------------------------------------------

def exec_start(unit):
    (line,) = unit["Service"]["ExecStart"]
    words = shlex.split(line)
    assert os.path.basename(words[0]) == "vmigrate", line
    return words


def test_units_run_real_subcommands(vmigrate_bin):
    names = units()
    assert {"vmigrate-worker@.service", "vmigrate-serve.service"} <= set(names), names
    env_vars = env_file(os.path.join(SYSTEMD, "vmigrate.env.example"))
    for name in names:
        u = parse_unit(os.path.join(SYSTEMD, name))
        assert {"Unit", "Service", "Install"} <= set(u), f"{name}: sections {set(u)}"
        words = exec_start(u)
        assert check_command(vmigrate_bin, words[1:], name) == []
        # every ${VAR} it expands is set by the example settings file
        for var in re.findall(r"\$\{(\w+)\}", u["Service"]["ExecStart"][0]):
            assert var in env_vars, f"{name}: ${{{var}}} is not in vmigrate.env.example"
        svc = u["Service"]
        assert svc["User"] != ["root"] and svc.get("User"), f"{name}: runs as root"
        assert svc["KillSignal"] == ["SIGTERM"] and int(svc["TimeoutStopSec"][0]) >= 30
        assert svc["EnvironmentFile"], name
        envs = dict(e.split("=", 1) for e in svc.get("Environment", []))
        assert envs.get("VMIGRATE_SECRET_KEY_FILE", "").startswith("%d/"), \
            f"{name}: the key should come through LoadCredential (%d)"
        cred = svc["LoadCredential"][0].split(":", 1)[0]
        assert envs["VMIGRATE_SECRET_KEY_FILE"] == "%d/" + cred
    worker = exec_start(parse_unit(os.path.join(SYSTEMD, "vmigrate-worker@.service")))
    assert worker[1] == "worker" and "--store" in worker and "--concurrency" in worker
    wu = parse_unit(os.path.join(SYSTEMD, "vmigrate-worker@.service"))
    assert "%i" in wu["Service"]["EnvironmentFile"][0], "the instance names its settings file"


def test_env_example_holds_placeholders_only():
    env = env_file(os.path.join(SYSTEMD, "vmigrate.env.example"))
    for k in ("PGPASSWORD", "VMIGRATE_API_TOKEN"):
        assert env[k] == PLACEHOLDER, f"{k}={env[k]!r}"
    assert not re.match(r"postgres://[^/@]*:[^/@]*@", env["VMIGRATE_STORE"])


# ---- Dockerfile ---------------------------------------------------------------------------

def test_dockerfile_builds_with_make_and_runs_unprivileged():
    with open(os.path.join(DEPLOY, "Dockerfile")) as f:
        text = f.read()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms and all(re.match(r"debian:12(\b|-)", f) for f in froms), froms
    assert "make release" in text and "make install" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    assert re.search(r'^ENTRYPOINT \["/usr/local/bin/vmigrate"\]', text, re.M)
    # the runtime image has the libraries the build links (CMakeLists.txt pkg-config names)
    runtime = text.split("FROM ")[-1]
    for lib in ("libgrpc", "libprotobuf-c", "libcurl", "libjansson", "libsodium",
                "libmicrohttpd", "libsqlite3", "libpq"):
        assert lib in runtime, f"{lib} missing from the runtime stage"


# ---- commands in the docs ---------------------------------------------------------------

def doc_files():
    files = [SCALE_OUT, os.path.join(DEPLOY, "README.md")]
    for d in (K8S, SYSTEMD):
        files += [os.path.join(d, n) for n in sorted(os.listdir(d))]
    files.append(os.path.join(DEPLOY, "Dockerfile"))
    return files


def test_documented_commands_use_real_flags(vmigrate_bin):
    problems, seen = [], 0
    for path in doc_files():
        with open(path) as f:
            text = f.read()
        if path.endswith(".md"):
            cmds = vmigrate_commands(text)
        else:  # comments and shell lines of manifests, units, Dockerfile
            cmds = [c for line in text.splitlines()
                    for c in commands_in_line(re.sub(r"^\s*#\s?", "", line),
                                              commands(vmigrate_bin))]
        rel = os.path.relpath(path, REPO)
        for argv in cmds:
            seen += 1
            problems += check_command(vmigrate_bin, argv, rel)
    assert seen >= 20, f"only {seen} vmigrate commands found: is the extraction broken?"
    assert not problems, "\n".join(problems)


def test_subcommands_in_the_docs_exist(vmigrate_bin):
    with open(SCALE_OUT) as f:
        cmds = vmigrate_commands(f.read())
    subs = {subcommand(argv)[0] for argv in cmds} - {None}
    assert {"migrate", "worker", "jobs show", "jobs cancel", "jobs resume", "jobs retry"} <= subs
    for sub in subs:
        help_text(vmigrate_bin, sub)  # exits 0, else fails


def test_pending_flags_are_still_pending(vmigrate_bin):
    merged = [f"{sub}: {f}" for sub, flags in PENDING_FLAGS.items()
              for f in sorted(flags) if f in help_flags(vmigrate_bin, sub)]
    assert not merged, ("these flags are in the binary now; remove them from PENDING_FLAGS in "
                        "tests/integration/test_deploy_docs.py: " + ", ".join(merged))


def test_docs_link_scale_out():
    for rel in ("README.md", os.path.join("docs", "user", "jobs.md")):
        with open(os.path.join(REPO, rel)) as f:
            assert "scale-out.md" in f.read(), f"{rel} does not link docs/user/scale-out.md"
    with open(SCALE_OUT) as f:
        text = f.read()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        p = os.path.normpath(os.path.join(os.path.dirname(SCALE_OUT), target))
        assert os.path.exists(p), f"scale-out.md links {target}, which does not exist"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
