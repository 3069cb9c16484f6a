// Observed state to and from JSON: how a recorded state is handed to the planner.
#include <tandem/observed.hpp>

#include <nlohmann/json.hpp>

#include <array>

namespace tandem {

namespace {

constexpr std::array kStates{ServiceState::stopped, ServiceState::building, ServiceState::starting,
                             ServiceState::ready,   ServiceState::degraded, ServiceState::crashed,
                             ServiceState::completed};

Error bad_field(const std::string& file, const std::string& field, const std::string& what) {
    return make_error(ErrorCode::invalid_value, "'" + field + "': " + what, SourceLocation{file, 0, 0});
}

Result<ObservedService> service_from_json(const nlohmann::json& j, const std::string& name, const std::string& file) {
    const std::string at = "services." + name;
    if (!j.is_object()) return bad_field(file, at, "expected an object");
    ObservedService s;
    s.name = name;
    for (const auto& [key, value] : j.items()) {
        const std::string field = at + "." + key;
        if (key == "fingerprint" || key == "artifact_digest" || key == "state" || key == "last_error") {
            if (!value.is_string()) return bad_field(file, field, "expected a string");
        } else if (key == "replicas" || key == "healthy") {
            if (!value.is_number_integer() || value.get<long long>() < 0)
                return bad_field(file, field, "expected a whole number of 0 or more");
        } else {
            return make_error(ErrorCode::unknown_key,
                              "unknown field '" + field +
                                  "' (known: fingerprint, artifact_digest, replicas, healthy, state, last_error)",
                              SourceLocation{file, 0, 0});
        }
    }
    s.fingerprint = j.value("fingerprint", "");
    s.artifact_digest = j.value("artifact_digest", "");
    s.last_error = j.value("last_error", "");
    s.replicas = j.value("replicas", 1);
    s.healthy = j.value("healthy", s.replicas);
    const std::string state = j.value("state", "ready");
    bool known = false;
    for (auto candidate : kStates) {
        if (state == to_string(candidate)) {
            s.state = candidate;
            known = true;
        }
    }
    if (!known)
        return bad_field(file, at + ".state",
                         "'" + state + "' is not one of stopped, building, starting, ready, degraded, crashed");
    return s;
}

}  // namespace

Result<Observed> observed_from_json(std::string_view text, const std::string& file) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        return make_error(ErrorCode::syntax, std::string("invalid JSON: ") + e.what(), SourceLocation{file, 0, 0});
    }
    if (!doc.is_object()) return bad_field(file, "(top level)", "expected an object");
    Observed observed;
    for (const auto& [key, value] : doc.items()) {
        if (key == "revision") {
            if (!value.is_string()) return bad_field(file, key, "expected a string");
            observed.revision = value.get<std::string>();
        } else if (key == "services") {
            if (!value.is_object()) return bad_field(file, key, "expected an object of service name to state");
            for (const auto& [name, entry] : value.items()) {
                auto service = service_from_json(entry, name, file);
                if (!service) return service.error();
                observed.services.emplace(name, std::move(*service));
            }
        } else {
            return make_error(ErrorCode::unknown_key, "unknown field '" + key + "' (known: revision, services)",
                              SourceLocation{file, 0, 0});
        }
    }
    return observed;
}

std::string to_json(const Observed& observed, int indent) {
    nlohmann::json services = nlohmann::json::object();
    for (const auto& [name, s] : observed.services) {
        services[name] = {{"fingerprint", s.fingerprint}, {"artifact_digest", s.artifact_digest},
                          {"replicas", s.replicas},       {"healthy", s.healthy},
                          {"state", to_string(s.state)}};
        if (!s.last_error.empty()) services[name]["last_error"] = s.last_error;
    }
    return nlohmann::json{{"revision", observed.revision}, {"services", services}}.dump(indent);
}

}  // namespace tandem
