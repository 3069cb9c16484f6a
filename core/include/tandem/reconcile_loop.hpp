// The loop that keeps a running project equal to its files on disk: changed paths go in,
// plans come out and are carried out on the runtime one at a time. The first change of a burst
// starts a pass at once; what arrives while a pass runs is coalesced into one more pass (with
// `updates.coalesce: false`, each batch gets a pass of its own, in order); with
// `updates.cancel_in_flight` (and coalescing), a change that overtakes a running build cancels it.
#pragma once

#include <tandem/error.hpp>
#include <tandem/project.hpp>
#include <tandem/executor.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tandem {

class ReconcileLoop {
public:
    struct Options {
        std::filesystem::path root;      // the project directory on disk
        ProjectOptions project;          // tandem.yaml's name, --policy, the default policy
        std::vector<std::string> only;   // restrict to these services and their dependencies
        bool bootstrap = false;          // the explicit flag for bringing everything up from nothing
    };
    struct Stats {
        std::uint64_t passes = 0;     // passes that planned something and carried it out
        std::uint64_t cancelled = 0;  // passes cancelled by a newer change
        std::uint64_t reloads = 0;    // tandem.yaml reloaded
    };
    using EventHandler = std::function<void(const RuntimeEvent&)>;

    // Loads the project (an error here is returned: nothing runs yet) and starts the worker,
    // whose first pass brings the project up.
    static Result<std::unique_ptr<ReconcileLoop>> start(const Options& options, Executor& runtime,
                                                        EventHandler on_event);
    ~ReconcileLoop();  // cancels work in flight and stops the worker; services keep running

    // Paths relative to the root that changed (from the watcher). Returns at once.
    void changed(std::vector<std::string> paths);
    // Rebuild and restart a service / run its reset command, and what depends on it; blocks until
    // the pass that carries it out is done, and returns its outcome.
    Status trigger(const std::string& service);
    Status reset(const std::string& service);
    // Blocks until nothing is pending or running; returns the last pass's outcome.
    Status wait_idle();

    std::string policy_name() const;
    PolicySet policy() const;  // the active set, as of the last (re)load of tandem.yaml
    Spec spec() const;         // the spec, as of the last good (re)load of tandem.yaml
    Stats stats() const;

    struct State;

private:
    explicit ReconcileLoop(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace tandem
