# Saves a file in place as an editor does (open with O_TRUNC, write, close), with its line
# starting like LINE's first word replaced by LINE:  edit.py web/app.py 'VERSION = "v2"'
import sys

path, line = sys.argv[1], sys.argv[2]
key = line.split()[0]
with open(path) as f:
    lines = f.read().split("\n")
lines = [line if l.split(" ", 1)[0] == key else l for l in lines]
with open(path, "w") as f:
    f.write("\n".join(lines))
