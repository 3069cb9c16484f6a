// What a runtime reports as running: the planner's second input.
#pragma once

#include <map>
#include <string>

namespace tandem {

enum class ServiceState { stopped, building, starting, ready, degraded, crashed };

const char* to_string(ServiceState state);

struct ObservedService {
    std::string name;
    std::string fingerprint;      // fingerprint() of the spec it was started from
    std::string artifact_digest;  // "sha256:…" of the artifact it runs, empty if none
    int replicas = 0;             // replicas running
    int healthy = 0;              // replicas passing their health probe
    ServiceState state = ServiceState::stopped;
};

struct Observed {
    std::string revision;  // the revision last deployed, empty if none
    std::map<std::string, ObservedService> services;

    bool empty() const { return services.empty(); }
};

}  // namespace tandem
