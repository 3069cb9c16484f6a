# Checks one service in an engine's status JSON (stdin): status.py SERVICE COND...
# COND is FIELD=VALUE (the field's value as text; `replicas` is their count) or FIELD~TEXT
# (TEXT appears in the field). Exits 0 when every condition holds, else 1 with the service.
import json
import sys

document = json.load(sys.stdin)
services = document.get("services") or []
service = next((s for s in services if s.get("name") == sys.argv[1]), None)
if service is None:
    print(f"no service '{sys.argv[1]}' in the status", file=sys.stderr)
    sys.exit(1)


def text(field):
    value = service.get(field)
    if field == "replicas":
        return str(len(value or []))
    return value if isinstance(value, str) else json.dumps(value)


for condition in sys.argv[2:]:
    if "~" in condition and ("=" not in condition or condition.index("~") < condition.index("=")):
        field, part = condition.split("~", 1)
        ok = part in text(field)
    else:
        field, value = condition.split("=", 1)
        ok = text(field) == value
    if not ok:
        print(f"'{condition}' does not hold: {json.dumps(service)}", file=sys.stderr)
        sys.exit(1)
