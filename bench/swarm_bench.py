"""Helpers of bench/swarm_bench.sh: shipper's audit record of a commit, each replica's version,
and the table.

  swarm_bench.py record --audit FILE --commit ID --since-ms T --timeout-s S
      waits for the deploy (or bootstrap) record of commit ID; prints
      "recorded_ms=A outcome=O build_ms=B" with A counted from T (epoch ms); exit 1 on timeout
  swarm_bench.py replicas-serve --status FILE --text TEXT SERVICE...
      every replica of each SERVICE in `shipper status -o json` (FILE) answers TEXT at its own
      port (GET /version.txt); prints the first that does not, exit 1
  swarm_bench.py summary --results FILE --commits N
      the table: medians and p90 of each contender's RESULT lines, and ratios
"""

import argparse
import datetime
import json
import statistics
import sys
import time
import urllib.request


def record(args):
    deadline = time.time() + args.timeout_s
    while time.time() < deadline:
        try:
            with open(args.audit) as f:
                lines = f.readlines()
        except OSError:
            lines = []
        for line in lines:
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line being written
            if r.get("commit") == args.commit and r.get("event") in ("deploy", "bootstrap"):
                when = datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
                print(f"recorded_ms={int(when.timestamp() * 1000) - args.since_ms} outcome={r.get('outcome')}"
                      f" build_ms={r.get('build_ms', 'nan')}")
                return 0
        time.sleep(0.1)
    print("recorded_ms=nan outcome=timeout build_ms=nan")
    return 1


def replicas_serve(args):
    with open(args.status) as f:
        status = json.load(f)
    for name in args.services:
        service = next((s for s in status.get("services") or [] if s.get("name") == name), None)
        if service is None or not service.get("replicas"):
            print(f"{name}: no replicas in the status")
            return 1
        for replica in service["replicas"]:
            url = f"http://127.0.0.1:{replica['port']}/version.txt"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    body = response.read().decode().strip()
            except OSError as error:
                body = f"({error})"
            if body != args.text:
                print(f"{name} replica {replica.get('id')} at {url}: {body!r}, expected {args.text!r}")
                return 1
    return 0


def parse_results(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("RESULT "):
                continue
            fields = dict(item.split("=", 1) for item in line.split()[1:])
            rows.setdefault(fields["contender"], []).append(fields)
    return rows


def values(rows, key):
    out = []
    for row in rows:
        try:
            value = float(row.get(key, "nan"))
        except ValueError:
            continue
        if value == value:  # not nan
            out.append(value)
    return out


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def p90(xs):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


def cell(x):
    return "-" if x != x else f"{x:,.0f}"


NAMES = {
    "swarm": "shipper --runtime swarm",
    "process": "shipper, process runtime",
    "stack": "build+push, docker stack deploy",
}


def summary(args):
    rows = parse_results(args.results)
    base = median(values(rows.get("stack", []), "updated_ms"))
    print(f"{'contender':<34} {'updated ms':>11} {'p90 ms':>9} {'completed':>10} {'recorded':>9} {'build ms':>9}"
          f" {'failures':>9} {'/stack':>7}")
    for contender in ("swarm", "process", "stack"):
        if contender not in rows:
            continue
        r = rows[contender]
        updated = values(r, "updated_ms")
        failures = sum(1 for row in r if row.get("ok") != "1")
        ratio = median(updated) / base if updated and base == base and base > 0 else float("nan")
        print(f"{NAMES[contender]:<34} {cell(median(updated)):>11} {cell(p90(updated)):>9}"
              f" {cell(median(values(r, 'completed_ms'))):>10} {cell(median(values(r, 'recorded_ms'))):>9}"
              f" {cell(median(values(r, 'build_ms'))):>9} {failures:>5}/{len(r):<3}"
              f" {'-' if ratio != ratio else f'{ratio:.2f}':>7}")
    if "stack" in rows:
        r = rows["stack"]
        print(f"docker stack deploy alone, from the deploy command: every task on the new image after"
              f" {cell(median(values(r, 'deploy_updated_ms')))} ms (median), update completed after"
              f" {cell(median(values(r, 'deploy_completed_ms')))} ms")
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("record")
    p.add_argument("--audit", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--since-ms", type=int, required=True)
    p.add_argument("--timeout-s", type=float, default=300)
    p = sub.add_parser("replicas-serve")
    p.add_argument("--status", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("services", nargs="+")
    p = sub.add_parser("summary")
    p.add_argument("--results", required=True)
    p.add_argument("--commits", type=int)
    args = parser.parse_args()
    return {"record": record, "replicas-serve": replicas_serve, "summary": summary}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
