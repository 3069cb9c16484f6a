// Carrying one plan out on the runtime's event loop: waves in order, the steps of a wave at once (up to
// the plan's max_parallel), each step's actions in order. The first failure stops new steps
// from starting; the ones running finish, then the outcome is reported.
#pragma once

#include "execute/service_setup.hpp"
#include "execute/service_supervisor.hpp"
#include "runtime/log_store.hpp"

#include <tandem/executor.hpp>
#include <tandem/plan.hpp>
#include <tandem/policy.hpp>
#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>

namespace tandem::execute {

// What an execution needs of the executor that owns it (all used on the loop thread).
struct ExecutionContext {
    Runtime* runtime = nullptr;
    std::filesystem::path project_root;  // this plan's: ApplyOptions::root, or the runtime's
    std::filesystem::path state_root;    // where `state:` directories live: ApplyOptions::state_root, or the runtime's
    std::filesystem::path build_root;    // what a sandboxed build may write: ApplyOptions::build_root, or project_root
    // ApplyOptions::verify_artifact: checks a service's artifact before each replica starts.
    std::function<Status(const std::string& service, const std::string& digest)> verify_artifact;
    process::LogStore* logs = nullptr;
    std::function<void(const RuntimeEvent&)> emit;
    // The supervisor of a service, created on first use.
    std::function<std::shared_ptr<ServiceSupervisor>(const std::string&)> supervisor;
    std::function<void(const std::string&)> forget;  // a stopped service's supervisor
    std::function<void(const std::string&, bool)> building;  // a service's build started / ended
};

class PlanExecution : public std::enable_shared_from_this<PlanExecution> {
public:
    PlanExecution(ExecutionContext context, Spec spec, PolicySet policy, Plan plan, std::function<void(Status)> done);
    void begin();
    // No new step or action starts; builds and commands under way are killed.
    void cancel();

private:
    void start_wave();
    void start_steps();
    void run_action(const Step& step, std::size_t index);
    void step_finished(const Status& status);
    void sync_files(const Action& action, std::function<void(Status)> done);
    void run_command(const Action& action, std::function<void(Status)> done);
    // A build or command's argv, working directory, env, user and (a build under
    // builds.sandbox) its sandbox.
    CommandLaunch command_launch(const Action& action) const;
    void roll_out(const Action& action, std::function<void(Status)> done);
    // Every service the plan touches: its user looked up, its state directories made.
    Status set_up_services();
    // Stops the service's replicas, empties its state directories, then runs its reset command
    // (if it has one); the step's next action starts it again.
    void reset_service(const Action& action, std::function<void(Status)> done);
    const ServiceSetup* setup_of(const std::string& service) const;

    ExecutionContext context_;
    Spec spec_;
    PolicySet policy_;
    Plan plan_;
    std::function<void(Status)> done_;
    std::size_t wave_ = 0;
    std::size_t next_step_ = 0;
    int running_ = 0;
    std::optional<Error> failure_;
    bool cancelled_ = false;
    std::vector<int> commands_;  // the runtime's ids of the builds and commands it started
    std::map<std::string, ServiceSetup> setups_;           // by service, made by begin()
};

// The replica rules one action carries, from the action and the policy set.
SupervisionRules supervision_rules(const Action& action, const PolicySet& policy);

// What the replicas of `service` run under `spec`, in `project_root`.
Release make_release(const Spec& spec, const ServiceSpec& service, const std::filesystem::path& project_root);

// What one start or replace action's replicas run: make_release, plus the action's artifact
// (the project root as a tree, named by its stored digest when it has one) and, when it has a
// digest, its check by `context.verify_artifact` before every start.
Release release_for(const Action& action, const Spec& spec, const ServiceSpec& service,
                    const ExecutionContext& context);

}  // namespace tandem::execute
