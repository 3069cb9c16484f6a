// The harness loop (shipper): keeps the running project equal to the newest commit of a
// branch of a git repository. It fetches into a bare mirror on an interval and on demand,
// deploys one commit at a time (commits that arrive meanwhile coalesce to the newest; with
// `updates.coalesce: false`, each is deployed in turn),
// builds each service's artifact in a snapshot of the commit and runs it from the
// content-addressed store, keeps the last revisions for rollback, reverts a release that
// throws too many errors in the window after its rollout, and appends every change to the
// audit log. What it may do is read from the policy set's knobs.
#pragma once

#include <tandem/audit_checkpoint.hpp>
#include <tandem/builder.hpp>
#include <tandem/change_event.hpp>
#include <tandem/error.hpp>
#include <tandem/git_mirror.hpp>
#include <tandem/plan.hpp>
#include <tandem/project.hpp>
#include <tandem/release_history.hpp>
#include <tandem/executor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tandem {

// The outcome of one change the loop carried out (or refused), as audited.
struct ReleaseOutcome {
    ChangeEvent event = ChangeEvent::none;  // deploy, rollback, revert, recover, bootstrap, refused, none, ...
    std::string commit;                     // the commit it was about
    ChangeOutcome outcome = ChangeOutcome::succeeded;  // succeeded, failed, refused, reverted, up to date, ...
    std::string message;
};

struct ReleaseStatus {
    std::string repository, ref;
    std::string policy;
    std::string head;          // the newest commit of `ref` fetched
    std::string head_rejected; // why `head` is not deployed when it was rejected ("reverted: ..."); "" otherwise
    std::string deployed;      // the commit running; "" before the first deploy
    std::string deployed_subject;
    bool pinned = false;       // a rollback pinned `deployed` until a newer commit arrives
    bool busy = false;         // a deploy is under way
    std::string last_error;    // the last refusal or failure, for people; "" if none
    std::chrono::system_clock::time_point last_fetch;
    std::optional<std::chrono::system_clock::time_point> revert_window_ends;  // while errors are watched
    std::uint64_t deploys = 0;        // deploys, rollbacks, reverts and recoveries carried out since start
    std::uint64_t audit_records = 0;  // records appended since start
    ReleaseHistory history;
};

class ReleaseLoop {
public:
    struct Options {
        std::string repository;           // a path or a URL libgit2 can fetch
        std::string ref = "main";         // branch, tag or commit id to follow
        std::string project_dir;          // where tandem.yaml lives inside the repository ("" = top)
        std::filesystem::path state_dir;  // mirror, snapshots, releases, store, history, audit
        ProjectOptions project;           // config file name, --policy, the default policy
        Duration poll{2000};              // fetch this often; 0: only on sync()
        bool bootstrap = false;           // allow bringing everything up from nothing
        std::optional<std::filesystem::path> allowed_signers;  // deploy only commits signed by these
        FetchOptions fetch;               // ssh key, known hosts, https token, fetch timeout
        // Sign checkpoints of the audit log's head (at start, every `audit.checkpoint_every`
        // records, at shutdown) and commit them to this repository; none when unset.
        std::optional<AuditCheckpointSigning> checkpoints;
        // Makes the Builder of container services' images (tandem::make_image_builder), given
        // where its events go. Used under artifacts.immutable: each image is built or resolved
        // ahead of the deploy and runs by image ID, which the plan, the audit record and the
        // history carry, and a rollback reuses. Unset: container services are built by the
        // plan's build action and run by reference.
        std::function<std::unique_ptr<Builder>(std::function<void(const RuntimeEvent&)>)> image_builder;
    };
    using EventHandler = std::function<void(const RuntimeEvent&)>;

    // Opens the mirror and the audit log, loads the history, and starts the worker: it first
    // restores the deployed revision if the engine restarted with nothing running, then
    // follows `ref`. Errors here (a bad repository, an unreadable state directory, an audit
    // log whose chain does not verify, a checkpoint key that cannot sign) are returned.
    static Result<std::unique_ptr<ReleaseLoop>> start(const Options& options, Executor& runtime,
                                                      EventHandler on_event);
    ~ReleaseLoop();  // finishes the change under way (its audit record included), checkpoints the audit log, then stops

    // Fetches now and deploys the newest commit if it is new; blocks until that is done.
    Result<ReleaseOutcome> sync(const std::string& actor);
    // Redeploys a kept revision (the one before the deployed one when `revision` is empty)
    // from its stored artifacts, without a build, and pins it until a newer commit arrives.
    Result<ReleaseOutcome> rollback(const std::string& revision, const std::string& actor);
    // What deploying `revision` (a commit, branch or tag of the mirror) would change now.
    Result<Plan> diff(const std::string& revision);
    // A service's reset / a restart of it, within the deployed revision, as the policy allows;
    // a refusal is audited.
    Status reset(const std::string& service, const std::string& actor);
    Status trigger(const std::string& service, const std::string& actor);

    // Records an API request refused for want of a token or role (event "auth", outcome
    // "refused") when the policy audits. Safe from any thread.
    Status audit_denied(const std::string& what);

    // Feed every runtime event here (shipper run does): a crash restart the supervisor carries
    // out on its own is audited (event "restart", actor "supervisor") once the new replica
    // started or failed to. Safe from any thread.
    void runtime_event(const RuntimeEvent& event);

    ReleaseStatus status() const;
    std::vector<AccessRole> access_roles() const;  // the deployed project's `access.roles`
    std::optional<int> api_port() const;           // the deployed project's `access.port`, if set
    std::string policy_name() const;
    PolicySet policy() const;  // the deployed commit's set (before any deploy: the one the options name)
    std::optional<Spec> deployed_spec() const;  // the deployed commit's spec; none before any deploy
    std::filesystem::path audit_path() const;  // "" when the policy does not audit
    // Blocks until the worker has nothing to do (the revert window may still be open).
    void wait_idle();

    struct State;

private:
    explicit ReleaseLoop(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

std::string to_json(const ReleaseStatus& status, int indent = 2);
std::string to_json(const ReleaseOutcome& outcome, int indent = 2);

}  // namespace tandem
