// ReleaseLoop's public face: start-up, requests queued to the worker, status and JSON.
#include "release/release_state.hpp"
#include <tandem/utc_time.hpp>

#include <tandem/git_tree.hpp>

#include "build/file_tree_builder.hpp"

#include <nlohmann/json.hpp>

namespace tandem {

Result<std::unique_ptr<ReleaseLoop>> ReleaseLoop::start(const Options& options, Executor& runtime,
                                                        EventHandler on_event) {
    if (options.repository.empty()) return make_error(ErrorCode::usage, "no repository given (--repo URL_OR_PATH)");
    auto state = std::make_unique<State>(options);
    state->runtime = &runtime;
    state->on_event = std::move(on_event);
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir, ec);
    if (ec)
        return make_error(ErrorCode::io, "cannot create the state directory: " + ec.message(),
                          SourceLocation{options.state_dir.string(), 0, 0});
    auto mirror = GitMirror::open(state->workspace.mirror(), options.repository);
    if (!mirror) return mirror.error();
    state->mirror.emplace(std::move(*mirror));
    state->store.emplace(state->workspace.store());
    State* events = state.get();
    state->builder = std::make_unique<FileTreeBuilder>(runtime, *state->store, state->workspace.builds(),
                                                       [events](const RuntimeEvent& e) {
                                                           if (events->on_event) events->on_event(e);
                                                       });
    if (options.image_builder)
        state->images = options.image_builder([events](const RuntimeEvent& e) {
            if (events->on_event) events->on_event(e);
        });
    auto history = ReleaseHistory::load(state->workspace.history_file());
    if (!history) return history.error();
    state->history = std::move(*history);
    // The deployed commit's project, so that status and requests know its policy at once.
    if (!state->history.deployed.empty()) {
        const auto snapshot = state->workspace.snapshots() / state->history.deployed / options.project_dir;
        if (auto project = load_project(snapshot.lexically_normal(), options.project)) state->deployed_project = std::move(*project);
    }
    if (const PolicySet policy = state->current_policy(); policy.audit.enabled) {
        std::lock_guard audit_lock(state->audit_mutex);
        if (Status opened = state->open_audit(policy); !opened) return opened.error();
    }
    State* raw = state.get();
    state->worker = std::thread([raw] { raw->run(); });
    return std::unique_ptr<ReleaseLoop>(new ReleaseLoop(std::move(state)));
}

ReleaseLoop::ReleaseLoop(std::unique_ptr<State> state) : state_(std::move(state)) {}

ReleaseLoop::~ReleaseLoop() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    if (state_->worker.joinable()) state_->worker.join();
    std::lock_guard audit_lock(state_->audit_mutex);
    state_->checkpoint(1);
}

namespace {

Result<ReleaseOutcome> queue(ReleaseLoop::State& s, ReleaseJob::Kind kind, std::string argument, std::string actor) {
    auto job = std::make_shared<ReleaseJob>();
    job->kind = kind;
    job->argument = std::move(argument);
    job->actor = std::move(actor);
    auto done = job->done.get_future();
    {
        std::lock_guard lock(s.mutex);
        if (s.stopping) return make_error(ErrorCode::cancelled, "the engine is stopping");
        s.jobs.push_back(job);
    }
    s.wake.notify_all();
    return done.get();
}

Status as_status(const Result<ReleaseOutcome>& outcome) {
    if (!outcome) return outcome.error();
    if (outcome->outcome == ChangeOutcome::refused) return make_error(ErrorCode::policy_denied, outcome->message);
    if (outcome->outcome == ChangeOutcome::failed) return make_error(ErrorCode::rollout_failed, outcome->message);
    return Ok{};
}

}  // namespace

Result<ReleaseOutcome> ReleaseLoop::sync(const std::string& actor) {
    return queue(*state_, ReleaseJob::Kind::sync, {}, actor);
}

Result<ReleaseOutcome> ReleaseLoop::rollback(const std::string& revision, const std::string& actor) {
    return queue(*state_, ReleaseJob::Kind::rollback, revision, actor);
}

Status ReleaseLoop::reset(const std::string& service, const std::string& actor) {
    return as_status(queue(*state_, ReleaseJob::Kind::reset, service, actor));
}

Status ReleaseLoop::trigger(const std::string& service, const std::string& actor) {
    return as_status(queue(*state_, ReleaseJob::Kind::trigger, service, actor));
}

Result<Plan> ReleaseLoop::diff(const std::string& revision) {
    // A mirror handle of its own: the worker's is not to be shared between threads.
    auto mirror = GitMirror::open(state_->workspace.mirror(), state_->options.repository);
    if (!mirror) return mirror.error();
    auto commit = mirror->resolve(revision);
    if (!commit) return commit.error();
    auto tree = GitTree::open(GitLocation{state_->workspace.mirror(), commit->id, state_->options.project_dir});
    if (!tree) return tree.error();
    auto project = load_project(tree->reader(), state_->options.project);
    if (!project) return project.error();
    const Observed observed = state_->runtime->observe();
    std::string deployed;
    {
        std::lock_guard lock(state_->mutex);
        deployed = state_->history.deployed;
    }
    auto changed = mirror->changed_paths(observed.empty() ? std::string{} : deployed, commit->id,
                                         state_->options.project_dir);
    if (!changed) return changed.error();
    PlanRequest request;
    request.changed_paths = std::move(*changed);
    request.bootstrap = state_->options.bootstrap;
    request.files_in_place = false;  // as a deploy plans it
    request.revision = commit->id;
    return make_plan(project->spec, observed, project->policy, request);
}

ReleaseStatus ReleaseLoop::status() const {
    std::lock_guard lock(state_->mutex);
    ReleaseStatus status;
    status.repository = state_->options.repository;
    status.ref = state_->options.ref;
    status.policy = state_->deployed_project ? state_->deployed_project->policy.name
                                             : state_->options.project.policy.value_or(state_->options.project.default_policy);
    status.head = state_->head;
    if (auto it = state_->history.rejected.find(status.head); it != state_->history.rejected.end())
        status.head_rejected = it->second;
    status.deployed = state_->history.deployed;
    if (const auto* record = state_->history.find(state_->history.deployed)) status.deployed_subject = record->subject;
    status.pinned = state_->history.pinned;
    status.busy = state_->busy;
    status.last_error = state_->last_error;
    status.last_fetch = state_->last_fetch;
    if (state_->watch.is_open()) {
        const auto left = state_->watch.ends() - std::chrono::steady_clock::now();
        status.revert_window_ends =
            std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(left);
    }
    status.deploys = state_->deploys;
    status.audit_records = state_->audit_records;
    status.history = state_->history;
    return status;
}

std::string ReleaseLoop::policy_name() const { return status().policy; }

Status ReleaseLoop::audit_denied(const std::string& what) {
    AuditEntry entry;
    entry.event = ChangeEvent::auth;
    entry.actor = release::actor::http;
    entry.outcome = ChangeOutcome::refused;
    entry.message = what;
    return state_->record(state_->current_policy(), std::move(entry));
}

void ReleaseLoop::runtime_event(const RuntimeEvent& event) {
    auto restart = state_->crash_restarts.feed(event);
    if (!restart) return;
    AuditEntry entry;
    entry.event = ChangeEvent::restart;
    entry.actor = release::actor::supervisor;
    entry.outcome = restart->started ? ChangeOutcome::succeeded : ChangeOutcome::failed;
    entry.message = "crash restart: " + restart->story;
    std::string digest;
    {
        std::lock_guard lock(state_->mutex);
        const auto from = state_->history.running_from.find(restart->service);
        entry.commit = from != state_->history.running_from.end() ? from->second : state_->history.deployed;
        if (const ReleaseRecord* record = state_->history.find(entry.commit))
            if (auto it = record->artifacts.find(restart->service); it != record->artifacts.end()) digest = it->second;
    }
    entry.services.push_back(AuditServiceChange{restart->service, digest, digest, "restart", {}, {}});
    if (auto recorded = state_->record(state_->current_policy(), std::move(entry)); !recorded)
        state_->emit(RuntimeEventKind::failure, "the audit record of a crash restart of " + restart->service +
                                                    " failed: " + recorded.error().to_string());
}

std::optional<int> ReleaseLoop::api_port() const {
    std::lock_guard lock(state_->mutex);
    return state_->deployed_project ? state_->deployed_project->spec.api_port : std::nullopt;
}

std::vector<AccessRole> ReleaseLoop::access_roles() const {
    std::lock_guard lock(state_->mutex);
    return state_->deployed_project ? state_->deployed_project->spec.roles : std::vector<AccessRole>{};
}
PolicySet ReleaseLoop::policy() const { return state_->current_policy(); }

std::optional<Spec> ReleaseLoop::deployed_spec() const {
    std::lock_guard lock(state_->mutex);
    return state_->deployed_project ? std::optional<Spec>(state_->deployed_project->spec) : std::nullopt;
}

std::filesystem::path ReleaseLoop::audit_path() const {
    const PolicySet policy = state_->current_policy();
    return policy.audit.enabled ? state_->options.state_dir / policy.audit.path : std::filesystem::path{};
}

void ReleaseLoop::wait_idle() {
    std::unique_lock lock(state_->mutex);
    state_->idle.wait(lock, [this] { return state_->stopping || (!state_->busy && state_->jobs.empty()); });
}

std::string to_json(const ReleaseOutcome& outcome, int indent) {
    return nlohmann::json{{"event", to_string(outcome.event)},
                          {"commit", outcome.commit},
                          {"outcome", to_string(outcome.outcome)},
                          {"message", outcome.message}}
        .dump(indent);
}

std::string to_json(const ReleaseStatus& status, int indent) {
    nlohmann::json j{{"repository", status.repository},
                     {"ref", status.ref},
                     {"policy", status.policy},
                     {"head", status.head},
                     {"head_rejected", status.head_rejected},
                     {"deployed", status.deployed},
                     {"deployed_subject", status.deployed_subject},
                     {"pinned", status.pinned},
                     {"busy", status.busy},
                     {"last_error", status.last_error},
                     {"last_fetch", status.last_fetch == std::chrono::system_clock::time_point{}
                                        ? std::string{}
                                        : format_utc(status.last_fetch)},
                     {"revert_window_ends",
                      status.revert_window_ends ? format_utc(*status.revert_window_ends) : std::string{}},
                     {"deploys", status.deploys},
                     {"audit_records", status.audit_records},
                     {"history", nlohmann::json::parse(to_json(status.history, -1))}};
    return j.dump(indent);
}

}  // namespace tandem
