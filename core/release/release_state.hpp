// The inside of ReleaseLoop, shared by its worker (release_loop.cpp) and the deploy steps
// (release_deploy.cpp). The worker thread alone changes the world; `mutex` guards what other
// threads read (status) and the job queue.
#pragma once

#include "release/crash_restarts.hpp"
#include "release/release_workspace.hpp"
#include "release/revert_watch.hpp"

#include <tandem/artifact_store.hpp>
#include <tandem/audit_log.hpp>
#include <tandem/builder.hpp>
#include <tandem/git_mirror.hpp>
#include <tandem/release_loop.hpp>

#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace tandem {

// A request from another thread, carried out by the worker in arrival order.
struct ReleaseJob {
    enum class Kind { sync, rollback, reset, trigger };
    Kind kind = Kind::sync;
    std::string argument;  // rollback: the revision; reset / trigger: the service
    std::string actor;
    std::promise<Result<ReleaseOutcome>> done;
};

struct ReleaseLoop::State {
    Options options;
    Executor* runtime = nullptr;
    EventHandler on_event;
    release::ReleaseWorkspace workspace;
    std::optional<GitMirror> mirror;
    std::optional<ArtifactStore> store;
    std::unique_ptr<Builder> builder;  // builds into `store`, on `runtime`
    std::unique_ptr<Builder> images;   // container services' images (Options::image_builder), or none
    std::mutex audit_mutex;           // record() runs on the worker and on API threads
    std::unique_ptr<AuditLog> audit;  // open while the policy audits
    std::unique_ptr<AuditCheckpointWriter> checkpoints;  // with Options::checkpoints

    mutable std::mutex mutex;
    std::condition_variable wake, idle;
    std::deque<std::shared_ptr<ReleaseJob>> jobs;
    bool busy = false;
    bool stopping = false;
    ReleaseHistory history;
    std::optional<Project> deployed_project;  // the spec and policy of history.deployed
    std::string head;
    std::string last_error;
    std::chrono::system_clock::time_point last_fetch;
    std::uint64_t deploys = 0, audit_records = 0;
    std::string bootstrap_refused;  // a head refused for want of --bootstrap: not retried by polls
    release::RevertWatch watch;
    release::CrashRestarts crash_restarts;  // fed from the runtime's thread (runtime_event)
    std::string stalled_commit;  // the worker's: the commit whose fetches time out (stalled_fetches.hpp)
    int stalled_fetches = 0;     // how many in a row
    int deploys_under_way = 0;  // the worker's: a revert deploys inside a deploy (interrupted_deploys.hpp)
    std::thread worker;

    explicit State(const Options& o) : options(o), workspace(o.state_dir) {}

    void emit(RuntimeEventKind kind, const std::string& text) const;
    // The policy in force: the deployed commit's, or (before any deploy) the one the options name.
    PolicySet current_policy() const;
    // Appends to the audit log of `policy` (opening or switching it as needed); an audit that
    // cannot be written is an error: the change must not be reported done without it.
    Status record(const PolicySet& policy, AuditEntry entry);
    // Opens the audit log of `policy` (verifying its chain) and the checkpoint writer, and
    // checkpoints a head that moved since the last checkpoint. With audit_mutex held.
    Status open_audit(const PolicySet& policy);
    // Signs a checkpoint of the log's head when it is `every` records past the last one (1:
    // whenever it moved); a failure is an event and the last error, not the change's.
    void checkpoint(std::uint64_t every);
    Status save_history();  // with the mutex held by the caller or on the worker alone

    void run();  // the worker
};

namespace release {

// The actors the loop names itself; a request's actor comes from its front-end ("sync command",
// "user root", ...) and is only recorded, never compared.
namespace actor {
inline constexpr const char* poll = "poll";                  // the fetch timer
inline constexpr const char* engine_start = "engine start";  // what an engine does as it starts
inline constexpr const char* auto_revert = "auto-revert";    // a revert after a bad release
inline constexpr const char* supervisor = "supervisor";      // a crash restart
inline constexpr const char* http = "http";                  // an API request refused (auth)
}  // namespace actor

// What to deploy and why.
struct DeployTarget {
    CommitInfo commit;
    ChangeEvent event = ChangeEvent::deploy;  // deploy, rollback, revert, recover
    std::string actor;
    bool bootstrap = false;                 // allow a from-scratch plan
    std::optional<ReleaseRecord> kept;      // redeploy these artifacts instead of building
    std::string reason;                     // revert: why
};

// Carries one target out: snapshot, project, plan, artifacts, rollout, audit and history.
ReleaseOutcome deploy(ReleaseLoop::State& state, const DeployTarget& target);

// Each changed service's replicas as `status` shows them, and its last failure (AuditServiceChange::replicas).
void note_replicas(std::vector<AuditServiceChange>& changes, const std::vector<ServiceStatus>& status);
// Marks `bad` (the deployed release, or an update whose rollout failed) as not to be deployed
// again and goes back to the last good release, from its stored artifacts.
ReleaseOutcome revert(ReleaseLoop::State& state, const std::string& bad, const std::string& why);

}  // namespace release
}  // namespace tandem
