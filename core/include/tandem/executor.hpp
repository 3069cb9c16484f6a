// The executor: carries plans out over a Runtime (tandem/runtime.hpp) and supervises what they
// started: rollouts, health gating, crash restarts with backoff, the logs of every service.
// It runs on the runtime's event loop; every call here is safe from any thread.
#pragma once

#include <tandem/error.hpp>
#include <tandem/observed.hpp>
#include <tandem/plan.hpp>
#include <tandem/policy.hpp>
#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tandem {

struct ExecutorOptions {
    std::filesystem::path project_root;  // where services and builds run (each in its workdir)
    // Logs, the runtime's own records (the process runtime: replicas.json), and (under state/)
    // the services' `state:` directories unless a plan's ApplyOptions::state_root puts them elsewhere.
    std::filesystem::path state_dir;
    // Names what a runtime makes for the project (containers "<project>-<service>-<replica>-…",
    // its network and volumes); empty: project_root's directory name.
    std::string project_name;
    std::size_t log_ring_lines = 5000;   // per service, in memory
    std::size_t log_file_bytes = 10 * 1024 * 1024;  // per service file, before it rotates
};

// Where and how one plan runs.
struct ApplyOptions {
    // Builds, commands and replicas run here (each in its service's workdir); empty means
    // ExecutorOptions::project_root. Shipper passes the release directory of a commit.
    std::filesystem::path root;
    // Where the services' `state:` directories live (`${state.NAME}` is state_root/NAME); empty
    // means ExecutorOptions::state_dir / "state". Never inside `root` when that is read-only:
    // shipper passes `<its state dir>/state`, outside every release.
    std::filesystem::path state_root;
    // What a build may write under the policy knob builds.sandbox (besides a private /tmp);
    // empty means `root`. Shipper passes the scratch copy of the commit that `root` lies in.
    std::filesystem::path build_root;
    // Called before every start of a replica of a service whose action carries an
    // artifact_digest (crash restarts included); an error refuses the start and is reported.
    // It is kept with the service's replicas after apply() returns, and called on the
    // executor's loop thread: what it captures must live as long as those replicas run.
    std::function<Status(const std::string& service, const std::string& digest)> verify_artifact;
};

class Executor {
public:
    using EventHandler = std::function<void(const RuntimeEvent&)>;

    // Opens `runtime` (which stops what a killed engine left; reported as events) and runs on its loop.
    static Result<std::unique_ptr<Executor>> start(std::unique_ptr<Runtime> runtime, const ExecutorOptions& options,
                                                   EventHandler on_event);
    // The same over the process runtime (tandem/process_runtime.hpp), the embedded default.
    static Result<std::unique_ptr<Executor>> start(const ExecutorOptions& options, EventHandler on_event);
    ~Executor();  // stops every service, then the runtime

    // Carries a plan out: waves in order, steps of a wave at once (up to plan.max_parallel),
    // each step's actions in order. Blocks until done; the first failure ends the plan and is
    // returned. `spec` and `policy` are the ones the plan was made from.
    Status apply(const Spec& spec, const PolicySet& policy, const Plan& plan, const ApplyOptions& options = {});

    // Cancels the plan apply() is carrying out, if any: no new step starts, running builds and
    // commands are killed, rollouts under way finish on their own. apply() returns an
    // ErrorCode::cancelled error at once. Safe from any thread; does nothing when no plan runs.
    void cancel();

    Observed observe() const;
    std::vector<ServiceStatus> status() const;
    std::vector<std::string> logs(const std::string& service, std::size_t count) const;
    // Every service, each with its grace period; blocks until all are gone. A service a cluster
    // runs (Runtime::orchestrates) keeps running there: the engine only stops serving it.
    void stop_all();
    // Kills every replica now, from any thread: a stop_all() under way returns once they are
    // gone (a second Ctrl+C).
    void kill_all();

    // After stop_all(): removes what the runtime keeps of the project outside the state
    // directory (Runtime::discard_data: Docker's named volumes). Blocks until done.
    Status discard_data();

    std::string_view runtime_name() const;

    struct State;

private:
    explicit Executor(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace tandem
