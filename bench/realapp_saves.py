# Save to serving on examples/shop's web app, and the requests that fail meanwhile: saves
# web/app.py in place with a new VERSION, times until GET /version answers it (polled on fresh
# connections every 2 ms), while a second thread hammers GET /version back to back and counts
# every failed request (refused, reset, timed out, not 200). Saves are PAUSE_MS apart.
#   realapp_saves.py --app DIR/web/app.py --port PORT [--saves 20] [--pause-ms 300]
#                    [--timeout-ms 20000] [--label NAME]
# The last line: RESULT label=NAME saves=N served=N median_ms=... p95_ms=... max_ms=...
#                requests=N failed_requests=N
import argparse
import http.client
import re
import statistics
import threading
import time


def get_version(port, timeout=5):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/version")
        response = connection.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else None
    finally:
        connection.close()


def hammer(port, stop, counts):
    while not stop.is_set():
        counts["requests"] += 1
        try:
            if get_version(port, timeout=10) is None:
                counts["failed"] += 1
        except Exception:
            counts["failed"] += 1


def save(app, version):
    with open(app) as f:
        text = f.read()
    text = re.sub(r'^VERSION = ".*"$', f'VERSION = "{version}"', text, flags=re.M)
    with open(app, "w") as f:  # in place: O_TRUNC, write, close
        f.write(text)


def wait_served(port, version, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if get_version(port, timeout=2) == version:
                return True
        except Exception:
            pass
        time.sleep(0.002)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--pause-ms", type=int, default=300)
    parser.add_argument("--timeout-ms", type=int, default=20000)
    parser.add_argument("--label", default="tool")
    options = parser.parse_args()

    if not wait_served(options.port, "v1", 60):
        print(f"{options.label}: nothing answers v1 on port {options.port}")
    stop, counts = threading.Event(), {"requests": 0, "failed": 0}
    thread = threading.Thread(target=hammer, args=(options.port, stop, counts))
    thread.start()
    samples = []
    for n in range(1, options.saves + 1):
        version = f"save-{n}"
        start = time.monotonic()
        save(options.app, version)
        if wait_served(options.port, version, options.timeout_ms / 1000):
            samples.append((time.monotonic() - start) * 1000)
        time.sleep(options.pause_ms / 1000)
    stop.set()
    thread.join()
    ordered = sorted(samples)
    nan = float("nan")
    median = statistics.median(ordered) if ordered else nan
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else nan
    peak = ordered[-1] if ordered else nan
    print(f"RESULT label={options.label} saves={options.saves} served={len(samples)} median_ms={median:.0f} "
          f"p95_ms={p95:.0f} max_ms={peak:.0f} requests={counts['requests']} failed_requests={counts['failed']}")


main()
