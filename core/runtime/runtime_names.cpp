// Names of the executor's typed states, as status, events and metrics print them.
#include <tandem/runtime.hpp>

namespace tandem {

const char* to_string(Health health) {
    switch (health) {
        case Health::unknown: return "unknown";
        case Health::healthy: return "healthy";
        case Health::unhealthy: return "unhealthy";
    }
    return "unknown";
}

const char* to_string(ActionOutcome outcome) {
    switch (outcome) {
        case ActionOutcome::none: return "";
        case ActionOutcome::started: return "started";
        case ActionOutcome::succeeded: return "succeeded";
        case ActionOutcome::failed: return "failed";
        case ActionOutcome::cancelled: return "cancelled";
    }
    return "";
}

}  // namespace tandem
