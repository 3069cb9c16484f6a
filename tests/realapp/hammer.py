# A client hammering a service: GET PATH every 5 ms (leaving the 2 CPUs of a test machine to
# the app that restarts), each on a new connection, until the stop file exists; prints "requests=N failures=M" and the first failures. A failure is a
# refused or reset connection, a timeout, or a status other than 200.
#   hammer.py PORT STOP_FILE [PATH]
import http.client
import os
import sys
import time

port, stop_file = int(sys.argv[1]), sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else "/version"
requests = failures = 0
first = []
while not os.path.exists(stop_file):
    requests += 1
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
    except Exception as e:  # every kind of failure counts
        failures += 1
        if len(first) < 5:
            first.append(f"{type(e).__name__}: {e}")
    time.sleep(0.005)
print(f"requests={requests} failures={failures}")
for f in first:
    print(f"  {f}")
