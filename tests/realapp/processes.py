# The pids of the processes under a directory: those whose working directory or command line
# is under it (a replica, its children, a daemon it left behind), except this one.
#   processes.py DIR
import os
import sys

top = sys.argv[1]
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) == os.getpid():
        continue
    try:
        cwd = os.readlink(f"/proc/{name}/cwd")
    except OSError:
        cwd = ""
    try:
        with open(f"/proc/{name}/cmdline", "rb") as f:
            cmdline = f.read().decode(errors="replace")
    except OSError:
        continue
    if cwd.startswith(top) or top in cmdline:
        print(name)
