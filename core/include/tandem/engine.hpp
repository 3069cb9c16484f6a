// An engine: a source of truth followed by its loop, carried out by an executor over a
// runtime, with the control handler the socket and the HTTP API serve. What `devloop up`,
// `shipper run` and a program of your own run (examples/custom_tool):
//
//     tandem::EngineOptions options;
//     options.source = tandem::DiskSource{"/srv/shop"};
//     options.project.policy = "staging";  // a set tandem.yaml defines, or a built-in one
//     auto engine = tandem::Engine::start(std::move(options), print_event);
//     ...
//     engine.value().reset();  // stops the loop, then every service
//
// The source decides what the engine can do, not the tool: a disk source is watched and
// reconciled pass by pass (ReconcileLoop); a git source is followed commit by commit with
// history, rollback and audit (ReleaseLoop), under whatever policy set the project chooses.
#pragma once

#include <tandem/error.hpp>
#include <tandem/executor.hpp>
#include <tandem/project.hpp>
#include <tandem/reconcile_loop.hpp>
#include <tandem/release_loop.hpp>
#include <tandem/runtime.hpp>
#include <tandem/runtime_control.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace tandem {

// The project's files on disk, reconciled on every save.
struct DiskSource {
    std::filesystem::path root;       // the project directory (tandem.yaml's)
    bool watch = true;                // follow saves with inotify; false: only what changed() is told
    std::vector<std::string> only;    // restrict to these services and their dependencies
};

// A branch, tag or commit of a git repository, deployed commit by commit.
using GitSource = ReleaseLoop::Options;

struct EngineOptions {
    std::variant<DiskSource, GitSource> source;
    // Disk: tandem.yaml's name, --policy and the default set (a git source carries its own in
    // GitSource::project).
    ProjectOptions project;
    bool bootstrap = false;  // disk: the explicit flag for bringing everything up from nothing
    // Where the engine keeps its state: disk default `<root>/.tandem`; git: GitSource::state_dir.
    std::filesystem::path state_dir;
    // The runtime replicas run on; empty: the process runtime.
    std::function<std::unique_ptr<Runtime>()> runtime;
    // Called (on a server thread) when a client asks the engine to stop (`down`).
    std::function<void()> on_down;
};

class Engine {
public:
    using EventHandler = std::function<void(const RuntimeEvent&)>;

    // Starts the executor on its runtime, then the source's loop (its first pass or deploy
    // begins at once) and, for a watched disk source, the watcher. Errors name what failed.
    static Result<std::unique_ptr<Engine>> start(EngineOptions options, EventHandler on_event);
    ~Engine();  // stops the watcher and the loop (work in flight finishes or is cancelled), then every service

    Executor& executor();
    // What the control socket and the HTTP API serve: the operations this source supports.
    RuntimeControl& control();
    // The loop that follows the source: exactly one of them is set.
    ReconcileLoop* reconcile_loop();
    ReleaseLoop* release_loop();
    const std::filesystem::path& state_dir() const;
    std::size_t watched_directories() const;  // 0 unless a disk source is watched

    // The watcher and the loop stop (work in flight finishes or is cancelled); services keep
    // running until the executor stops them (executor().stop_all(), or the destructor).
    void stop_following();
    void kill_all();  // every replica, now (a second Ctrl+C); the destructor still stops the rest

    struct State;

private:
    explicit Engine(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace tandem
