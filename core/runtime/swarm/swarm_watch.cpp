// What the swarm runtime watches while a service exists: the cluster's nodes and the service's
// tasks (read every `poll`), the outcome of an update under way, the public port's backends
// (running tasks at their node's address and published port) and the service's logs.
#include "runtime/docker/docker_json.hpp"
#include "runtime/swarm/swarm_runtime.hpp"

#include <fmt/format.h>

namespace tandem::swarm {

using nlohmann::json;

TaskView task_view(const json& task, int target_port) {
    TaskView view;
    view.id = docker::json_string(task, "ID");
    view.slot = task.value("Slot", 0);
    view.node = docker::json_string(task, "NodeID");
    view.desired = docker::json_string(task, "DesiredState");
    const json status = task.value("Status", json::object());
    view.state = docker::json_string(status, "State");
    view.error = docker::json_string(status, "Err");
    view.message = docker::json_string(status, "Message");
    view.timestamp = docker::json_string(status, "Timestamp");
    view.created = docker::json_string(task, "CreatedAt");
    if (status.contains("ContainerStatus") && status["ContainerStatus"].is_object())
        view.exit_code = status["ContainerStatus"].value("ExitCode", 0);
    if (status.contains("PortStatus") && status["PortStatus"].contains("Ports"))
        for (const json& port : status["PortStatus"]["Ports"]) {
            const int target = port.value("TargetPort", 0);
            view.published[target] = port.value("PublishedPort", 0);
            if (target == target_port) view.published_port = port.value("PublishedPort", 0);
        }
    if (task.contains("Spec") && task["Spec"].contains("ContainerSpec"))
        view.image = task["Spec"]["ContainerSpec"].value("Image", "");
    return view;
}

NodeView node_view(const json& node) {
    NodeView view;
    view.hostname = node.value("Description", json::object()).value("Hostname", "");
    view.address = node.value("Status", json::object()).value("Addr", "");
    view.state = node.value("Status", json::object()).value("State", "");
    view.availability = node.value("Spec", json::object()).value("Availability", "");
    return view;
}

SwarmRuntime::Watched& SwarmRuntime::watch(const std::string& name, const std::string& id) {
    auto& slot = services_[name];
    if (!slot) {
        slot = std::make_unique<Watched>();
        slot->name = name;
    }
    if (!id.empty()) slot->id = id;
    schedule_poll();
    return *slot;
}

void SwarmRuntime::schedule_poll() {
    if (polling_) return;
    polling_ = true;
    std::weak_ptr<bool> alive = alive_;
    loop_.after(options_.poll, [this, alive] {
        if (!live(alive)) return;
        polling_ = false;
        poll();
    });
}

// One round: the nodes, then each watched service and its tasks; the next round once all answered.
void SwarmRuntime::poll() {
    if (services_.empty() || poll_in_flight_) return;
    poll_in_flight_ = true;
    std::weak_ptr<bool> alive = alive_;
    client_.request_json("list nodes", "GET", "/nodes", {}, [this, alive](Result<json> nodes) {
        if (!live(alive)) return;
        if (nodes && nodes->is_array())
            for (const json& node : *nodes) nodes_[docker::json_string(node, "ID")] = node_view(node);
        std::vector<std::string> names;
        for (const auto& [name, watched] : services_) names.push_back(name);
        for (const std::string& name : names) poll_service(name);
        poll_in_flight_ = false;
        schedule_poll();
    });
}

void SwarmRuntime::poll_service(const std::string& name) {
    const auto it = services_.find(name);
    if (it == services_.end() || it->second->id.empty()) return;
    std::weak_ptr<bool> alive = alive_;
    const std::string id = it->second->id;
    client_.request_json("inspect service " + names_.service(name), "GET", "/services/" + id, {},
                         [this, alive, name, id](Result<json> service) {
        if (!live(alive) || !services_.count(name)) return;
        Watched& watched = *services_[name];
        if (!service) {
            if (service.error().code == ErrorCode::not_found && !watched.pending)
                watched.last_error = "swarm service " + names_.service(name) + " was removed from the cluster";
            return;
        }
        const std::string filter = json{{"service", {id}}}.dump();
        client_.request_json("list tasks of " + names_.service(name), "GET", "/tasks?filters=" + docker::url_encode(filter),
                             {}, [this, alive, name, service = std::move(*service)](Result<json> tasks) {
            if (!live(alive) || !services_.count(name) || !tasks) return;
            Watched& current = *services_[name];
            // What the cluster asks its tasks to run now: after a rollback, the previous image.
            if (service.contains("Spec")) {
                const json& template_spec = service["Spec"].value("TaskTemplate", json::object());
                current.image = template_spec.value("ContainerSpec", json::object()).value("Image", current.image);
            }
            take_tasks(current, *tasks);
            route_tasks(current);
            follow_logs(current);
            check_stall(current, service);
            check_pending(current, service);
        });
    });
}

// "task shop-web.2 (1a2b3c4d5e6f) on node 9f8e7d6c5b4a (worker-1, 10.20.0.12): failed: exit 1"
std::string SwarmRuntime::describe_task(const std::string& service, const TaskView& task) const {
    const auto node = nodes_.find(task.node);
    const std::string where = node == nodes_.end() ? "node " + task.node.substr(0, 12)
                                                   : fmt::format("node {} ({}, {})", task.node.substr(0, 12),
                                                                 node->second.hostname, node->second.address);
    std::string text = fmt::format("task {}.{} ({}) on {}: {}", names_.service(service), task.slot,
                                   task.id.substr(0, 12), where, task.state);
    if (!task.error.empty()) text += ": " + task.error;
    else if (task.state == "failed" || task.state == "rejected") text += ": " + task.message;
    return text;
}

// Keeps the latest view of each task, tells of each change of state, and counts the tasks seen
// failing (each once) as crashes.
void SwarmRuntime::take_tasks(Watched& watched, const json& tasks) {
    std::map<std::string, TaskView> seen;
    for (const json& task : tasks) {
        TaskView view = task_view(task, watched.target_port);
        const auto before = watched.tasks.find(view.id);
        const bool changed = before == watched.tasks.end() || before->second.state != view.state;
        if (changed && watched.tasks_read && view.state != "new" && view.state != "pending" &&
            view.state != "assigned") {
            const bool bad = view.state == "failed" || view.state == "rejected";
            const std::string text = describe_task(watched.name, view);
            emit(bad ? RuntimeEventKind::failure : RuntimeEventKind::state, watched.name, text, bad);
            if (bad && watched.failed.insert(view.id).second) watched.last_error = text;
        }
        seen.emplace(view.id, std::move(view));
    }
    watched.tasks = std::move(seen);
    watched.tasks_read = true;
}

// The public port's backends: the tasks that run (health check passed, when there is one) at
// their node's address; a task on its way out leaves at once, its open connections finishing.
void SwarmRuntime::route_tasks(Watched& watched) {
    if (!watched.proxy) return;
    std::set<std::string> wanted;
    for (const auto& [id, task] : watched.tasks) {
        const auto node = nodes_.find(task.node);
        if (task.state != "running" || task.desired != "running" || task.published_port == 0 || node == nodes_.end())
            continue;
        wanted.insert(id);
        if (watched.backends.count(id)) continue;
        const int backend = watched.next_backend++;
        if (auto added = watched.proxy->add_backend(backend, node->second.address, task.published_port); !added) {
            emit(RuntimeEventKind::failure, watched.name, describe_task(watched.name, task) + ": " + added.error().message, true);
            continue;
        }
        watched.backends[id] = backend;
    }
    for (auto it = watched.backends.begin(); it != watched.backends.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        watched.proxy->drain_backend(it->second, std::chrono::seconds(10), [] {});
        it = watched.backends.erase(it);
    }
}

void SwarmRuntime::follow_logs(Watched& watched) {
    if (watched.logs_open || watched.id.empty() || !watched.output) return;
    watched.logs_open = true;
    docker::LogOptions options;
    options.follow = true;
    options.since = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    std::weak_ptr<bool> alive = alive_;
    const std::string name = watched.name;
    watched.logs = client_.service_logs(
        watched.id, options,
        [this, alive, name](docker::OutputStream stream, std::string_view line) {
            if (!live(alive) || !services_.count(name)) return;
            const auto& output = services_[name]->output;
            if (output) output(stream == docker::OutputStream::stderr_stream ? LogStream::err : LogStream::out, line);
        },
        [this, alive, name](Status) {
            // Ended (the manager restarted, the service went): the next round follows again.
            if (live(alive) && services_.count(name)) services_[name]->logs_open = false;
        });
}

int SwarmRuntime::converged(const Watched& watched) const {
    int running = 0;
    for (const auto& [id, task] : watched.tasks)
        if (task.desired == "running" && task.state == "running" && task.image.rfind(watched.image, 0) == 0) ++running;
    return running;
}

std::string SwarmRuntime::failed_tasks(const Watched& watched) const {
    std::string out;
    for (const auto& [id, task] : watched.tasks) {
        if (task.state != "failed" && task.state != "rejected") continue;
        out += (out.empty() ? "" : "; ") + describe_task(watched.name, task);
    }
    return out;
}

// The outcome of the update under way, from the service's UpdateStatus and its tasks.
void SwarmRuntime::check_pending(Watched& watched, const json& service) {
    if (!watched.pending) return;
    const json status = service.value("UpdateStatus", json::object());
    const std::string state = status.value("State", "");
    const bool ours = !status.empty() && status.value("StartedAt", "") != watched.pending->update_started;
    const int running = converged(watched);
    int others = 0;  // tasks still running another image
    for (const auto& [id, task] : watched.tasks)
        if (task.desired == "running" && task.state == "running" && task.image.rfind(watched.image, 0) != 0) ++others;
    const std::string message = status.value("Message", "");
    const std::string failures = failed_tasks(watched);
    const std::string swarm_name = names_.service(watched.name);
    if (ours && (state == "rollback_completed" || state == "rollback_paused" || state == "paused")) {
        return finish(watched, make_error(ErrorCode::rollout_failed,
                                          fmt::format("swarm {} the update of {}: {}{}",
                                                      state == "paused" ? "paused" : "rolled back", swarm_name,
                                                      message, failures.empty() ? "" : " (" + failures + ")")));
    }
    const bool updating = ours && (state == "updating" || state == "rollback_started");
    if (!updating && running >= watched.replicas && others == 0) {
        emit(RuntimeEventKind::state, watched.name,
             fmt::format("{} of {} tasks of {} run {}", running, watched.replicas, swarm_name, watched.image));
        return finish(watched, Ok{});
    }
    if (loop_.now() <= watched.pending->deadline) return;
    // Swarm can leave an update `updating` for good (a new task placed on a node that died):
    // it is rolled back here, so that what the cluster runs is again what this engine reports.
    if (updating && state == "updating") roll_back(watched, service);
    finish(watched, make_error(ErrorCode::timed_out,
                               fmt::format("swarm: {} of {} tasks of {} run the new image after the deadline{}{}",
                                           running, watched.replicas, swarm_name,
                                           failures.empty() ? "" : " (" + failures + ")",
                                           updating && state == "updating" ? "; asked swarm to roll the update back"
                                                                           : "")));
}

void SwarmRuntime::roll_back(Watched& watched, const json& service) {
    const auto version = service.value("Version", json::object()).value("Index", 0ull);
    const std::string name = watched.name;
    std::weak_ptr<bool> alive = alive_;
    client_.request_json("roll back service " + names_.service(name), "POST",
                         fmt::format("/services/{}/update?version={}&rollback=previous", watched.id, version),
                         service.value("Spec", json::object()).dump(), [this, alive, name](Result<json> done) {
        if (!live(alive)) return;
        if (!done) emit(RuntimeEventKind::failure, name, done.error().message, true);
        else emit(RuntimeEventKind::state, name, "asked swarm to roll back the stalled update of " + names_.service(name));
    });
}

std::optional<ServiceStatus> SwarmRuntime::service_status(const std::string& service) const {
    const auto it = services_.find(service);
    if (it == services_.end()) return std::nullopt;
    const Watched& watched = *it->second;
    ServiceStatus out;
    out.name = service;
    out.port = watched.public_port;
    for (const auto& [id, task] : watched.tasks) {
        if (task.desired != "running") continue;
        ReplicaStatus replica;
        replica.id = task.slot;
        const auto node = nodes_.find(task.node);
        replica.handle = fmt::format("task {} on {}", id.substr(0, 12),
                                     node == nodes_.end() ? task.node.substr(0, 12)
                                                          : node->second.hostname + " " + node->second.address);
        replica.port = task.published_port;
        replica.health = task.state == "running" ? Health::healthy
                         : task.state == "failed" || task.state == "rejected" ? Health::unhealthy
                                                                               : Health::unknown;
        // In service: behind the public port's proxy, or running, for a service without a port.
        replica.routed = watched.backends.count(id) > 0 || (!watched.proxy && task.state == "running");
        out.replicas.push_back(replica);
    }
    const int running = converged(watched);
    out.state = running >= watched.replicas ? ServiceState::ready
                : running > 0              ? ServiceState::degraded
                                           : ServiceState::crashed;
    out.errors.crashes = static_cast<int>(watched.failed.size());
    const Traffic served = traffic(service);
    out.errors.proxy_errors = static_cast<int>(served.unserved);
    out.proxy_connections = served.accepted;
    out.last_error = watched.last_error;
    return out;
}

}  // namespace tandem::swarm
