// A swarm update that waits for good: swarm's updater waits for each new task to run, and one
// placed on a node that then died never does (the manager only marks the dead node's tasks for
// shutdown and places replacements elsewhere; the updater keeps waiting, `updating`, with the old
// task of that slot still running). Found on a 3-node swarm with a worker powered off
// mid-update. The runtime sees it, gives swarm a grace, then ends it either way.
#include "runtime/docker/docker_json.hpp"
#include "runtime/swarm/swarm_runtime.hpp"

#include <fmt/format.h>

#include <set>

namespace tandem::swarm {

using nlohmann::json;

namespace {

// How long an update may wait on a task on a down node before it is ended: the node may come
// back (a manager restarting sees its workers down for a moment).
constexpr std::chrono::seconds kStallGrace{30};

bool before_running(const std::string& state) {
    static const std::set<std::string> early{"new", "pending", "assigned", "accepted", "preparing", "ready", "starting"};
    return early.count(state) > 0;
}

// "2026-12-02T22:58:55.12Z" -> {"2026-12-02T22:58:55", "120000000"}; the fraction has its
// trailing zeros cut, so it is compared as nine digits.
std::pair<std::string, std::string> time_parts(const std::string& at) {
    const std::string seconds = at.substr(0, std::min<std::size_t>(19, at.size()));
    std::string fraction;
    if (at.size() > 20 && at[19] == '.')
        for (std::size_t i = 20; i < at.size() && at[i] >= '0' && at[i] <= '9'; ++i) fraction += at[i];
    fraction.resize(9, '0');
    return {seconds, fraction};
}

}  // namespace

bool swarm_time_before(const std::string& a, const std::string& b) { return time_parts(a) < time_parts(b); }

std::optional<TaskView> stalled_update_task(const json& update_status, const std::string& image,
                                            const std::map<std::string, TaskView>& tasks,
                                            const std::map<std::string, NodeView>& nodes) {
    if (!update_status.is_object() || update_status.value("State", "") != "updating" || image.empty()) return std::nullopt;
    const std::string started = update_status.value("StartedAt", "");
    for (const auto& [id, task] : tasks) {
        if (task.image.rfind(image, 0) != 0 || !before_running(task.state)) continue;
        if (!started.empty() && !task.created.empty() && swarm_time_before(task.created, started)) continue;
        const auto node = nodes.find(task.node);
        if (node != nodes.end() && node->second.state == "down") return task;
    }
    return std::nullopt;
}

void SwarmRuntime::check_stall(Watched& watched, const json& service) {
    const auto task = stalled_update_task(service.value("UpdateStatus", json::object()), watched.image, watched.tasks, nodes_);
    if (!task) {
        watched.stalled_since.reset();
        return;
    }
    const auto now = loop_.now();
    const std::string swarm_name = names_.service(watched.name);
    if (!watched.stalled_since) {
        watched.stalled_since = now;
        emit(RuntimeEventKind::state, watched.name,
             fmt::format("swarm's update of {} waits on {}, on a node that is down", swarm_name,
                         describe_task(watched.name, *task)));
        return;
    }
    if (now - *watched.stalled_since < kStallGrace) return;
    watched.stalled_since = now;  // asked: again only if it still waits a grace later
    // Undone unless this engine recorded it deployed: then the cluster is made to run it.
    const bool undo = watched.pending || !watched.last_update_ok;
    if (undo) roll_back(watched, service);
    else force_update(watched, service);
    finish(watched, make_error(ErrorCode::rollout_failed,
                               fmt::format("swarm: the update of {} stalled for {} s on {}, on a node that is down; "
                                           "asked swarm to roll the update back",
                                           swarm_name, kStallGrace.count(), describe_task(watched.name, *task))));
}

// The same spec again with TaskTemplate.ForceUpdate raised: swarm starts the update anew and
// places every task of the spec on the nodes that are up.
void SwarmRuntime::force_update(Watched& watched, const json& service) {
    json spec = service.value("Spec", json::object());
    json& task_template = spec["TaskTemplate"];
    task_template["ForceUpdate"] = task_template.value("ForceUpdate", 0ull) + 1;
    const auto version = service.value("Version", json::object()).value("Index", 0ull);
    const std::string name = watched.name;
    std::weak_ptr<bool> alive = alive_;
    client_.request_json("update service " + names_.service(name) + " again", "POST",
                         fmt::format("/services/{}/update?version={}", watched.id, version), spec.dump(),
                         [this, alive, name](Result<json> done) {
        if (!live(alive)) return;
        if (!done) emit(RuntimeEventKind::failure, name, done.error().message, true);
        else emit(RuntimeEventKind::state, name, "started the stalled update of " + names_.service(name) + " again");
    });
}

}  // namespace tandem::swarm
