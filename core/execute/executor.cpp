// Executor: the services' supervisors and the plan under way, on the runtime's event loop; the
// public calls hop onto that loop and wait for their answer.
#include <tandem/executor.hpp>

#include "execute/plan_execution.hpp"
#include "execute/service_supervisor.hpp"
#include "runtime/log_store.hpp"

#include <future>

namespace tandem {

using namespace tandem::execute;  // this file is the seam between the public API and execute/

struct Executor::State {
    ExecutorOptions options;
    EventHandler on_event;
    std::unique_ptr<Runtime> runtime;
    std::unique_ptr<process::LogStore> logs;
    std::map<std::string, std::shared_ptr<ServiceSupervisor>> services;
    std::weak_ptr<PlanExecution> execution;  // the plan apply() is carrying out
    std::map<std::string, int> building;     // services whose build runs now (status shows them building)

    void emit(const RuntimeEvent& event) const {
        if (on_event) on_event(event);
    }

    // Runs `fn` on the loop thread and waits for its result.
    template <class Fn>
    auto on_loop(Fn fn) -> decltype(fn()) {
        if (runtime->loop().on_loop_thread()) return fn();
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        runtime->loop().post([&task] { task(); });
        return result.get();
    }

    std::shared_ptr<ServiceSupervisor> supervisor(const std::string& name) {
        auto& slot = services[name];
        if (!slot) {
            SupervisorHooks hooks;
            hooks.emit = [this](const RuntimeEvent& e) { emit(e); };
            hooks.logs = logs.get();
            slot = std::make_shared<ServiceSupervisor>(*runtime, name, std::move(hooks));
        }
        return slot;
    }

    ExecutionContext context(const ApplyOptions& apply) {
        ExecutionContext context;
        context.runtime = runtime.get();
        context.project_root = apply.root.empty() ? options.project_root : apply.root;
        context.state_root = apply.state_root.empty() ? options.state_dir / "state" : apply.state_root;
        context.build_root = apply.build_root.empty() ? context.project_root : apply.build_root;
        context.verify_artifact = apply.verify_artifact;
        context.logs = logs.get();
        context.emit = [this](const RuntimeEvent& e) { emit(e); };
        context.supervisor = [this](const std::string& name) { return supervisor(name); };
        context.building = [this](const std::string& name, bool started) {
            int& count = building[name];
            count += started ? 1 : -1;
            if (count <= 0) building.erase(name);
        };
        context.forget = [this](const std::string& name) { services.erase(name); };
        return context;
    }
};

Result<std::unique_ptr<Executor>> Executor::start(std::unique_ptr<Runtime> runtime, const ExecutorOptions& options,
                                                  EventHandler on_event) {
    auto state = std::make_unique<State>();
    state->options = options;
    state->on_event = std::move(on_event);
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir / "logs", ec);
    if (ec)
        return make_error(ErrorCode::io, "cannot create the state directory '" + options.state_dir.string() +
                                             "': " + ec.message());
    process::LogStore::Limits limits;
    limits.ring_lines = options.log_ring_lines;
    limits.file_bytes = options.log_file_bytes;
    state->logs = std::make_unique<process::LogStore>(options.state_dir / "logs", limits);
    State* raw = state.get();
    if (auto opened = runtime->open([raw](const RuntimeEvent& e) { raw->emit(e); }); !opened) return opened.error();
    state->runtime = std::move(runtime);
    return std::unique_ptr<Executor>(new Executor(std::move(state)));
}

Executor::Executor(std::unique_ptr<State> state) : state_(std::move(state)) {}

Executor::~Executor() {
    stop_all();
    // The supervisors go on the loop thread, before the runtime (and its loop) goes.
    state_->on_loop([this] {
        state_->services.clear();
        return 0;
    });
    state_->runtime.reset();
}

std::string_view Executor::runtime_name() const { return state_->runtime->name(); }

Status Executor::apply(const Spec& spec, const PolicySet& policy, const Plan& plan, const ApplyOptions& options) {
    std::promise<Status> outcome;
    auto result = outcome.get_future();
    state_->runtime->loop().post([this, &spec, &policy, &plan, &options, &outcome] {
        state_->runtime->use_spec(spec);
        auto execution = std::make_shared<PlanExecution>(state_->context(options), spec, policy, plan,
                                                         [&outcome](Status s) { outcome.set_value(std::move(s)); });
        state_->execution = execution;
        execution->begin();
    });
    return result.get();
}

void Executor::cancel() {
    state_->runtime->loop().post([this] {
        if (auto execution = state_->execution.lock()) execution->cancel();
    });
}

Observed Executor::observe() const {
    return state_->on_loop([this] {
        Observed observed;
        for (const auto& [name, supervisor] : state_->services) {
            const ServiceStatus s = supervisor->status();
            ObservedService o;
            o.name = name;
            o.fingerprint = s.fingerprint;
            o.artifact_digest = s.artifact_digest;
            o.replicas = static_cast<int>(s.replicas.size());
            for (const auto& r : s.replicas) o.healthy += r.health == Health::healthy ? 1 : 0;
            o.state = s.state;
            if (!o.serving()) o.last_error = s.last_error;
            observed.services.emplace(name, o);
        }
        return observed;
    });
}

std::vector<ServiceStatus> Executor::status() const {
    return state_->on_loop([this] {
        std::vector<ServiceStatus> out;
        for (const auto& [name, supervisor] : state_->services) {
            out.push_back(supervisor->status());
            if (state_->building.count(name)) out.back().state = ServiceState::building;
        }
        // A new service's first build: no replicas yet, but it is on its way.
        for (const auto& [name, count] : state_->building) {
            if (state_->services.count(name)) continue;
            ServiceStatus building;
            building.name = name;
            building.state = ServiceState::building;
            building.updated = std::chrono::system_clock::now();
            out.push_back(std::move(building));
        }
        return out;
    });
}

std::vector<std::string> Executor::logs(const std::string& service, std::size_t count) const {
    std::vector<std::string> out;
    for (const auto& line : state_->logs->tail(service, count)) out.push_back(format_log_line(line));
    return out;
}

void Executor::kill_all() {
    state_->runtime->loop().post([this] { state_->runtime->kill_all(); });
}

Status Executor::discard_data() {
    std::promise<Status> outcome;
    auto done = outcome.get_future();
    state_->runtime->loop().post([this, &outcome] {
        state_->runtime->discard_data([&outcome](Status status) { outcome.set_value(std::move(status)); });
    });
    return done.get();
}

void Executor::stop_all() {
    std::promise<void> all_stopped;
    auto done = all_stopped.get_future();
    state_->runtime->loop().post([this, &all_stopped] {
        auto services = state_->services;
        if (services.empty()) {
            all_stopped.set_value();
            return;
        }
        auto remaining = std::make_shared<std::size_t>(services.size());
        for (auto& [name, supervisor] : services) {
            supervisor->stop_at_exit([this, remaining, &all_stopped] {
                if (--*remaining > 0) return;
                state_->services.clear();
                all_stopped.set_value();
            });
        }
    });
    done.wait();
}

}  // namespace tandem
