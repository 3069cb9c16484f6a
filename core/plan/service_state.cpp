// Names of the observed states of a service, as status output and JSON write them.
#include <tandem/observed.hpp>

namespace tandem {

const char* to_string(ServiceState state) {
    switch (state) {
        case ServiceState::stopped: return "stopped";
        case ServiceState::building: return "building";
        case ServiceState::starting: return "starting";
        case ServiceState::ready: return "ready";
        case ServiceState::degraded: return "degraded";
        case ServiceState::crashed: return "crashed";
        case ServiceState::completed: return "completed";
    }
    return "unknown";
}

}  // namespace tandem
