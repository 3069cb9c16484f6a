// A plan as JSON for programs: every field of every action that applies to its kind.
#include <tandem/plan.hpp>

#include <nlohmann/json.hpp>

namespace tandem {

namespace {

using Json = nlohmann::ordered_json;

bool is_launch(ActionKind kind) { return kind == ActionKind::start || kind == ActionKind::replace; }

bool has_command(ActionKind kind) {
    return kind == ActionKind::build || kind == ActionKind::run || kind == ActionKind::reset;
}

Json rollout_json(const RolloutParams& rollout) {
    return Json{{"strategy", to_string(rollout.strategy)},
                {"max_surge", rollout.max_surge},
                {"max_unavailable", rollout.max_unavailable},
                {"health_gate", rollout.health_gate},
                {"gate_timeout_ms", rollout.gate_timeout.count()},
                {"drain_timeout_ms", rollout.drain_timeout.count()}};
}

Json container_json(const ContainerSpec& container, bool pin_digest) {
    Json out{{"command", container.command}, {"pin_digest", pin_digest}};
    if (!container.image.empty()) out["image"] = container.image;
    if (container.build) {
        Json args = Json::object();
        for (const auto& [key, value] : container.build->args) args[key] = value;
        out["build"] = Json{{"context", container.build->context},
                            {"dockerfile", container.build->dockerfile},
                            {"target", container.build->target},
                            {"args", std::move(args)}};
    }
    Json volumes = Json::array();
    for (const VolumeSpec& volume : container.volumes)
        volumes.push_back(Json{{"kind", volume.kind == VolumeSpec::Kind::bind ? "bind" : volume.kind == VolumeSpec::Kind::tmpfs ? "tmpfs" : "named"},
                               {"source", volume.source},
                               {"target", volume.target},
                               {"read_only", volume.read_only}});
    out["volumes"] = std::move(volumes);
    return out;
}

Json action_json(const Action& action) {
    Json out{{"kind", to_string(action.kind)}, {"service", action.service}, {"reason", action.reason}};
    if (has_command(action.kind)) out["command"] = action.command;
    if (!action.paths.empty()) out["paths"] = action.paths;
    if (!action.state.empty()) out["state"] = action.state;
    if (action.kind == ActionKind::build) {
        out["cancellable"] = action.cancellable;
        out["immutable"] = action.immutable;
        out["sandboxed"] = action.sandboxed;
    }
    if (is_launch(action.kind)) {
        out["replicas"] = action.replicas;
        if (!action.artifact_digest.empty()) out["artifact_digest"] = action.artifact_digest;
        if (action.container) out["container"] = container_json(*action.container, action.pin_digest);
        if (action.rollout) out["rollout"] = rollout_json(*action.rollout);
        out["verify_digest"] = action.verify_digest;
        out["on_crash"] = to_string(action.on_crash);
        if (action.kind == ActionKind::replace) out["auto_revert"] = action.auto_revert;
        Json env = Json::object();
        for (const auto& [key, value] : action.env) env[key] = value;
        out["env"] = std::move(env);
    }
    return out;
}

}  // namespace

std::string to_json(const Plan& plan, int indent) {
    Json waves = Json::array();
    for (const Wave& wave : plan.waves) {
        Json steps = Json::array();
        for (const Step& step : wave.steps) {
            Json actions = Json::array();
            for (const Action& action : step.actions) actions.push_back(action_json(action));
            steps.push_back(Json{{"service", step.service}, {"actions", std::move(actions)}});
        }
        waves.push_back(Json{{"steps", std::move(steps)}});
    }
    Json waiting = Json::array();
    for (const Waiting& w : plan.waiting)
        waiting.push_back(Json{{"service", w.service}, {"dependency", w.dependency}, {"reason", w.reason}});
    Json out{{"policy", plan.policy},
             {"revision", plan.revision},
             {"bootstrap", plan.bootstrap},
             {"incident", plan.incident},
             {"max_parallel", plan.max_parallel},
             {"audit_path", plan.audit_path ? Json(*plan.audit_path) : Json(nullptr)},
             {"history_keep", plan.history_keep},
             {"waves", std::move(waves)},
             {"waiting", std::move(waiting)}};
    // Paths and env values need not be UTF-8; replace bad bytes rather than throw.
    return out.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace tandem
