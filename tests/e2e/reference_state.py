#!/usr/bin/env python3
"""Kernel state and CNI results, normalised for comparing a reference CNI plugin with topocni's template.

Used by tests/e2e/test_reference_plugins.sh:
  reference_state.py dump            (run inside a namespace) its links, addresses, routes of all tables, rules,
                                     permanent neighbours and the forwarding/ARP/IPv6 sysctls, as sorted lines
  reference_state.py result FILE     a CNI result (or error), normalised, as sorted lines
  reference_state.py diff A B        the lines only in A ("-") or only in B ("+"); exit 1 when there are any

Only what is random from run to run is normalised away: MACs (except those in $REFERENCE_KNOWN_MACS, which a
config sets), generated veth names (veth + 8 hex digits, the
Go plugins' random names and the templates' hashed ones have that shape), ifindexes, route/rule protocol
marks, IPv6 link-local addresses (derived from the random MAC), the sandbox path (each side has its own
namespaces), and topocni's ownership alias. An empty list or object in a CNI result equals an absent key
(the CNI spec treats them alike).
"""
import glob
import json
import os
import re
import subprocess
import sys

VETH = re.compile(r"^veth[0-9a-f]{8}$")
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# MACs a config sets (tuning's `mac`): not random, so compared as they are (the harness lists them).
KNOWN_MACS = {m.lower() for m in os.environ.get("REFERENCE_KNOWN_MACS", "").split(",") if m}


def mac(m):
    return m.lower() if m and m.lower() in KNOWN_MACS else "random"


def ifname(name):
    return "VETH" if name and VETH.match(name) else name


def addr(a):
    a = str(a)
    return "fe80::LL" if a.lower().startswith("fe80:") and a.lower() != "fe80::" else a


def ipj(*args):
    out = subprocess.run(["ip", "-j", "-d", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")


def links():
    for l in ipj("link", "show"):
        if l["ifname"] == "lo":
            continue
        info = l.get("linkinfo", {})
        slave = info.get("info_slave_data", {})
        data = info.get("info_data", {})
        flags = ",".join(sorted(l.get("flags", [])))
        parts = [f"link {ifname(l['ifname'])}", f"kind={info.get('info_kind', '-')}", f"mtu={l.get('mtu')}",
                 f"flags={flags}", f"master={ifname(l.get('master', '-'))}", f"promisc={l.get('promiscuity', 0)}"]
        if "hairpin" in slave:
            parts.append(f"hairpin={slave['hairpin']}")
        if info.get("info_kind") == "macvlan":
            parts.append(f"mode={data.get('mode')}")
        yield " ".join(parts)
        # On a line of its own, so that a known qlen difference cannot hide another one of the same link.
        yield f"link {ifname(l['ifname'])} qlen={l.get('txqlen', '-')}"
        yield f"link {ifname(l['ifname'])} mac={mac(l.get('address'))}"


def addresses():
    for l in ipj("addr", "show"):
        for a in l.get("addr_info", []):
            local = addr(a.get("local"))
            if local == "fe80::LL" or l["ifname"] == "lo":
                continue
            yield f"addr {ifname(l['ifname'])} {local}/{a.get('prefixlen')} scope={a.get('scope')}"
            yield f"addr {ifname(l['ifname'])} {local} brd={a.get('broadcast', '-')}"  # alone, as qlen


def routes():
    for fam in ("-4", "-6"):
        for r in ipj(fam, "route", "show", "table", "all"):
            dst = addr(r.get("dst"))
            if dst in ("fe80::LL", "ff00::/8") or dst.startswith("fe80::/") or r.get("dev") == "lo":
                continue
            yield (f"route {fam[1]} table={r.get('table', 'main')} type={r.get('type', 'unicast')} {dst} "
                   f"via={r.get('gateway', '-')} dev={ifname(r.get('dev', '-'))} scope={r.get('scope', '-')} "
                   f"src={r.get('prefsrc', '-')} metric={r.get('metric', 0)} flags={','.join(r.get('flags', []))}")


def rules():
    for fam in ("-4", "-6"):
        for r in ipj(fam, "rule", "show"):
            r.pop("protocol", None)
            for k in ("iif", "oif"):
                if k in r:
                    r[k] = ifname(r[k])
            yield f"rule {fam[1]} " + json.dumps(r, sort_keys=True)


def neighbours():
    # Only the entries a plugin makes: learnt ones (REACHABLE, STALE...) depend on traffic timing.
    for n in ipj("neigh", "show"):
        state = n.get("state", [])
        if "PERMANENT" in state or "NOARP" in state:
            yield f"neigh {ifname(n.get('dev'))} {n.get('dst')} {','.join(state)}"


def sysctls():
    names = ["net/ipv4/ip_forward", "net/core/somaxconn"]
    for conf in sorted(glob.glob("/proc/sys/net/ipv4/conf/*")):
        dev = os.path.basename(conf)
        if dev == "lo":
            continue
        for k in ("forwarding", "arp_notify", "proxy_arp", "rp_filter", "route_localnet", "arp_ignore", "arp_filter"):
            names.append(f"net/ipv4/conf/{dev}/{k}")
        for k in ("forwarding", "accept_dad", "disable_ipv6", "accept_ra"):
            names.append(f"net/ipv6/conf/{dev}/{k}")
    for n in names:
        try:
            with open("/proc/sys/" + n) as f:
                v = f.read().strip()
        except OSError:
            continue
        parts = n.split("/")
        if len(parts) > 3:
            parts[3] = ifname(parts[3])
        yield "sysctl " + ".".join(parts) + "=" + v


def dump():
    lines = [*links(), *addresses(), *routes(), *rules(), *neighbours(), *sysctls()]
    print("\n".join(sorted(lines)))


def norm_result(v, key=None):
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            x = norm_result(x, k)
            if x in ([], {}, None):
                continue
            out[k] = x
        return out
    if isinstance(v, list):
        return [norm_result(x) for x in v]
    if isinstance(v, str):
        if key == "mac" and MAC.match(v.lower()):
            return v.lower() if v.lower() in KNOWN_MACS else "MAC"
        if key == "sandbox":
            return "SANDBOX"
        if key == "name":
            return ifname(v)
    return v


def result(path):
    text = open(path).read().strip()
    try:
        r = json.loads(text) if text else {}
    except ValueError:
        print("result: not JSON: " + text[:200])
        return
    if "code" in r:  # an error: its code is compared; the messages differ by design (topocni names the key)
        print(f"result error code={r['code']}")
        return
    r = norm_result(r)

    def walk(prefix, v):
        if isinstance(v, dict):
            for k in sorted(v):
                yield from walk(f"{prefix}.{k}", v[k])
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from walk(f"{prefix}[{i}]", x)
        else:
            yield f"{prefix}={json.dumps(v)}"
    print("\n".join(walk("result", r)))


def diff(a, b):
    la = set(open(a).read().splitlines())
    lb = set(open(b).read().splitlines())
    out = [f"- {x}" for x in sorted(la - lb)] + [f"+ {x}" for x in sorted(lb - la)]
    print("\n".join(out))
    return 1 if out else 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "dump":
        dump()
    elif cmd == "result":
        result(sys.argv[2])
    elif cmd == "diff":
        sys.exit(diff(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(f"unknown command {cmd}")
