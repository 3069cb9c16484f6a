// The reconcile loop: a worker thread that turns pending changes into one pass at a time
// (reload the spec if it changed, plan against what runs, carry the plan out), coalescing what
// arrives meanwhile and cancelling builds that a newer change overtakes (with `updates.coalesce:
// false`, each batch that arrives meanwhile gets a pass of its own, in order, and overtakes nothing).
#include <tandem/reconcile_loop.hpp>

#include "plan/changes.hpp"

#include <tandem/plan.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;

RuntimeEvent event(RuntimeEventKind kind, std::string text, std::string service = {}) {
    return RuntimeEvent{kind, std::move(service), std::move(text), 0, kind == RuntimeEventKind::failure,
                        std::chrono::system_clock::now()};
}

}  // namespace

// What the next pass must do; requests carry the promise of the caller waiting for them.
struct Pending {
    std::set<std::string> paths;
    std::vector<std::pair<std::string, std::promise<Status>>> triggers, resets;
    using Requests = std::vector<std::pair<std::string, std::promise<Status>>>;
    bool first = false;  // the pass that brings the project up
    bool empty() const { return paths.empty() && triggers.empty() && resets.empty() && !first; }
};

struct ReconcileLoop::State {
    Options options;
    Executor* runtime = nullptr;
    EventHandler on_event;
    mutable std::mutex mutex;
    std::condition_variable wake, idle;
    Project project;
    Pending pending;
    std::deque<Pending> queued;  // updates.coalesce false: batches that arrived during a pass, oldest first
    bool running_pass = false;
    bool stopping = false;
    std::set<std::string> building;  // services with a build in the running pass
    Status last = Ok{};
    Clock::time_point last_change{};
    bool after_cancel = false;  // the last pass was cancelled: let the burst that did it finish
    // The last pass left services it should run down or waiting for a dependency: look again
    // soon (a re-check pass starts what can start now, it replaces nothing).
    bool recheck = false;
    std::string reported;  // the last "waiting"/"not serving" sentence, said once per change
    Stats stats;
    std::thread worker;

    bool nothing_waits() const { return pending.empty() && queued.empty(); }
    // Where what arrives now goes (with the mutex held): the next pass's batch, or, under
    // `updates.coalesce: false` while a pass runs, a batch of its own.
    Pending& arrival_batch() {
        if (!running_pass || project.policy.updates.coalesce) return pending;
        return queued.emplace_back();
    }
    // The next pass's work: what is pending, else the oldest queued batch.
    Pending next_batch() {
        if (!pending.empty() || queued.empty()) return std::exchange(pending, Pending{});
        Pending work = std::move(queued.front());
        queued.pop_front();
        return work;
    }
    void emit(const RuntimeEvent& e) const {
        if (on_event) on_event(e);
    }
    void run();
    void pass(Pending work, bool recheck_only = false);
    void report(const Plan& plan, const Status& outcome, long long ms);
    bool reload_if_changed(std::set<std::string>& paths);
    bool overtakes_build(const std::vector<std::string>& paths) const;
    void settle(Pending& work, const Status& outcome);
    using RequestList = Pending::Requests;
    Status request(RequestList Pending::*list, const std::string& service);
};

bool ReconcileLoop::State::reload_if_changed(std::set<std::string>& paths) {
    // Any file the project was read from: tandem.yaml, compose files and their .env and env files.
    std::string changed;
    for (const auto& file : project.files)
        if (paths.erase(file) && changed.empty()) changed = file;
    if (changed.empty()) return false;
    auto reloaded = load_project(options.root, options.project);
    if (!reloaded) {
        emit(event(RuntimeEventKind::failure, reloaded.error().to_string() +
                                                  " — the services keep running with the last good spec"));
        return false;
    }
    for (const Error& warning : reloaded->warnings)
        emit(event(RuntimeEventKind::state, "warning: " + warning.to_string()));
    std::lock_guard lock(mutex);
    project = std::move(*reloaded);
    ++stats.reloads;
    const std::string& file = project.files.front();
    emit(event(RuntimeEventKind::state,
               changed == file ? "reloaded " + file : fmt::format("reloaded {} ({} changed)", file, changed)));
    return true;
}

// With cancel_in_flight, a change to a service whose build is running makes that build stale;
// unless the policy does not coalesce: then the change waits its turn and overtakes nothing.
bool ReconcileLoop::State::overtakes_build(const std::vector<std::string>& paths) const {
    const auto& updates = project.policy.updates;
    if (!updates.cancel_in_flight || !updates.coalesce || building.empty()) return false;
    for (const auto& name : building) {
        const ServiceSpec* service = project.spec.find(name);
        if (service && !match_changes(*service, paths).empty()) return true;
    }
    return false;
}

void ReconcileLoop::State::settle(Pending& work, const Status& outcome) {
    for (auto& [name, promise] : work.triggers) promise.set_value(outcome);
    for (auto& [name, promise] : work.resets) promise.set_value(outcome);
    work.triggers.clear();
    work.resets.clear();
}

namespace {

// What a re-check pass may do: start services that do not run (a dependency came up, a failed
// wave left them out). Replacing a running service is left to a change, a trigger or a reset.
void keep_starts_only(Plan& plan, const Observed& observed) {
    for (Wave& wave : plan.waves)
        std::erase_if(wave.steps, [&](const Step& step) { return observed.services.count(step.service) > 0; });
    std::erase_if(plan.waves, [](const Wave& wave) { return wave.steps.empty(); });
}

// The services in the spec that run but do not serve: "cache (crashed: replica 3 exited with code 1)".
std::vector<std::string> not_serving(const Spec& spec, const Observed& observed) {
    std::vector<std::string> out;
    for (const ServiceSpec& service : spec.services) {
        auto it = observed.services.find(service.name);
        if (it == observed.services.end() || it->second.serving()) continue;
        out.push_back(service.name + " (" + to_string(it->second.state) +
                      (it->second.last_error.empty() ? "" : ": " + it->second.last_error) + ")");
    }
    return out;
}

}  // namespace

// After a pass: "up to date" only when every service it should run serves and nothing waits;
// otherwise what does not serve and what waits, said once until it changes.
void ReconcileLoop::State::report(const Plan& plan, const Status& outcome, long long ms) {
    Spec spec;
    {
        std::lock_guard lock(mutex);
        spec = project.spec;
    }
    std::string text;
    for (const Waiting& w : plan.waiting) text += (text.empty() ? "" : "; ") + w.service + " waits: " + w.reason;
    const auto down = not_serving(spec, runtime->observe());
    for (const auto& d : down) text += (text.empty() ? "not serving: " : "; not serving: ") + d;
    std::lock_guard lock(mutex);
    recheck = !text.empty() || !outcome;
    if (text.empty()) {
        reported.clear();
        if (outcome && !plan.empty())
            emit(event(RuntimeEventKind::state,
                       "up to date (" + std::to_string(plan.action_count()) + " actions in " + std::to_string(ms) + " ms)"));
        return;
    }
    if (text == reported) return;
    reported = text;
    emit(event(RuntimeEventKind::state, text));
}

void ReconcileLoop::State::pass(Pending work, bool recheck_only) {
    reload_if_changed(work.paths);
    PlanRequest request;
    request.changed_paths.assign(work.paths.begin(), work.paths.end());
    for (auto& [name, promise] : work.triggers) request.trigger.push_back(name);
    for (auto& [name, promise] : work.resets) request.reset.push_back(name);
    request.only = options.only;
    request.bootstrap = options.bootstrap;
    Spec spec;
    PolicySet policy;
    {
        std::lock_guard lock(mutex);
        spec = project.spec;
        policy = project.policy;
    }
    const Observed observed = runtime->observe();
    auto plan = make_plan(spec, observed, policy, request);
    if (plan && recheck_only) keep_starts_only(*plan, observed);
    if (!plan) {
        emit(event(RuntimeEventKind::failure, plan.error().to_string()));
        settle(work, plan.error());
        last = plan.error();
        return;
    }
    if (plan->empty()) {
        settle(work, Ok{});
        report(*plan, Ok{}, 0);
        return;
    }
    {
        std::lock_guard lock(mutex);
        building.clear();
        for (const auto& wave : plan->waves)
            for (const auto& step : wave.steps)
                for (const auto& action : step.actions)
                    if (action.kind == ActionKind::build) building.insert(action.service);
    }
    const auto started = Clock::now();
    const Status outcome = runtime->apply(spec, policy, *plan);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    std::unique_lock lock(mutex);
    building.clear();
    if (!outcome && outcome.error().code == ErrorCode::cancelled) {
        // Do it again with what came since: the paths and requests go back in the queue.
        ++stats.cancelled;
        after_cancel = true;
        pending.paths.insert(work.paths.begin(), work.paths.end());
        for (auto& t : work.triggers) pending.triggers.push_back(std::move(t));
        for (auto& r : work.resets) pending.resets.push_back(std::move(r));
        return;
    }
    ++stats.passes;
    last = outcome;
    settle(work, outcome);
    lock.unlock();
    report(*plan, outcome, ms);
}

// After a cancelled pass, wait until the changes stop coming (kQuiet without one, at most
// kSettleLimit), so that a burst (a checkout, a formatter over the tree) cancels one build, not
// one per batch. The first change of a burst is still acted on at once.
constexpr auto kQuiet = std::chrono::milliseconds(50);
constexpr auto kSettleLimit = std::chrono::milliseconds(1000);
// How often a loop whose last pass left services down or waiting looks again.
constexpr auto kRecheck = std::chrono::milliseconds(250);

void ReconcileLoop::State::run() {
    std::unique_lock lock(mutex);
    for (;;) {
        const auto has_work = [this] { return stopping || !nothing_waits(); };
        if (!recheck) wake.wait(lock, has_work);
        else if (!wake.wait_for(lock, kRecheck, has_work)) {
            // Nothing new came: look again at what the last pass left down or waiting.
            running_pass = true;
            lock.unlock();
            pass(Pending{}, true);
            lock.lock();
            running_pass = false;
            if (nothing_waits()) idle.notify_all();
            continue;
        }
        if (after_cancel) {
            after_cancel = false;
            const auto limit = Clock::now() + kSettleLimit;
            while (!stopping && Clock::now() < limit && Clock::now() - last_change < kQuiet)
                wake.wait_until(lock, std::min(limit, last_change + kQuiet));
        }
        if (stopping) break;
        Pending work = next_batch();
        running_pass = true;
        lock.unlock();
        pass(std::move(work));
        lock.lock();
        running_pass = false;
        if (nothing_waits()) idle.notify_all();
    }
    settle(pending, make_error(ErrorCode::cancelled, "the loop stopped"));
    for (Pending& batch : queued) settle(batch, make_error(ErrorCode::cancelled, "the loop stopped"));
    running_pass = false;
    idle.notify_all();
}

Result<std::unique_ptr<ReconcileLoop>> ReconcileLoop::start(const Options& options, Executor& runtime,
                                                            EventHandler on_event) {
    auto project = load_project(options.root, options.project);
    if (!project) return project.error();
    auto state = std::make_unique<State>();
    state->options = options;
    state->runtime = &runtime;
    state->on_event = std::move(on_event);
    state->project = std::move(*project);
    state->pending.first = true;
    State* raw = state.get();
    state->worker = std::thread([raw] { raw->run(); });
    return std::unique_ptr<ReconcileLoop>(new ReconcileLoop(std::move(state)));
}

ReconcileLoop::ReconcileLoop(std::unique_ptr<State> state) : state_(std::move(state)) {}

ReconcileLoop::~ReconcileLoop() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->runtime->cancel();
    state_->wake.notify_all();
    if (state_->worker.joinable()) state_->worker.join();
}

void ReconcileLoop::changed(std::vector<std::string> paths) {
    if (paths.empty()) return;
    std::lock_guard lock(state_->mutex);
    if (state_->running_pass && state_->overtakes_build(paths)) {
        state_->emit(event(RuntimeEventKind::action, "a newer change overtook the running build: cancelling it"));
        state_->runtime->cancel();
    }
    state_->arrival_batch().paths.insert(paths.begin(), paths.end());
    state_->last_change = Clock::now();
    state_->wake.notify_all();
}

// Queues a request for the next pass and waits for that pass's outcome.
Status ReconcileLoop::State::request(RequestList Pending::*list, const std::string& service) {
    std::future<Status> done;
    {
        std::lock_guard lock(mutex);
        std::promise<Status> promise;
        done = promise.get_future();
        (arrival_batch().*list).emplace_back(service, std::move(promise));
        wake.notify_all();
    }
    return done.get();
}

Status ReconcileLoop::trigger(const std::string& service) { return state_->request(&Pending::triggers, service); }
Status ReconcileLoop::reset(const std::string& service) { return state_->request(&Pending::resets, service); }

Status ReconcileLoop::wait_idle() {
    std::unique_lock lock(state_->mutex);
    state_->idle.wait(lock, [this] { return state_->stopping || (!state_->running_pass && state_->nothing_waits()); });
    if (state_->stopping) return make_error(ErrorCode::cancelled, "the loop stopped");
    return state_->last;
}

std::string ReconcileLoop::policy_name() const {
    std::lock_guard lock(state_->mutex);
    return state_->project.policy.name;
}

PolicySet ReconcileLoop::policy() const {
    std::lock_guard lock(state_->mutex);
    return state_->project.policy;
}

Spec ReconcileLoop::spec() const {
    std::lock_guard lock(state_->mutex);
    return state_->project.spec;
}

ReconcileLoop::Stats ReconcileLoop::stats() const {
    std::lock_guard lock(state_->mutex);
    return state_->stats;
}

}  // namespace tandem
