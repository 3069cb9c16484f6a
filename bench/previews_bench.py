"""The measuring half of bench/previews_bench.sh: commits and branches in the upstream work tree,
timed until the right port answers the new version, idle costs read from /proc, and the tables.

  previews_bench.py branches --repo R --route-port P --first I --count N --timed T [--idle-after K ...]
      creates feature/bI .. feature/b(I+N-1), each off main with its own version.txt; the first T
      are timed from `git branch` (the moment the branch exists at its commit) until GET /version
      with Host: feature-bJ.localhost on the routing port answers the new version. After the K-th
      branch, sleeps --settle-s and measures the idle cost of --pid (see idle) as label idle_k.
  previews_bench.py pushes --repo R --count N --target LABEL,BRANCH,PORT,HOST ...
      N rounds; each round commits a new version.txt to every target's branch in turn and times
      it from the commit's return until PORT answers it (with HOST as the Host header)
  previews_bench.py serve --port P --host H --text T --since-ms T0 --label L
      one sample: T0 (epoch ms, e.g. a launch) until PORT answers T
  previews_bench.py gone --repo R --branch B --route-port P --dir D --label L
      deletes branch B; the time until D (the preview's state directory) is gone and the routing
      port no longer answers for the preview
  previews_bench.py idle --pid PID --window-s S --services-under DIR [--not-under DIR] --label L
      PID's CPU over the window (utime+stime, and cutime+cstime: its reaped children such as its
      git fetches) as % of one core, its VmRSS at the end, and the RSS of the processes whose cwd
      or command line is under DIR
  previews_bench.py summary --results FILE --audit-dir DIR
      the tables and the RESULT line

Every sample is a line `SAMPLE label=L n=I ms=X commit=C ok=0|1` appended to --results.
"""

import argparse
import json
import os
import random
import re
import socket
import statistics
import struct
import subprocess
import sys
import time

GAP_S = float(os.environ.get("GAP_MS", "5")) / 1000  # between two GETs of a wait
TIMEOUT_S = float(os.environ.get("TIMEOUT_S", "60"))
PAUSE_MS = int(os.environ.get("PAUSE_MS", "300"))
JITTER_MS = int(os.environ.get("JITTER_MS", "1000"))


def now_ms():
    return time.time() * 1000


def get_version(port, host):
    """GET /version with this Host header on a fresh connection (closed with a reset); the body
    stripped, or None when refused, reset, timed out or not a 200."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
    except OSError:
        return None
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(f"GET /version HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if m and len(body) >= int(m.group(1)):
                    break
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"HTTP/1.") or head.split(b" ")[1] != b"200":
            return None
        return body.decode(errors="replace").strip()
    except OSError:
        return None
    finally:
        s.close()


def wait_for(port, host, text, since_ms, timeout_s=None):
    """ms from since_ms until port answers text, or None at the timeout."""
    deadline = time.time() + (timeout_s or TIMEOUT_S)
    while time.time() < deadline:
        if get_version(port, host) == text:
            return now_ms() - since_ms
        time.sleep(GAP_S)
    return None


def git(repo, *args, stdin=None):
    out = subprocess.run(["git", "-C", repo, *args], input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"git {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.strip()


def record(results, label, n, ms, commit):
    ok = ms is not None
    line = f"SAMPLE label={label} n={n} ms={ms if ok else 'nan'} commit={commit} ok={int(ok)}"
    with open(results, "a") as f:
        f.write(line + "\n")
    print(f"  {label} {n}: {'%.1f ms' % ms if ok else 'NOT SERVED within %ds' % TIMEOUT_S} ({commit[:12]})",
          file=sys.stderr, flush=True)
    return ok


def pause():
    # so that commits land at a random phase of the poll cycle (commit_to_serving does the same)
    time.sleep((PAUSE_MS + random.uniform(0, JITTER_MS)) / 1000)


def cmd_branches(a):
    failures = 0
    for j in range(a.first, a.first + a.count):
        branch = f"feature/b{j}"
        host = f"feature-b{j}.localhost"
        text = f"{branch}-v0-{int(time.time() * 1000)}"
        # The commit is made on a detached HEAD and the branch created at it in one step, so that
        # shipper never sees the branch at main's commit; then back to main.
        git(a.repo, "checkout", "-q", "--detach", "main")
        with open(os.path.join(a.repo, "version.txt"), "w") as f:
            f.write(text + "\n")
        git(a.repo, "commit", "-q", "-a", "-m", f"{branch} v0")
        commit = git(a.repo, "rev-parse", "HEAD")
        git(a.repo, "branch", branch, commit)
        start = now_ms()
        git(a.repo, "checkout", "-q", "main")
        index = j - a.first + 1
        if index <= a.timed:
            ms = wait_for(a.route_port, host, text, start)
            failures = 0 if record(a.results, "new", index, ms, commit) else failures + 1
            if failures >= 3:
                sys.exit("3 new branches in a row not served: giving up")
        else:
            if wait_for(a.route_port, host, text, start) is None:
                sys.exit(f"{branch}: not served (an untimed branch, made for the idle measurement)")
        if index == a.idle_after:
            print(f"  {index} previews running; settling {a.settle_s}s, then idle for {a.window_s}s ...",
                  file=sys.stderr, flush=True)
            time.sleep(a.settle_s)
            idle(a.pid, a.window_s, a.services_under, None, "idle_k", a.results, previews=index)
        pause()


def cmd_pushes(a):
    targets = []
    for t in a.target:
        label, branch, port, host = t.split(",")
        targets.append((label, branch, int(port), host))
    failures = {t[0]: 0 for t in targets}
    for i in range(1, a.count + 1):
        for label, branch, port, host in targets:
            if failures[label] >= 3:
                record(a.results, label, i, None, "-" * 12)
                continue
            text = f"{branch}-v{i}-{int(time.time() * 1000)}"
            git(a.repo, "checkout", "-q", branch)
            with open(os.path.join(a.repo, "version.txt"), "w") as f:
                f.write(text + "\n")
            git(a.repo, "commit", "-q", "-a", "-m", f"{branch} v{i}")
            start = now_ms()
            commit = git(a.repo, "rev-parse", "HEAD")
            ms = wait_for(port, host, text, start)
            failures[label] = 0 if record(a.results, label, i, ms, commit) else failures[label] + 1
            pause()
    git(a.repo, "checkout", "-q", "main")


def cmd_serve(a):
    ms = wait_for(a.port, a.host, a.text, a.since_ms)
    commit = git(a.repo, "rev-parse", a.branch) if a.repo else "-"
    return 0 if record(a.results, a.label, 1, ms, commit) else 1


def cmd_gone(a):
    git(a.repo, "branch", "-D", "-q", a.branch)
    start = now_ms()
    host = a.branch.replace("/", "-") + ".localhost"
    deadline = time.time() + TIMEOUT_S
    ms = None
    while time.time() < deadline:
        if not os.path.exists(a.dir) and get_version(a.route_port, host) is None:
            ms = now_ms() - start
            break
        time.sleep(GAP_S * 4)
    record(a.results, "gone", a.n, ms, "-" * 12)


def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3): utime is field 14, stime 15, cutime 16, cstime 17
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def processes_under(root, not_under=None):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            cwd = ""
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        inside = cwd.startswith(root) or root in cmdline
        if inside and not_under and (cwd.startswith(not_under) or not_under in cmdline):
            inside = False
        if inside:
            found.append(int(entry))
    return found


def idle(pid, window_s, under, not_under, label, results, previews=0):
    hz = os.sysconf("SC_CLK_TCK")
    own0, kids0 = cpu_ticks(pid)
    t0 = time.time()
    time.sleep(window_s)
    own1, kids1 = cpu_ticks(pid)
    t1 = time.time()
    wall = t1 - t0
    # The services' processes: a git process there (the fleet's fetch into previews/mirror.git,
    # which comes and goes every poll) is shipper's work, not a service: listed, not summed.
    procs, kinds = [], {}
    for p in processes_under(under, not_under) if under else []:
        try:
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if p == os.getpid():
            continue
        kinds[comm] = kinds.get(comm, 0) + 1
        if not comm.startswith("git") and p not in (pid, os.getpid()):  # this helper names DIR too
            procs.append(p)
    svc_rss = sum(proc_rss_kb(p) for p in procs)
    kinds = ",".join(f"{k}:{v}" for k, v in sorted(kinds.items())) or "-"
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    line = (f"IDLE label={label} previews={previews} window_s={wall:.1f}"
            f" cpu_pct={(own1 - own0) / hz / wall * 100:.3f} children_cpu_pct={(kids1 - kids0) / hz / wall * 100:.3f}"
            f" rss_mb={proc_rss_kb(pid) / 1024:.1f} threads={status['Threads'].strip()}"
            f" svc_procs={len(procs)} svc_rss_mb={svc_rss / 1024:.1f} svc_kinds={kinds}")
    with open(results, "a") as f:
        f.write(line + "\n")
    print("  " + line, file=sys.stderr, flush=True)


def cmd_idle(a):
    idle(a.pid, a.window_s, a.services_under, a.not_under, a.label, a.results, a.previews)


# ---- summary ----

def parse(path):
    samples, idles = {}, {}
    with open(path) as f:
        for line in f:
            kind, *items = line.split()
            fields = dict(item.split("=", 1) for item in items)
            if kind == "SAMPLE":
                samples.setdefault(fields["label"], []).append(fields)
            elif kind == "IDLE":
                idles[fields["label"]] = fields
    return samples, idles


def audit_ms(audit_dir):
    """commit -> ms shipper itself took, from the audit logs: a main or second-shipper deploy's
    total_ms; a preview's 'created ... in N ms' / 'deployed ... in N ms' message."""
    out = {}
    for root, _, files in os.walk(audit_dir):
        for name in files:
            if name != "audit.jsonl":
                continue
            with open(os.path.join(root, name)) as f:
                for line in f:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue
                    commit = r.get("commit")
                    if not commit:
                        continue
                    if r.get("event") in ("preview_create", "preview_update"):
                        m = re.search(r" in (\d+) ms", r.get("message", ""))
                        if m:
                            out[("preview", commit)] = float(m.group(1))
                    elif r.get("event") in ("deploy", "bootstrap") and r.get("total_ms") is not None:
                        out[("engine", commit)] = float(r["total_ms"])
    return out


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def p90(xs):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def fmt(x, digits=0):
    return "-" if x != x else f"{x:,.{digits}f}"


def cmd_summary(a):
    samples, idles = parse(a.results)
    audit = audit_ms(a.audit_dir)
    rows = [
        ("new", "new branch -> preview serving (routing port)", "preview"),
        ("preview", "push -> preview serving (routing port)", "preview"),
        ("main", "push -> main serving (same shipper)", "engine"),
        ("second_launch", "2nd shipper --ref: launch -> serving", "engine"),
        ("second", "push -> serving under 2nd shipper", "engine"),
        ("gone", "branch deleted -> preview torn down", None),
    ]
    medians = {}
    print(f"{'':46} {'median ms':>10} {'p90 ms':>9} {'min':>7} {'max':>7} {'in shipper':>10} {'failures':>9}")
    for label, name, source in rows:
        got = samples.get(label, [])
        if not got:
            continue
        ms = [float(s["ms"]) for s in got if s["ok"] == "1"]
        inside = [audit[(source, s["commit"])] for s in got if source and (source, s["commit"]) in audit]
        medians[label] = med(ms)
        fails = sum(1 for s in got if s["ok"] != "1")
        print(f"{name:46} {fmt(med(ms)):>10} {fmt(p90(ms)):>9} {fmt(min(ms) if ms else float('nan')):>7}"
              f" {fmt(max(ms) if ms else float('nan')):>7} {fmt(med(inside)):>10} {fails:>5}/{len(got)}")
    print("(in shipper: median of what shipper's audit records say the deploy took once started: a preview's"
          " 'created/deployed ... in N ms', a deploy's total_ms; the rest is detection: poll + fetch)")

    def ratio(x, y):
        return medians.get(x, float("nan")) / medians.get(y, float("nan")) if medians.get(y) else float("nan")

    ratios = {
        "preview_push/main_push": ratio("preview", "main"),
        "preview_push/second_push": ratio("preview", "second"),
        "new_branch/second_launch": ratio("new", "second_launch"),
    }
    print("ratios of medians: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print()
    z, k, s = idles.get("idle_0"), idles.get("idle_k"), idles.get("idle_second")
    print(f"{'idle, ' + str(a.window_s) + ' s':34} {'CPU % core':>10} {'+children':>10} {'RSS MB':>8} {'threads':>8}"
          f" {'svc procs':>9} {'svc RSS MB':>10}")
    for name, r in (("shipper, 0 previews", z), (f"shipper, {k['previews'] if k else '?'} previews", k),
                    ("2nd shipper --ref (1 branch)", s)):
        if r:
            print(f"{name:34} {r['cpu_pct']:>10} {r['children_cpu_pct']:>10} {r['rss_mb']:>8} {r['threads']:>8}"
                  f" {r['svc_procs']:>9} {r['svc_rss_mb']:>10}")
    per = {}
    if z and k and int(k["previews"]) > 0:
        n = int(k["previews"])
        per = {
            "cpu_pct": (float(k["cpu_pct"]) - float(z["cpu_pct"])) / n,
            "children_cpu_pct": (float(k["children_cpu_pct"]) - float(z["children_cpu_pct"])) / n,
            "rss_mb": (float(k["rss_mb"]) - float(z["rss_mb"])) / n,
            "svc_rss_mb": float(k["svc_rss_mb"]) / n,
        }
        print(f"{'per preview (delta / ' + str(n) + ')':34} {per['cpu_pct']:>10.3f} {per['children_cpu_pct']:>10.3f}"
              f" {per['rss_mb']:>8.1f} {'':>8} {'':>9} {per['svc_rss_mb']:>10.1f}")
        if s:
            print(f"one more branch running: as a preview +{per['rss_mb'] + per['svc_rss_mb']:.1f} MB and"
                  f" +{per['cpu_pct'] + per['children_cpu_pct']:.2f}% of a core (shipper's delta with its children,"
                  f" plus the preview's services); as a 2nd shipper"
                  f" {float(s['rss_mb']) + float(s['svc_rss_mb']):.1f} MB and"
                  f" {float(s['cpu_pct']) + float(s['children_cpu_pct']):.2f}% (its process with its children,"
                  f" plus its services)")
    print("(CPU: utime+stime of the shipper process over the window; +children: cutime+cstime, the children it"
          " reaped meanwhile, i.e. its git fetches; svc: the services' processes, for 0/K previews those under"
          " STATE/previews/, for the 2nd shipper those under its state dir)")
    result = ["RESULT", f"new_median_ms={fmt(medians.get('new', float('nan')), 1)}",
              f"preview_push_median_ms={fmt(medians.get('preview', float('nan')), 1)}",
              f"main_push_median_ms={fmt(medians.get('main', float('nan')), 1)}",
              f"second_launch_ms={fmt(medians.get('second_launch', float('nan')), 1)}",
              f"second_push_median_ms={fmt(medians.get('second', float('nan')), 1)}"]
    result += [f"{k.replace('/', '_over_')}={v:.2f}" for k, v in ratios.items()]
    if per:
        result += [f"per_preview_cpu_pct={per['cpu_pct']:.3f}", f"per_preview_rss_mb={per['rss_mb']:.1f}",
                   f"per_preview_svc_rss_mb={per['svc_rss_mb']:.1f}"]
    if s:
        result += [f"second_shipper_cpu_pct={s['cpu_pct']}", f"second_shipper_rss_mb={s['rss_mb']}"]
    fails = sum(1 for got in samples.values() for x in got if x["ok"] != "1")
    result.append(f"failures={fails}")
    print()
    print(" ".join(x.replace(",", "") for x in result))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("branches")
    b.add_argument("--repo", required=True)
    b.add_argument("--route-port", type=int, required=True)
    b.add_argument("--first", type=int, default=1)
    b.add_argument("--count", type=int, required=True)
    b.add_argument("--timed", type=int, required=True)
    b.add_argument("--idle-after", type=int, default=0)
    b.add_argument("--settle-s", type=float, default=3)
    b.add_argument("--window-s", type=float, default=30)
    b.add_argument("--pid", type=int)
    b.add_argument("--services-under")
    b.add_argument("--results", required=True)
    u = sub.add_parser("pushes")
    u.add_argument("--repo", required=True)
    u.add_argument("--count", type=int, required=True)
    u.add_argument("--target", action="append", required=True)
    u.add_argument("--results", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--text", required=True)
    s.add_argument("--since-ms", type=float, required=True)
    s.add_argument("--label", required=True)
    s.add_argument("--repo")
    s.add_argument("--branch")
    s.add_argument("--results", required=True)
    g = sub.add_parser("gone")
    g.add_argument("--repo", required=True)
    g.add_argument("--branch", required=True)
    g.add_argument("--route-port", type=int, required=True)
    g.add_argument("--dir", required=True)
    g.add_argument("--n", type=int, default=1)
    g.add_argument("--results", required=True)
    i = sub.add_parser("idle")
    i.add_argument("--pid", type=int, required=True)
    i.add_argument("--window-s", type=float, required=True)
    i.add_argument("--services-under")
    i.add_argument("--not-under")
    i.add_argument("--label", required=True)
    i.add_argument("--previews", type=int, default=0)
    i.add_argument("--results", required=True)
    m = sub.add_parser("summary")
    m.add_argument("--results", required=True)
    m.add_argument("--audit-dir", required=True)
    m.add_argument("--window-s", default="30")
    a = p.parse_args()
    return {"branches": cmd_branches, "pushes": cmd_pushes, "serve": cmd_serve, "gone": cmd_gone,
            "idle": cmd_idle, "summary": cmd_summary}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
