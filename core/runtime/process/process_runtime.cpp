// ProcessRuntime: the event loop thread, the services' supervisors, the record of running
// replicas in the state directory, and plans carried out on them.
#include <tandem/runtime.hpp>

#include "support/asio.hpp"
#include "runtime/log_store.hpp"
#include "runtime/process/plan_execution.hpp"
#include "runtime/process/runtime_state.hpp"
#include "runtime/process/service_supervisor.hpp"

#include <future>
#include <thread>

namespace tandem {

using namespace tandem::process;  // this file is the seam between the public API and process/

struct ProcessRuntime::State {
    RuntimeOptions options;
    EventHandler on_event;
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread loop;
    std::unique_ptr<LogStore> logs;
    std::unique_ptr<RuntimeStateFile> state_file;
    std::map<std::string, std::shared_ptr<ServiceSupervisor>> services;
    std::weak_ptr<PlanExecution> execution;  // the plan apply() is carrying out
    std::map<std::string, int> building;     // services whose build runs now (status shows them building)
    std::map<pid_t, ReplicaRecord> commands; // builds, run actions and resets running now, recorded with the replicas

    void emit(const RuntimeEvent& event) const {
        if (on_event) on_event(event);
    }

    // Runs `fn` on the loop thread and waits for its result.
    template <class Fn>
    auto on_loop(Fn fn) -> decltype(fn()) {
        if (io.get_executor().running_in_this_thread()) return fn();
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        asio::post(io, [&task] { task(); });
        return result.get();
    }

    void persist() {
        std::vector<ReplicaRecord> records;
        for (const auto& [name, supervisor] : services) {
            auto some = supervisor->records();
            records.insert(records.end(), some.begin(), some.end());
        }
        for (const auto& [pid, record] : commands) records.push_back(record);
        if (auto saved = state_file->save(records); !saved)
            emit(RuntimeEvent{RuntimeEventKind::failure, "", saved.error().to_string(), 0, true,
                              std::chrono::system_clock::now()});
    }

    std::shared_ptr<ServiceSupervisor> supervisor(const std::string& name) {
        auto& slot = services[name];
        if (!slot) {
            SupervisorHooks hooks;
            hooks.emit = [this](const RuntimeEvent& e) { emit(e); };
            hooks.replicas_changed = [this] { persist(); };
            hooks.logs = logs.get();
            slot = std::make_shared<ServiceSupervisor>(io, name, std::move(hooks));
        }
        return slot;
    }
};

Result<std::unique_ptr<ProcessRuntime>> ProcessRuntime::start(const RuntimeOptions& options, EventHandler on_event) {
    auto state = std::make_unique<State>();
    state->options = options;
    state->on_event = std::move(on_event);
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir / "logs", ec);
    if (ec)
        return make_error(ErrorCode::io, "cannot create the state directory '" + options.state_dir.string() +
                                             "': " + ec.message());
    LogStore::Limits limits;
    limits.ring_lines = options.log_ring_lines;
    limits.file_bytes = options.log_file_bytes;
    state->logs = std::make_unique<LogStore>(options.state_dir / "logs", limits);
    state->state_file = std::make_unique<RuntimeStateFile>(options.state_dir / "replicas.json");

    auto recorded = state->state_file->load();
    if (!recorded) return recorded.error();
    for (const auto& record : stop_leftovers(*recorded, Duration(5000))) {
        const std::string what = record.kind.empty() ? "replica " + std::to_string(record.replica) : "the " + record.kind;
        state->emit(RuntimeEvent{RuntimeEventKind::state, record.service,
                                 "stopped " + what + " (pid " + std::to_string(record.pid) +
                                     ") left running by an engine that did not stop",
                                 record.replica, false, std::chrono::system_clock::now()});
    }
    if (auto cleared = state->state_file->save({}); !cleared) return cleared.error();

    become_subreaper();
    state->work.emplace(asio::make_work_guard(state->io));
    State* raw = state.get();
    state->loop = std::thread([raw] { raw->io.run(); });
    return std::unique_ptr<ProcessRuntime>(new ProcessRuntime(std::move(state)));
}

ProcessRuntime::ProcessRuntime(std::unique_ptr<State> state) : state_(std::move(state)) {}

ProcessRuntime::~ProcessRuntime() {
    stop_all();
    state_->work.reset();
    state_->io.stop();
    if (state_->loop.joinable()) state_->loop.join();
}

Status ProcessRuntime::apply(const Spec& spec, const PolicySet& policy, const Plan& plan,
                             const ApplyOptions& options) {
    std::promise<Status> outcome;
    auto result = outcome.get_future();
    asio::post(state_->io, [this, &spec, &policy, &plan, &options, &outcome] {
        ExecutionContext context;
        context.io = &state_->io;
        context.project_root = options.root.empty() ? state_->options.project_root : options.root;
        context.state_root = options.state_root.empty() ? state_->options.state_dir / "state" : options.state_root;
        context.build_root = options.build_root.empty() ? context.project_root : options.build_root;
        context.verify_artifact = options.verify_artifact;
        context.logs = state_->logs.get();
        context.emit = [this](const RuntimeEvent& e) { state_->emit(e); };
        context.supervisor = [this](const std::string& name) { return state_->supervisor(name); };
        context.building = [this](const std::string& name, bool started) {
            int& count = state_->building[name];
            count += started ? 1 : -1;
            if (count <= 0) state_->building.erase(name);
        };
        context.command_started = [this](const ReplicaRecord& record) {
            state_->commands[record.pid] = record;
            state_->persist();
        };
        context.command_ended = [this](pid_t pid) {
            if (state_->commands.erase(pid) > 0) state_->persist();
        };
        context.forget = [this](const std::string& name) {
            state_->services.erase(name);
            state_->persist();
        };
        auto execution = std::make_shared<PlanExecution>(context, spec, policy, plan,
                                                         [&outcome](Status s) { outcome.set_value(std::move(s)); });
        state_->execution = execution;
        execution->begin();
    });
    return result.get();
}

void ProcessRuntime::cancel() {
    asio::post(state_->io, [this] {
        if (auto execution = state_->execution.lock()) execution->cancel();
    });
}

Observed ProcessRuntime::observe() const {
    return state_->on_loop([this] {
        Observed observed;
        for (const auto& [name, supervisor] : state_->services) {
            const ServiceStatus s = supervisor->status();
            ObservedService o;
            o.name = name;
            o.fingerprint = s.fingerprint;
            o.artifact_digest = s.artifact_digest;
            o.replicas = static_cast<int>(s.replicas.size());
            for (const auto& r : s.replicas) o.healthy += r.health == "healthy" ? 1 : 0;
            o.state = s.state;
            if (!o.serving()) o.last_error = s.last_error;
            observed.services.emplace(name, o);
        }
        return observed;
    });
}

std::vector<ServiceStatus> ProcessRuntime::status() const {
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

std::vector<std::string> ProcessRuntime::logs(const std::string& service, std::size_t count) const {
    std::vector<std::string> out;
    for (const auto& line : state_->logs->tail(service, count)) out.push_back(format_log_line(line));
    return out;
}

void ProcessRuntime::kill_all() {
    asio::post(state_->io, [this] {
        for (auto& [name, supervisor] : state_->services) supervisor->kill();
    });
}

void ProcessRuntime::stop_all() {
    std::promise<void> all_stopped;
    auto done = all_stopped.get_future();
    asio::post(state_->io, [this, &all_stopped] {
        auto services = state_->services;
        if (services.empty()) {
            all_stopped.set_value();
            return;
        }
        auto remaining = std::make_shared<std::size_t>(services.size());
        for (auto& [name, supervisor] : services) {
            supervisor->stop([this, remaining, &all_stopped] {
                if (--*remaining > 0) return;
                state_->services.clear();
                state_->persist();
                all_stopped.set_value();
            });
        }
    });
    done.wait();
}

}  // namespace tandem
