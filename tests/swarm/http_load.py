"""GET a URL on a fresh connection every 20 ms until STOP_FILE exists (or the process that started
it is gone); then write a JSON tally.

  http_load.py URL STOP_FILE OUT_FILE

A request fails when it is refused, reset, times out (5 s) or answers anything but 200. The tally:
{"requests": N, "failures": N, "first_failures": [...], "bodies": {"web v1": N, ...},
 "last_body": "...", "first_body": "..."}. Used by tests/swarm/swarm_e2e.sh while a rollout runs.
"""

import http.client
import json
import os
import sys
import time
import urllib.parse


def main():
    url, stop_file, out_file = sys.argv[1:4]
    parts = urllib.parse.urlsplit(url)
    tally = {"requests": 0, "failures": 0, "first_failures": [], "bodies": {}, "first_body": None, "last_body": None}
    parent = os.getppid()
    while not os.path.exists(stop_file) and os.getppid() == parent:
        tally["requests"] += 1
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            connection.request("GET", parts.path or "/", headers={"Connection": "close"})
            response = connection.getresponse()
            body = response.read().decode(errors="replace").strip()
            if response.status != 200:
                raise OSError(f"status {response.status}: {body[:80]}")
            tally["bodies"][body] = tally["bodies"].get(body, 0) + 1
            tally["first_body"] = tally["first_body"] or body
            tally["last_body"] = body
        except (OSError, http.client.HTTPException) as error:
            tally["failures"] += 1
            if len(tally["first_failures"]) < 10:
                tally["first_failures"].append(f"{time.strftime('%H:%M:%S')} {type(error).__name__}: {error}")
        finally:
            connection.close()
        time.sleep(0.02)
    with open(out_file + ".tmp", "w") as f:
        json.dump(tally, f)
    os.rename(out_file + ".tmp", out_file)


if __name__ == "__main__":
    main()
