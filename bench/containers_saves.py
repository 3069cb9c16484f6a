#!/usr/bin/env python3
"""Save to serving for bench/containers.sh: the time from saving a file to a web server answering
its new content.

  containers_saves.py saves --file F --url URL [--saves N] [--label L] [--hook CMD] [--done-file D]
  containers_saves.py wait --url URL --contains TEXT [--timeout-ms T]

`saves` writes a new unique body into F (in place: open with O_TRUNC, write, close, the way an
editor that saves in place does), then GETs URL on a fresh connection every --poll-ms (2 ms)
until the body holds that new text; the clock starts just before the open. A save not served
within --timeout-ms is a failure. Between saves it waits for the tool to be idle again: --hook
CMD (run with `sh -c` right after each save, in the current directory, as if an editor's on-save hook ran
it) must have exited, and with --done-file D, D must hold one more line than before the save
(a watcher's loop appends one per cycle); then --pause-ms more. It prints one line
`RESULT label=L saves=N failures=F median_ms=M p90_ms=P min_ms=A max_ms=B` (nan when nothing was
served) and, with --samples, each save's time before it.

`wait` polls URL until its body holds TEXT (exit 0) or the timeout passes (exit 1).
"""
import argparse
import os
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit


def get(host, port, path, timeout):
    """One GET on a fresh connection: the body, or None when refused, reset, timed out or not 200."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    except OSError:
        return None
    finally:
        s.close()
    reply = b"".join(chunks)
    head, sep, body = reply.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1.") or head.split(b" ", 2)[1:2] != [b"200"]:
        return None
    return body


def poll_until(url, text, deadline, poll_s):
    parts = urlsplit(url)
    host, port, path = parts.hostname, parts.port, parts.path or "/"
    needle = text.encode()
    while True:
        body = get(host, port, path, max(0.05, min(1.0, deadline - time.monotonic())))
        if body is not None and needle in body:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def write_in_place(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def percentile(sorted_values, p):
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def saves(args):
    poll_s = args.poll_ms / 1000.0
    times, failures = [], 0
    run = uuid.uuid4().hex[:8]
    for i in range(args.saves):
        token = f"{args.label}-{run}-save-{i}"
        body = f"<html><body>{token}</body></html>\n".encode()
        before = lines(args.done_file) if args.done_file else 0
        start = time.monotonic()
        write_in_place(args.file, body)
        hook = None
        if args.hook:
            hook = subprocess.Popen(["sh", "-c", args.hook], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        served = poll_until(args.url, token, start + args.timeout_ms / 1000.0, poll_s)
        elapsed = (time.monotonic() - start) * 1000.0
        if served:
            times.append(elapsed)
        else:
            failures += 1
        if args.samples:
            print(f"  {args.label} save {i}: " + (f"{elapsed:.1f} ms" if served else "not served"), file=sys.stderr,
                  flush=True)
        # The tool is idle again before the next save: its hook has exited, its loop has ended a cycle.
        idle_deadline = time.monotonic() + args.timeout_ms / 1000.0
        if hook:
            try:
                hook.wait(timeout=max(0.1, idle_deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                hook.kill()
                hook.wait()
        if args.done_file:
            while lines(args.done_file) <= before and time.monotonic() < idle_deadline:
                time.sleep(0.01)
        time.sleep(args.pause_ms / 1000.0)
    times.sort()
    fmt = lambda v: "nan" if v != v else f"{v:.1f}"  # noqa: E731
    median = percentile(times, 50) if len(times) % 2 else (
        (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2 if times else float("nan"))
    print(f"RESULT label={args.label} saves={args.saves} failures={failures} median_ms={fmt(median)} "
          f"p90_ms={fmt(percentile(times, 90))} min_ms={fmt(times[0] if times else float('nan'))} "
          f"max_ms={fmt(times[-1] if times else float('nan'))}", flush=True)
    return 0


def wait(args):
    ok = poll_until(args.url, args.contains, time.monotonic() + args.timeout_ms / 1000.0, args.poll_ms / 1000.0)
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("saves")
    s.add_argument("--file", required=True)
    s.add_argument("--url", required=True)
    s.add_argument("--saves", type=int, default=10)
    s.add_argument("--label", default="tool")
    s.add_argument("--hook")
    s.add_argument("--done-file")
    s.add_argument("--pause-ms", type=int, default=300)
    s.add_argument("--timeout-ms", type=int, default=30000)
    s.add_argument("--poll-ms", type=float, default=2.0)
    s.add_argument("--samples", action="store_true")
    w = sub.add_parser("wait")
    w.add_argument("--url", required=True)
    w.add_argument("--contains", required=True)
    w.add_argument("--timeout-ms", type=int, default=60000)
    w.add_argument("--poll-ms", type=float, default=20.0)
    args = parser.parse_args()
    return saves(args) if args.command == "saves" else wait(args)


if __name__ == "__main__":
    sys.exit(main())
