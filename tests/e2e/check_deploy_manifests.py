#!/usr/bin/env python3
"""Checks deploy/ against itself, the installer contract, the source tree and docs/deploy.md.

Usage: check_deploy_manifests.py SOURCE_ROOT
Prints one PASS/FAIL line per check and "N passed, M failed"; exits 1 when anything failed.

What must agree:
- every YAML file under deploy/ parses and each document names apiVersion and kind;
- the Containerfile is FROM scratch, copies topocni, topoctl and the templates, and its ENTRYPOINT is the copied
  topocni with "install"; deploy/build-image.sh stages exactly the files the Containerfile copies;
- each kustomization's resources exist and its images entry renames the image the DaemonSets use;
- the installer DaemonSet is privileged, leaves the entry point alone (or repeats it), passes --cni-bin-dir with
  the mount path of the hostPath /opt/cni/bin, mounts the hostPaths /opt/cni/bin, /etc/cni/net.d and
  /run/topocni, the last at the plugin's state dir (Journal::kDefaultDir in the source), and ends with --sleep;
- the uninstall DaemonSet runs the same binary with "uninstall", the same CNI bin dir mapping and names;
- each NetworkAttachmentDefinition's config is a conflist whose topocni entry's type is a name the installer
  installs and a built-in template (specs/NAME.yaml), with that template's required parameters, chained after a
  macvlan with host-local IPAM whose master is the entry's hostInterface;
- docs/deploy.md shows the installer's command line and every host and pod path the manifests use.
"""
import glob
import json
import os
import re
import shlex
import sys

import yaml

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
passed = failed = 0


def record(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("PASS  " + what)
    else:
        failed += 1
        print("FAIL  " + what)
    return ok


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


def load_all(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---- every manifest parses
docs = {}
for path in sorted(glob.glob(os.path.join(ROOT, "deploy", "**", "*.yaml"), recursive=True)):
    rel = os.path.relpath(path, ROOT)
    try:
        docs[rel] = load_all(rel)
        ok = bool(docs[rel]) and all(isinstance(d, dict) and d.get("apiVersion") and d.get("kind") for d in docs[rel])
        record(ok, "%s parses; every document has apiVersion and kind" % rel)
    except yaml.YAMLError as e:
        record(False, "%s does not parse: %s" % (rel, e))
record(len(docs) >= 6, "deploy/ holds the kustomize base, the uninstall and two NADs (%d YAML files)" % len(docs))


def find(kind, name=None):
    for rel, ds in docs.items():
        for d in ds:
            if d.get("kind") == kind and (name is None or d.get("metadata", {}).get("name") == name):
                return rel, d
    return None, None


# ---- Containerfile
containerfile = read("deploy/Containerfile")
lines = [l.strip() for l in re.sub(r"\\\n", " ", containerfile).splitlines() if l.strip() and not l.strip().startswith("#")]
froms = [l.split()[1] for l in lines if l.upper().startswith("FROM ")]
record(froms == ["scratch"], "Containerfile is FROM scratch alone (%s)" % froms)
copied = {}  # path in the image -> source in the build context
for l in lines:
    if l.upper().startswith("COPY "):
        parts = shlex.split(l)[1:]
        parts = [p for p in parts if not p.startswith("--")]
        *srcs, dest = parts
        for s in srcs:
            copied[dest + os.path.basename(s.rstrip("/")) if dest.endswith("/") and not s.endswith("/") else dest] = s
entry = [json.loads(l[len("ENTRYPOINT"):]) for l in lines if l.upper().startswith("ENTRYPOINT")]
entry = entry[-1] if entry else []
record(len(entry) == 2 and entry[1] == "install", "ENTRYPOINT is [<topocni>, \"install\"] (%s)" % entry)
binary = entry[0] if entry else ""
record(copied.get(binary) == "topocni", "the entry point %s is the copied topocni" % binary)
topoctl_path = next((p for p, s in copied.items() if s == "topoctl"), None)
record(topoctl_path is not None, "the image holds topoctl (%s)" % topoctl_path)
templates_dir = next((p for p, s in copied.items() if s.rstrip("/") == "templates"), None)
record(templates_dir == "/usr/share/topocni/templates/", "the built-in templates go to /usr/share/topocni/templates/ (%s)" % templates_dir)
build = read("deploy/build-image.sh")
for src in sorted(set(copied.values())):
    record('"$CONTEXT/%s"' % src.rstrip("/") in build, "build-image.sh stages %s for the Containerfile" % src)
record(os.access(os.path.join(ROOT, "deploy/build-image.sh"), os.X_OK), "build-image.sh is executable")

# ---- the plugin's state dir, from the source
m = re.search(r'kDefaultDir\s*=\s*"([^"]+)"', read("engine/include/topo/journal.h"))
state_dir = m.group(1) if m else None
record(state_dir is not None, "the plugin's default state dir is %s (engine/include/topo/journal.h)" % state_dir)


def option(args, name):
    """Value of --name VALUE or --name=VALUE in an argument list."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def mounts_by_host_path(pod_spec, container):
    volumes = {v["name"]: v.get("hostPath", {}).get("path") for v in pod_spec.get("volumes", [])}
    return {volumes.get(m["name"]): m["mountPath"] for m in container.get("volumeMounts", []) if volumes.get(m["name"])}


# ---- installer DaemonSet
rel, ds = find("DaemonSet", "topocni")
installer_args, installer_names, bin_mount = [], None, None
if record(ds is not None, "a DaemonSet named topocni exists (%s)" % rel):
    spec = ds["spec"]["template"]["spec"]
    c = spec["containers"][0]
    record(c.get("securityContext", {}).get("privileged") is True, "the installer container is privileged")
    record(c.get("command") in (None, entry), "the installer keeps the image's entry point (command %s)" % c.get("command"))
    installer_args = [str(a) for a in c.get("args", [])]
    host = mounts_by_host_path(spec, c)
    for path in ("/opt/cni/bin", "/etc/cni/net.d", "/run/topocni"):
        record(path in host, "hostPath %s is mounted (at %s)" % (path, host.get(path)))
    bin_mount = host.get("/opt/cni/bin")
    record(option(installer_args, "--cni-bin-dir") == bin_mount and bin_mount is not None,
           "--cni-bin-dir %s is where /opt/cni/bin is mounted" % option(installer_args, "--cni-bin-dir"))
    record(host.get("/run/topocni") == state_dir, "the node's /run/topocni is mounted at the plugin's state dir")
    installer_names = option(installer_args, "--names")
    names = (installer_names or "").split(",")
    record("veth-to-host" in names, "--names includes veth-to-host (%s)" % installer_names)
    record(installer_args[-1:] == ["--sleep"], "the installer ends with --sleep (a scratch image has no sleep)")
    record(c.get("image") == "topocni", "the container's image is 'topocni', renamed by kustomize's images")

# ---- uninstall DaemonSet
rel, ds = find("DaemonSet", "topocni-uninstall")
if record(ds is not None, "a DaemonSet named topocni-uninstall exists (%s)" % rel):
    spec = ds["spec"]["template"]["spec"]
    c = (spec.get("initContainers") or [{}])[0]
    cmd = [str(a) for a in c.get("command", [])]
    args = [str(a) for a in c.get("args", [])]
    record(cmd == [binary, "uninstall"], "the uninstall init container runs %s uninstall (%s)" % (binary, cmd))
    host = mounts_by_host_path(spec, c)
    record(option(args, "--cni-bin-dir") == host.get("/opt/cni/bin") == bin_mount,
           "uninstall's --cni-bin-dir is the installer's mount of /opt/cni/bin")
    record(option(args, "--names") == installer_names, "uninstall removes the names the installer installs")

# ---- kustomizations
for rel in [r for r in docs if os.path.basename(r) == "kustomization.yaml"]:
    k = docs[rel][0]
    base = os.path.dirname(os.path.join(ROOT, rel))
    record(all(os.path.exists(os.path.join(base, r)) for r in k.get("resources", [])),
           "%s: every resource exists (%s)" % (rel, k.get("resources")))
    images = [i.get("name") for i in k.get("images", [])]
    record("topocni" in images, "%s renames the image 'topocni'" % rel)

# ---- NetworkAttachmentDefinitions
installed = set((installer_names or "").split(","))
nads = [(rel, d) for rel, ds in docs.items() for d in ds if d.get("kind") == "NetworkAttachmentDefinition"]
record(len(nads) >= 2, "two NetworkAttachmentDefinition examples (%d)" % len(nads))
for rel, nad in nads:
    try:
        conf = json.loads(nad["spec"]["config"])
    except (KeyError, ValueError) as e:
        record(False, "%s: spec.config is not JSON: %s" % (rel, e))
        continue
    plugins = conf.get("plugins", [])
    topo = plugins[-1] if plugins else {}
    name = topo.get("template") or topo.get("type")
    record(topo.get("type") in installed or topo.get("type") == "topocni",
           "%s: the last plugin's type '%s' is installed on the nodes" % (rel, topo.get("type")))
    spec_path = os.path.join(ROOT, "specs", "%s.yaml" % name)
    if record(os.path.exists(spec_path), "%s: template '%s' is built in (specs/%s.yaml)" % (rel, name, name)):
        params = yaml.safe_load(open(spec_path)).get("parameters", {})
        required = sorted(k for k, v in params.items() if isinstance(v, dict) and v.get("required"))
        unknown = sorted(k for k in topo if k not in params and k not in ("type", "name", "template", "cniVersion"))
        record(all(k in topo for k in required), "%s: sets the template's required parameters %s" % (rel, required))
        record(not unknown, "%s: no key the template does not know (%s)" % (rel, unknown))
    first = plugins[0] if plugins else {}
    record(first.get("type") == "macvlan" and first.get("ipam", {}).get("type") == "host-local",
           "%s: chained after macvlan with host-local IPAM" % rel)
    record(first.get("master") == topo.get("hostInterface"), "%s: hostInterface is the macvlan's master" % rel)
    record(bool(conf.get("cniVersion")) and bool(conf.get("name")), "%s: the conflist has cniVersion and name" % rel)

# ---- docs/deploy.md
doc = read("docs/deploy.md")
cmdline = " ".join([binary, "install"] + installer_args)
record(cmdline in doc, "docs/deploy.md shows the installer's command line: %s" % cmdline)
for path in ("/opt/cni/bin", "/etc/cni/net.d", "/run/topocni", bin_mount or "?", "/host/etc/cni/net.d",
             topoctl_path or "?", templates_dir or "?"):
    record(path in doc, "docs/deploy.md names %s" % path)
for rel in list(docs) + ["deploy/Containerfile", "deploy/build-image.sh"]:
    if "/kustomize/" in rel and not rel.endswith("kustomization.yaml"):
        continue
    shown = rel if not rel.endswith("kustomization.yaml") else os.path.dirname(rel)
    record(shown in doc, "docs/deploy.md refers to %s" % shown)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
