"""What a swarm runs for one project, read from the manager's Engine API (unix socket).

Used by tests/swarm/swarm_e2e.sh and bench/swarm_bench.sh:

  swarm_state.py --socket SOCK --label KEY=VALUE COMMAND ...

--label picks the services (tandem.project=P for shipper's, com.docker.stack.namespace=S for a
stack's); a service's short name is its tandem.service label, else its name without the stack's
`S_` prefix. A task "runs" when swarm wants it running and it is running on a Ready node.

  summary                          services, update states and tasks, for a failure's report
  images                           {"web": "<spec image>", ...} as JSON
  tasks SERVICE                    the running tasks: "ID NODE_ID NODE_ADDR:PUBLISHED_PORT IMAGE"
  task-images SERVICE              every image a task of SERVICE had, in any state (one a line)
  update-state SERVICE             UpdateStatus.State ("" before the first update)
  converged [--settling] web=3 api=2 ...
                                   exit 0 when exactly these services exist, each runs exactly
                                   N tasks, all of its spec image, no task of another image runs,
                                   and no update or rollback is under way; else says why. With
                                   --settling, old tasks swarm has told to stop and an update's
                                   monitor period are let be (the view of `docker service ls`)
  layout --engine DIR --registry HOST:PORT --network NAME web=3:8080 api=2:8080 worker=1
                                   the shape shipper's swarm runtime promises (labels, tandem.engine
                                   DIR or a directory in it, overlay
                                   network, dnsrr, host-mode ports without a fixed published
                                   port, images by digest in the registry); prints each breach
  status-names-tasks FILE          every service in `shipper status -o json` (FILE) lists as many
                                   replicas as swarm runs tasks, and names each task (its id, or
                                   the 12-character prefix docker prints)
  wait-updated --baseline FILE --since-ms T --timeout-s S web=3 ...
                                   polls every 100 ms until every service runs a new image (not
                                   the one FILE names) on all its tasks, as `converged --settling`
                                   ("tasks"), then as `converged` ("completed"); prints
                                   "tasks_ms=A completed_ms=B" counted from T (epoch ms)
"""

import argparse
import http.client
import json
import re
import socket
import sys
import time
import urllib.parse
import urllib.request

API = "/v1.41"
BUSY_UPDATES = {"updating", "paused", "rollback_started", "rollback_paused"}


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class Swarm:
    def __init__(self, socket_path, label):
        self.socket_path = socket_path
        self.label = label
        key, _, value = label.partition("=")
        self.stack = value if key == "com.docker.stack.namespace" else None

    def get(self, path, **filters):
        query = ""
        if filters:
            query = "?filters=" + urllib.parse.quote(json.dumps(filters))
        connection = UnixConnection(self.socket_path)
        try:
            connection.request("GET", API + path + query)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        return json.loads(body)

    def short_name(self, service):
        spec = service["Spec"]
        name = (spec.get("Labels") or {}).get("tandem.service")
        if name:
            return name
        if self.stack and spec["Name"].startswith(self.stack + "_"):
            return spec["Name"][len(self.stack) + 1:]
        return spec["Name"]

    def read(self):
        """(services by short name, tasks by short name, nodes by id)"""
        services = {self.short_name(s): s for s in self.get("/services", label=[self.label])}
        nodes = {n["ID"]: n for n in self.get("/nodes")}
        tasks = {name: [] for name in services}
        by_id = {s["ID"]: name for name, s in services.items()}
        if services:
            for task in self.get("/tasks", service=[s["Spec"]["Name"] for s in services.values()]):
                name = by_id.get(task.get("ServiceID"))
                if name is not None:
                    tasks[name].append(task)
        return services, tasks, nodes


def spec_image(service):
    return service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]


def task_image(task):
    return task["Spec"]["ContainerSpec"]["Image"]


def node_ready(nodes, task):
    node = nodes.get(task.get("NodeID", ""))
    return node is not None and node["Status"]["State"] == "ready"


def runs(task, nodes):
    return task["DesiredState"] == "running" and task["Status"]["State"] == "running" and node_ready(nodes, task)


def running_anyway(task, nodes):
    """Running on a live node, whatever swarm wants of it (an old task not yet stopped)."""
    return task["Status"]["State"] == "running" and node_ready(nodes, task)


def update_state(service):
    return (service.get("UpdateStatus") or {}).get("State", "")


def published_ports(task):
    ports = (task["Status"].get("PortStatus") or {}).get("Ports") or []
    return sorted({p.get("PublishedPort", 0) for p in ports})


def parse_expect(items):
    """["web=3:8080", "worker=1"] -> {"web": (3, 8080), "worker": (1, None)}"""
    expected = {}
    for item in items:
        name, _, rest = item.partition("=")
        replicas, _, port = rest.partition(":")
        expected[name] = (int(replicas), int(port) if port else None)
    return expected


def why_not_converged(swarm, expected, baseline=None, settled=True):
    """None when every service runs its replicas on its spec image (the view of `docker service
    ls`); settled: and no task of another image still runs (one swarm told to stop, in its grace),
    and no update or rollback is under way."""
    services, tasks, nodes = swarm.read()
    if set(services) != set(expected):
        return f"services {sorted(services)}, expected {sorted(expected)}"
    for name, (replicas, _) in expected.items():
        service = services[name]
        image = spec_image(service)
        if baseline is not None and baseline.get(name) == image:
            status = service.get("UpdateStatus") or {}
            if status.get("State", "").startswith("rollback"):
                return f"{name}: swarm rolled the update back ({status.get('State')}: {status.get('Message', '')})"
            return f"{name}: still the spec image of before, {image}"
        want = service["Spec"].get("Mode", {}).get("Replicated", {}).get("Replicas")
        if want != replicas:
            return f"{name}: the spec asks for {want} replicas, expected {replicas}"
        running = [t for t in tasks[name] if runs(t, nodes)]
        stale = [t for t in tasks[name] if running_anyway(t, nodes) and task_image(t) != image]
        if stale and settled:
            return f"{name}: {len(stale)} task(s) of another image still running ({task_image(stale[0])})"
        wrong = [t for t in running if task_image(t) != image]
        if wrong:
            return f"{name}: a running task has {task_image(wrong[0])}, the spec {image}"
        if len(running) != replicas:
            return f"{name}: {len(running)} running task(s), expected {replicas}"
        if settled and update_state(service) in BUSY_UPDATES:
            return f"{name}: update state {update_state(service)}"
    return None


def layout_breaches(swarm, expected, engine, registry, network_name):
    breaches = []
    services, tasks, nodes = swarm.read()
    project = swarm.label.partition("=")[2]
    if set(services) != set(expected):
        breaches.append(f"services {sorted(services)}, expected {sorted(expected)}")
    networks = swarm.get("/networks", name=[network_name])
    network = next((n for n in networks if n["Name"] == network_name), None)
    if network is None:
        breaches.append(f"no network {network_name}")
    elif network["Driver"] != "overlay" or network["Scope"] != "swarm":
        breaches.append(f"network {network_name} is {network['Driver']}/{network['Scope']}, not overlay/swarm")
    for name, (replicas, port) in expected.items():
        service = services.get(name)
        if service is None:
            continue
        spec = service["Spec"]
        where = spec["Name"]
        if spec["Name"] != f"{project}-{name}":
            breaches.append(f"{where}: named {spec['Name']}, expected {project}-{name}")
        labels = spec.get("Labels") or {}
        for key, value in (("tandem.project", project), ("tandem.service", name)):
            if labels.get(key) != value:
                breaches.append(f"{where}: label {key}={labels.get(key)!r}, expected {value!r}")
        # The engine's state directory, or the runtime's own directory inside it.
        owner = labels.get("tandem.engine") or ""
        if owner != engine and not owner.startswith(engine.rstrip("/") + "/"):
            breaches.append(f"{where}: label tandem.engine={owner!r}, expected {engine!r} or a directory in it")
        targets = {n.get("Target") for n in spec["TaskTemplate"].get("Networks") or []}
        if network is not None and not targets & {network["Id"], network_name}:
            breaches.append(f"{where}: not on {network_name} (networks {sorted(targets)})")
        endpoint = spec.get("EndpointSpec") or {}
        if endpoint.get("Mode") != "dnsrr":
            breaches.append(f"{where}: endpoint mode {endpoint.get('Mode')!r}, expected dnsrr (no IPVS here)")
        ports = endpoint.get("Ports") or []
        if port is None and ports:
            breaches.append(f"{where}: publishes {ports}, expected nothing (no port)")
        if port is not None:
            if len(ports) != 1:
                breaches.append(f"{where}: publishes {ports}, expected one port")
            else:
                p = ports[0]
                if p.get("TargetPort") != port or p.get("PublishMode") != "host" or p.get("PublishedPort", 0) != 0:
                    breaches.append(f"{where}: publishes {p}, expected target {port} in host mode, no fixed published port")
        image = spec_image(service)
        match = re.fullmatch(re.escape(f"{registry}/{project}-{name}") + r"@(sha256:[0-9a-f]{64})", image)
        if not match:
            breaches.append(f"{where}: image {image}, expected {registry}/{project}-{name}@sha256:<digest>")
        elif not registry_has(registry, f"{project}-{name}", match.group(1)):
            breaches.append(f"{where}: the registry {registry} has no manifest {project}-{name}@{match.group(1)}")
        running = [t for t in tasks[name] if runs(t, nodes)]
        if len(running) != replicas:
            breaches.append(f"{where}: {len(running)} running task(s), expected {replicas}")
        for task in running:
            if port is not None and published_ports(task) in ([], [0]):
                breaches.append(f"{where}: task {task['ID'][:12]} has no published port")
    return breaches


def registry_has(registry, repository, digest):
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{digest}", method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                           "application/vnd.oci.image.manifest.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def summary(swarm):
    services, tasks, nodes = swarm.read()
    if not services:
        print(f"(no service labelled {swarm.label})")
    for name, service in sorted(services.items()):
        replicas = service["Spec"].get("Mode", {}).get("Replicated", {}).get("Replicas")
        print(f"{service['Spec']['Name']}: {replicas} replicas, image {spec_image(service)}, "
              f"update {update_state(service) or '-'} {(service.get('UpdateStatus') or {}).get('Message', '')}")
        for task in sorted(tasks[name], key=lambda t: (t.get("Slot", 0), t["CreatedAt"])):
            node = nodes.get(task.get("NodeID", ""), {})
            print(f"  {task['ID'][:12]} slot {task.get('Slot', '-')} node {node.get('Status', {}).get('Addr', '?')}"
                  f" ({node.get('Status', {}).get('State', '?')}) desired {task['DesiredState']}"
                  f" state {task['Status']['State']} ports {published_ports(task)} {task_image(task)[-20:]}"
                  f" {task['Status'].get('Err', '')}")
    for node in nodes.values():
        print(f"node {node['ID'][:12]} {node['Status'].get('Addr')} {node['Status']['State']}"
              f" {node.get('ManagerStatus', {}).get('Leader') and 'leader' or ''}")


def status_names_tasks(swarm, status_file):
    with open(status_file) as f:
        status = json.load(f)
    _, tasks, nodes = swarm.read()
    problems = []
    for service in status.get("services") or []:
        name = service.get("name")
        if name not in tasks:
            continue
        running = [t for t in tasks[name] if runs(t, nodes)]
        listed = service.get("replicas") or []
        if len(listed) != len(running):
            problems.append(f"{name}: status lists {len(listed)} replicas, swarm runs {len(running)} tasks")
        text = json.dumps(listed)
        for task in running:
            if task["ID"][:12] not in text:
                problems.append(f"{name}: task {task['ID'][:12]} is not in the status' replicas {text}")
    return problems


def wait_updated(swarm, expected, baseline, since_ms, timeout_s):
    tasks_ms = None
    deadline = time.time() + timeout_s
    last = said = ""
    while time.time() < deadline:
        now_ms = int(time.time() * 1000)
        try:
            if tasks_ms is None:
                last = why_not_converged(swarm, expected, baseline, settled=False) or ""
                if not last:
                    tasks_ms = now_ms - since_ms
            if tasks_ms is not None:
                last = why_not_converged(swarm, expected, baseline, settled=True) or ""
                if not last:
                    print(f"tasks_ms={tasks_ms} completed_ms={now_ms - since_ms}")
                    return 0
        except (OSError, RuntimeError, http.client.HTTPException) as error:
            last = f"the manager did not answer: {error}"
        if last != said:  # what it waits for, each time that changes (a log for the curious)
            print(f"{now_ms - since_ms} ms: {last or 'tasks updated'}", file=sys.stderr)
            said = last
        time.sleep(0.1)
    print(f"tasks_ms={tasks_ms if tasks_ms is not None else 'nan'} completed_ms=nan")
    print(f"not updated within {timeout_s} s: {last}", file=sys.stderr)
    return 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("command")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--engine")
    parser.add_argument("--registry")
    parser.add_argument("--network")
    parser.add_argument("--baseline")
    parser.add_argument("--since-ms", type=int)
    parser.add_argument("--timeout-s", type=float, default=300)
    parser.add_argument("--settling", action="store_true")
    options = parser.parse_intermixed_args()
    swarm = Swarm(options.socket, options.label)
    command, args = options.command, options.args

    if command == "summary":
        summary(swarm)
    elif command == "images":
        services, _, _ = swarm.read()
        print(json.dumps({name: spec_image(s) for name, s in services.items()}, sort_keys=True))
    elif command == "tasks":
        services, tasks, nodes = swarm.read()
        for task in tasks.get(args[0], []):
            if runs(task, nodes):
                node = nodes[task["NodeID"]]
                ports = published_ports(task)
                print(task["ID"], node["ID"], f"{node['Status']['Addr']}:{ports[0] if ports else 0}", task_image(task))
    elif command == "task-images":
        _, tasks, _ = swarm.read()
        for image in sorted({task_image(t) for t in tasks.get(args[0], [])}):
            print(image)
    elif command == "update-state":
        services, _, _ = swarm.read()
        print(update_state(services[args[0]]) if args[0] in services else "")
    elif command == "converged":
        why = why_not_converged(swarm, parse_expect(args), settled=not options.settling)
        if why:
            print(why, file=sys.stderr)
            return 1
    elif command == "layout":
        breaches = layout_breaches(swarm, parse_expect(args), options.engine, options.registry, options.network)
        for breach in breaches:
            print(breach)
        return 1 if breaches else 0
    elif command == "status-names-tasks":
        problems = status_names_tasks(swarm, args[0])
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    elif command == "wait-updated":
        with open(options.baseline) as f:
            baseline = json.load(f)
        return wait_updated(swarm, parse_expect(args), baseline, options.since_ms, options.timeout_s)
    else:
        parser.error(f"unknown command {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
