// Crash restarts the supervisor carries out on its own, followed through the runtime's events
// (a crash, "restarting in ...", then "replica N started" or a failure to start), so that each
// one becomes an audit record like any other change to what runs.
#pragma once

#include <tandem/runtime.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace tandem::release {

struct CrashRestart {
    std::string service;
    bool started = false;  // the new replica started; false: starting it failed
    std::string story;     // "replica 2 exited with code 3; restarting in 1s (crash 1); replica 3 started (pid 42, port 5001)"
};

class CrashRestarts {
public:
    // Feeds one runtime event; a restart that just ended (started or failed) is returned.
    // Safe from any thread.
    std::optional<CrashRestart> feed(const RuntimeEvent& event);

private:
    struct Pending {
        std::string crash;       // the crash event's text
        std::string restarting;  // the "restarting in" event's text; "" until it came
    };
    std::mutex mutex_;
    std::map<std::string, Pending> pending_;  // by service
};

}  // namespace tandem::release
