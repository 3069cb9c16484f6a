#include "support/fake_runtime.hpp"

#include <algorithm>

namespace tandem::test {

FakeRuntime::FakeRuntime() : now_(std::chrono::steady_clock::time_point{} + std::chrono::hours(1)) {
    thread_ = std::thread([this] { run(); });
}

FakeRuntime::FakeRuntime(FakeRuntime& shared, std::string name) : name_(std::move(name)), loop_(shared.loop_) {}

FakeRuntime::~FakeRuntime() {
    if (loop_ != this) return;  // no thread of its own
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

// --- the loop ---

void FakeRuntime::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (stopping_) return;
        Task task = std::move(tasks_.front());
        tasks_.pop_front();
        busy_ = true;
        lock.unlock();
        task();
        lock.lock();
        busy_ = false;
        if (tasks_.empty()) idle_.notify_all();
    }
}

void FakeRuntime::post(Task task) {
    if (loop_ != this) return loop_->post(std::move(task));
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    wake_.notify_all();
}

EventLoop::TimerId FakeRuntime::after(Duration delay, Task task) {
    if (loop_ != this) return loop_->after(delay, std::move(task));
    std::lock_guard lock(mutex_);
    const TimerId id = next_timer_++;
    const auto due = now_ + delay;
    timers_.emplace(id, Timer{due, std::move(task)});
    due_.emplace(due, id);
    // Due already: it runs like a posted task, after what is queued.
    if (delay.count() <= 0) {
        tasks_.push_back([this, id] {
            Task fire;
            {
                std::lock_guard inner(mutex_);
                auto it = timers_.find(id);
                if (it == timers_.end()) return;
                fire = std::move(it->second.task);
                timers_.erase(it);
            }
            fire();
        });
        wake_.notify_all();
    }
    return id;
}

void FakeRuntime::cancel(TimerId timer) {
    if (loop_ != this) return loop_->cancel(timer);
    std::lock_guard lock(mutex_);
    timers_.erase(timer);
}

std::chrono::steady_clock::time_point FakeRuntime::now() const {
    if (loop_ != this) return loop_->now();
    std::lock_guard lock(mutex_);
    return now_;
}

bool FakeRuntime::on_loop_thread() const {
    if (loop_ != this) return loop_->on_loop_thread();
    return std::this_thread::get_id() == thread_.get_id();
}

void FakeRuntime::settle() {
    if (loop_ != this) return loop_->settle();
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return tasks_.empty() && !busy_; });
}

void FakeRuntime::advance(Duration by) {
    if (loop_ != this) return loop_->advance(by);
    settle();
    std::chrono::steady_clock::time_point target;
    {
        std::lock_guard lock(mutex_);
        target = now_ + by;
    }
    while (true) {
        Task fire;
        {
            std::lock_guard lock(mutex_);
            // The next timer still pending, due by the target.
            while (!due_.empty() && !timers_.count(due_.begin()->second)) due_.erase(due_.begin());
            if (due_.empty() || due_.begin()->first > target) {
                now_ = target;
                break;
            }
            const auto [due, id] = *due_.begin();
            due_.erase(due_.begin());
            now_ = std::max(now_, due);
            auto it = timers_.find(id);
            fire = std::move(it->second.task);
            timers_.erase(it);
        }
        call([&fire] {
            fire();
            return 0;
        });
        settle();
    }
}

// --- what the test does ---

void FakeRuntime::exit_replica(int id, int code) {
    call([this, id, code] {
        auto it = replicas_.find(id);
        if (it == replicas_.end() || !it->second.record.running) return 0;
        it->second.record.running = false;
        journal_.push_back("exit " + it->second.record.launch.service.name + " " + std::to_string(id));
        for (auto& [service, ids] : routes_) ids.erase(id);
        ExitStatus status;
        status.code = code;
        if (!it->second.record.stopping && it->second.exited) it->second.exited(status);
        return 0;
    });
    settle();
}

void FakeRuntime::set_healthy(const std::string& service, bool healthy) {
    auto before = call([this] { return healthy_; });
    set_health([before, service, healthy](const ReplicaLaunch& launch) {
        if (launch.service.name == service) return healthy;
        return before ? before(launch) : true;
    });
}

void FakeRuntime::set_health(std::function<bool(const ReplicaLaunch&)> healthy) {
    call([this, healthy] {
        healthy_ = healthy;
        return 0;
    });
}

void FakeRuntime::command_exit(const std::string& text, int code) {
    call([this, text, code] {
        exit_codes_.emplace_back(text, code);
        return 0;
    });
}

void FakeRuntime::command_hangs(const std::string& text) {
    call([this, text] {
        hangs_.push_back(text);
        return 0;
    });
}

void FakeRuntime::refuse_port(int port) {
    call([this, port] { return *refused_ports_.insert(port).first; });
}

std::vector<FakeRuntime::Launched> FakeRuntime::replicas() const {
    auto* self = const_cast<FakeRuntime*>(this);
    return self->call([self] {
        std::vector<Launched> out;
        for (int id : self->order_) out.push_back(self->replicas_.at(id).record);
        return out;
    });
}

std::vector<int> FakeRuntime::running(const std::string& service) const {
    auto* self = const_cast<FakeRuntime*>(this);
    return self->call([self, service] {
        std::vector<int> out;
        for (int id : self->order_) {
            const auto& r = self->replicas_.at(id).record;
            if (r.running && r.launch.service.name == service) out.push_back(id);
        }
        return out;
    });
}

std::vector<int> FakeRuntime::routed(const std::string& service) const {
    auto* self = const_cast<FakeRuntime*>(this);
    return self->call([self, service] {
        const auto& ids = self->routes_[service];
        return std::vector<int>(ids.begin(), ids.end());
    });
}

std::vector<FakeRuntime::Ran> FakeRuntime::commands() const {
    auto* self = const_cast<FakeRuntime*>(this);
    return self->call([self] { return self->commands_; });
}

std::vector<std::string> FakeRuntime::journal() const {
    auto* self = const_cast<FakeRuntime*>(this);
    return self->call([self] { return self->journal_; });
}

// --- Runtime ---

Status FakeRuntime::open(EventSink emit) {
    emit_ = std::move(emit);
    return Ok{};
}

Result<ReplicaInfo> FakeRuntime::start_replica(const ReplicaLaunch& launch, OutputHandler output, ExitHandler exited) {
    Replica replica;
    replica.record.launch = launch;
    replica.exited = std::move(exited);
    replica.output = std::move(output);
    replicas_[launch.id] = std::move(replica);
    order_.push_back(launch.id);
    journal_.push_back("start " + launch.service.name + " " + std::to_string(launch.id));
    const int port = launch.service.port != 0 ? 20000 + launch.id : 0;
    return ReplicaInfo{"fake " + std::to_string(launch.id), port};
}

void FakeRuntime::stop_replica(int id, Duration, std::function<void()> stopped) {
    auto it = replicas_.find(id);
    if (it != replicas_.end() && it->second.record.running) {
        it->second.record.stopping = true;
        it->second.record.running = false;
        journal_.push_back("stop " + it->second.record.launch.service.name + " " + std::to_string(id));
    }
    post(std::move(stopped));
}

void FakeRuntime::kill_all() {
    for (auto& [id, replica] : replicas_) {
        if (!replica.record.running) continue;
        replica.record.running = false;
        ExitStatus killed;
        killed.signal = 9;
        if (!replica.record.stopping && replica.exited) post([exited = replica.exited, killed] { exited(killed); });
    }
    for (auto& [id, command] : live_commands_) kill_command(id);
}

Status FakeRuntime::open_service(const std::string& service, int public_port) {
    if (refused_ports_.count(public_port))
        return make_error(ErrorCode::io, "cannot listen on 127.0.0.1:" + std::to_string(public_port) +
                                             ": Address already in use");
    open_ports_[service] = public_port;
    return Ok{};
}

void FakeRuntime::close_service(const std::string& service) {
    open_ports_.erase(service);
    routes_.erase(service);
}

void FakeRuntime::route(const std::string& service, int replica) {
    routes_[service].insert(replica);
    journal_.push_back("route " + service + " " + std::to_string(replica));
}

void FakeRuntime::unroute(const std::string& service, int replica, Duration, std::function<void()> drained) {
    routes_[service].erase(replica);
    journal_.push_back("unroute " + service + " " + std::to_string(replica));
    post(std::move(drained));
}

Runtime::Traffic FakeRuntime::traffic(const std::string&) const { return {}; }

void FakeRuntime::probe(int replica, const HealthSpec&, std::function<void(ProbeOutcome)> done) {
    auto it = replicas_.find(replica);
    bool ok = it != replicas_.end() && it->second.record.running;
    if (ok && healthy_) ok = healthy_(it->second.record.launch);
    post([done, ok] { done(ProbeOutcome{ok, ok ? "ok" : "HTTP 503"}); });
}

Result<int> FakeRuntime::run_command(const CommandLaunch& launch, OutputHandler output, CommandHandler finished) {
    const int id = static_cast<int>(commands_.size()) + 1;
    commands_.push_back(Ran{launch, false, false});
    live_commands_[id] = Command{commands_.size() - 1, std::move(finished)};
    std::string argv;
    for (const auto& arg : launch.argv) argv += arg + " ";
    journal_.push_back(std::string("run ") + to_string(launch.kind) + " " + launch.service);
    for (const auto& text : hangs_)
        if (argv.find(text) != std::string::npos) return id;
    int code = 0;
    for (const auto& [text, exit_code] : exit_codes_)
        if (argv.find(text) != std::string::npos) code = exit_code;
    post([this, id, code, output, service = launch.service] {
        output(LogStream::out, "fake command of " + service);
        ExitStatus status;
        status.code = code;
        finish_command(id, status);
    });
    return id;
}

void FakeRuntime::finish_command(int id, const Result<ExitStatus>& how) {
    auto it = live_commands_.find(id);
    if (it == live_commands_.end()) return;
    Command command = std::move(it->second);
    live_commands_.erase(it);
    commands_[command.index].finished = true;
    command.finished(how);
}

void FakeRuntime::kill_command(int id) {
    auto it = live_commands_.find(id);
    if (it == live_commands_.end()) return;
    commands_[it->second.index].killed = true;
    post([this, id] {
        ExitStatus killed;
        killed.signal = 9;
        finish_command(id, killed);
    });
}

void FakeRuntime::orchestrate(const std::string& service, std::function<Status(const ServiceUpdate&)> outcome) {
    call([&] {
        orchestrated_[service] = std::move(outcome);
        return 0;
    });
}

std::vector<ServiceUpdate> FakeRuntime::updates() const {
    auto* self = const_cast<FakeRuntime*>(this);
    return self->call([self] { return self->updates_; });
}

bool FakeRuntime::orchestrates(const std::string& service) const { return orchestrated_.count(service) > 0; }

void FakeRuntime::update_service(const ServiceUpdate& update, std::function<void(Status)> done) {
    updates_.push_back(update);
    journal_.push_back("update " + update.service.name);
    Status outcome = orchestrated_.at(update.service.name)(update);
    if (outcome) cluster_[update.service.name] = update;  // else the cluster rolled back: what ran runs
    post([done = std::move(done), outcome] { done(outcome); });
}

void FakeRuntime::remove_service(const std::string& service, bool detach, std::function<void()> done) {
    journal_.push_back((detach ? "detach " : "remove ") + service);
    if (!detach) cluster_.erase(service);
    post(std::move(done));
}

std::optional<ServiceStatus> FakeRuntime::service_status(const std::string& service) const {
    const auto it = cluster_.find(service);
    if (it == cluster_.end()) return std::nullopt;
    ServiceStatus out;
    out.name = service;
    out.state = ServiceState::ready;
    for (int slot = 1; slot <= it->second.replicas; ++slot) {
        ReplicaStatus replica;
        replica.id = slot;
        replica.handle = "task " + std::to_string(slot) + " on node-" + std::to_string(slot);
        replica.health = Health::healthy;
        out.replicas.push_back(replica);
    }
    return out;
}

}  // namespace tandem::test
