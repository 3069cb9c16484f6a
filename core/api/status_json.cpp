// Service statuses as JSON: the reply of the control socket's "status", and its reading back.
#include <tandem/control.hpp>

#include "api/status_json.hpp"

#include <tandem/utc_time.hpp>

#include <nlohmann/json.hpp>

#include <array>

namespace tandem {

using nlohmann::json;

namespace {

using Clock = std::chrono::system_clock;

// The UTC time; empty for a time never set.
std::string iso_time(Clock::time_point time) {
    return time.time_since_epoch().count() == 0 ? std::string{} : format_utc(time);
}

Clock::time_point parse_iso_time(const std::string& text) {
    auto time = parse_utc(text);
    return time ? *time : Clock::time_point{};
}

bool replica_ready(const ReplicaStatus& replica) { return replica.routed && replica.health != Health::unhealthy; }

Health health_from_name(const std::string& name) {
    if (name == "healthy") return Health::healthy;
    if (name == "unhealthy") return Health::unhealthy;
    return Health::unknown;
}

json service_json(const ServiceStatus& s) {
    json replicas = json::array();
    int ready = 0;
    for (const auto& r : s.replicas) {
        replicas.push_back({{"id", r.id}, {"handle", r.handle}, {"port", r.port}, {"health", to_string(r.health)},
                            {"routed", r.routed}, {"started", iso_time(r.started)}});
        if (replica_ready(r)) ++ready;
    }
    return json{{"name", s.name},         {"state", to_string(s.state)},  {"port", s.port},
                {"fingerprint", s.fingerprint}, {"replicas", replicas}, {"ready", ready},
                {"restarts", s.restarts}, {"last_error", s.last_error}, {"crash_lines", s.crash_lines},
                {"updated", iso_time(s.updated)}, {"artifact_digest", s.artifact_digest},
                {"errors", {{"crashes", s.errors.crashes}, {"probe_failures", s.errors.probe_failures},
                            {"failed_gates", s.errors.failed_gates}, {"proxy_errors", s.errors.proxy_errors}}},
                {"proxy_connections", s.proxy_connections}};
}

ServiceState state_from_name(const std::string& name) {
    constexpr std::array kStates{ServiceState::stopped, ServiceState::building, ServiceState::starting,
                                 ServiceState::ready,   ServiceState::degraded, ServiceState::crashed,
                             ServiceState::completed};
    for (ServiceState state : kStates)
        if (name == to_string(state)) return state;
    return ServiceState::stopped;
}

ServiceStatus service_from_json(const json& j) {
    ServiceStatus s;
    s.name = j.at("name").get<std::string>();
    s.state = state_from_name(j.value("state", "stopped"));
    s.port = j.value("port", 0);
    s.fingerprint = j.value("fingerprint", "");
    for (const auto& r : j.value("replicas", json::array())) {
        s.replicas.push_back(ReplicaStatus{r.value("id", 0), r.value("handle", ""), r.value("port", 0),
                                           health_from_name(r.value("health", "unknown")), r.value("routed", false),
                                           parse_iso_time(r.value("started", ""))});
    }
    s.restarts = j.value("restarts", 0);
    s.last_error = j.value("last_error", "");
    s.crash_lines = j.value("crash_lines", std::vector<std::string>{});
    s.updated = parse_iso_time(j.value("updated", ""));
    s.artifact_digest = j.value("artifact_digest", "");
    const json errors = j.value("errors", json::object());
    s.errors = ErrorCounts{errors.value("crashes", 0), errors.value("probe_failures", 0),
                           errors.value("failed_gates", 0), errors.value("proxy_errors", 0)};
    s.proxy_connections = j.value("proxy_connections", std::uint64_t{0});
    return s;
}

}  // namespace

json status_json(const std::vector<ServiceStatus>& services, const std::string& policy) {
    json list = json::array();
    for (const auto& s : services) list.push_back(service_json(s));
    return json{{"policy", policy}, {"services", std::move(list)}};
}

json engine_status_json(ControlHandler& engine) {
    json document = status_json(engine.status(), engine.policy_name());
    document["release"] = nullptr;
    document["revision"] = "";
    if (PreviewControl* previews = engine.previews()) {
        json list = json::parse(previews->list_json(), nullptr, false);
        document["previews"] = list.is_discarded() ? json::array() : std::move(list);
    }
    if (engine.source() != SourceKind::git) return document;
    if (auto release = engine.release_status()) {
        json parsed = json::parse(*release, nullptr, false);
        if (!parsed.is_discarded() && parsed.is_object()) {
            document["revision"] = parsed.value("deployed", "");
            document["release"] = std::move(parsed);
        }
    }
    return document;
}

std::string to_json(const std::vector<ServiceStatus>& services, const std::string& policy) {
    return status_json(services, policy).dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<StatusReply> status_from_json(std::string_view text) {
    json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("services") || !j["services"].is_array())
        return make_error(ErrorCode::syntax, "the engine's status reply is not the expected JSON");
    StatusReply reply;
    reply.policy = j.value("policy", "");
    try {
        for (const auto& s : j["services"]) reply.services.push_back(service_from_json(s));
    } catch (const json::exception& e) {
        return make_error(ErrorCode::syntax, std::string("the engine's status reply has a bad field: ") + e.what());
    }
    return reply;
}

}  // namespace tandem
