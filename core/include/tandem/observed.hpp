// What a runtime reports as running: the planner's second input.
#pragma once

#include <tandem/error.hpp>

#include <map>
#include <string>
#include <string_view>

namespace tandem {

// completed: a job (job: true) whose run exited 0.
enum class ServiceState { stopped, building, starting, ready, degraded, crashed, completed };

const char* to_string(ServiceState state);

struct ObservedService {
    std::string name;
    std::string fingerprint;      // fingerprint() of the spec it was started from
    std::string artifact_digest;  // "sha256:…" of the artifact it runs, empty if none
    int replicas = 0;             // replicas running
    int healthy = 0;              // replicas passing their health probe
    ServiceState state = ServiceState::stopped;
    std::string last_error;       // why it is not ready, when it is not

    // Whether what depends on it can start: it serves (some replicas may be unhealthy).
    // A job serves once it has completed.
    bool serving() const {
        return state == ServiceState::ready || state == ServiceState::degraded || state == ServiceState::completed;
    }
};

struct Observed {
    std::string revision;  // the revision last deployed, empty if none
    std::map<std::string, ObservedService> services;

    bool empty() const { return services.empty(); }
};

// Observed state as JSON, for planning against a recorded state (`plan --observed FILE`):
// {"revision": "...", "services": {"api": {"fingerprint": "sha256:...", "artifact_digest": "",
//  "replicas": 2, "healthy": 2, "state": "ready"}}}. Errors name `file` and the field.
Result<Observed> observed_from_json(std::string_view text, const std::string& file);
std::string to_json(const Observed& observed, int indent = 2);

}  // namespace tandem
