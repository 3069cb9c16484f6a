// A Runtime without processes, sockets or a clock of its own, for driving the executor, the
// loops and rollouts step by step (in the manner of ninja's FakeCommandRunner and Tilt's fake
// execers): replicas are records that answer probes as the test says, crash when the test says,
// and stop at once; commands finish with the exit code the test chose; time is virtual and
// moves only when the test calls advance(), so a 30 s backoff takes no time at all.
#pragma once

#include <tandem/runtime.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tandem::test {

class FakeRuntime final : public Runtime, public EventLoop {
public:
    FakeRuntime();
    // A second fake named `name` that runs on `shared`'s loop (and virtual clock): what two
    // runtimes of one PerServiceRuntime look like. `shared` must outlive it.
    FakeRuntime(FakeRuntime& shared, std::string name);
    ~FakeRuntime() override;

    // --- what the test does (any thread; each waits until the loop has done it) ---

    // Moves virtual time forward by `by`, firing every timer due on the way, in order, and
    // running what each one posts before the next fires.
    void advance(Duration by);
    // Runs `fn` on the loop thread and returns its result.
    template <class Fn>
    auto call(Fn fn) -> decltype(fn()) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto result = task.get_future();
        post([&task] { task(); });
        return result.get();
    }
    // Waits until nothing is queued (timers not due do not count).
    void settle();

    // The replica exits on its own with `code` (a crash, or a job's end).
    void exit_replica(int id, int code);
    // What probes of `service`'s replicas answer from now on (default: healthy).
    void set_healthy(const std::string& service, bool healthy);
    // What probes answer from now on, by what the replica runs (default: healthy).
    void set_health(std::function<bool(const ReplicaLaunch&)> healthy);
    // Commands whose argv contains `text` exit with `code` (default 0); `hang` ones never end
    // until killed.
    void command_exit(const std::string& text, int code);
    void command_hangs(const std::string& text);
    // open_service() of this public port fails, as when the port is taken.
    void refuse_port(int port);
    // The fake is a cluster that orchestrates `service` (Runtime::orchestrates): its updates are
    // recorded and answered with what `outcome` says; its status shows `replicas` tasks.
    void orchestrate(const std::string& service, std::function<Status(const ServiceUpdate&)> outcome);
    std::vector<ServiceUpdate> updates() const;  // every update_service call, in order

    struct Launched {
        ReplicaLaunch launch;
        bool running = true;
        bool stopping = false;
    };
    struct Ran {
        CommandLaunch launch;
        bool killed = false;
        bool finished = false;
    };
    // Copies, taken on the loop thread.
    std::vector<Launched> replicas() const;            // every replica ever started, in order
    std::vector<int> running(const std::string& service) const;  // ids of its live replicas
    std::vector<int> routed(const std::string& service) const;
    std::vector<Ran> commands() const;
    // Every route / unroute / start / stop, as "route api 3", "unroute api 1", "start api 4", "stop api 1".
    std::vector<std::string> journal() const;

    // --- Runtime ---
    std::string_view name() const override { return name_; }
    EventLoop& loop() override { return *loop_; }
    Status open(EventSink emit) override;
    Result<ReplicaInfo> start_replica(const ReplicaLaunch& launch, OutputHandler output, ExitHandler exited) override;
    void stop_replica(int id, Duration grace, std::function<void()> stopped) override;
    void kill_all() override;
    Status open_service(const std::string& service, int public_port) override;
    void close_service(const std::string& service) override;
    void route(const std::string& service, int replica) override;
    void unroute(const std::string& service, int replica, Duration drain, std::function<void()> drained) override;
    Traffic traffic(const std::string& service) const override;
    void probe(int replica, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) override;
    Result<int> run_command(const CommandLaunch& launch, OutputHandler output, CommandHandler finished) override;
    void kill_command(int id) override;
    bool orchestrates(const std::string& service) const override;
    void update_service(const ServiceUpdate& update, std::function<void(Status)> done) override;
    // Journals "remove SERVICE" or "detach SERVICE".
    void remove_service(const std::string& service, bool detach, std::function<void()> done) override;
    std::optional<ServiceStatus> service_status(const std::string& service) const override;

    // --- EventLoop ---
    void post(Task task) override;
    TimerId after(Duration delay, Task task) override;
    void cancel(TimerId timer) override;
    std::chrono::steady_clock::time_point now() const override;
    bool on_loop_thread() const override;

private:
    struct Replica {
        Launched record;
        ExitHandler exited;
        OutputHandler output;
    };
    struct Command {
        std::size_t index = 0;  // in commands_
        CommandHandler finished;
    };
    struct Timer {
        std::chrono::steady_clock::time_point due;
        Task task;
    };
    void run();
    bool run_one_task();  // false when none is queued
    void finish_command(int id, const Result<ExitStatus>& how);

    std::string name_ = "fake";
    FakeRuntime* loop_ = this;  // the fake whose loop this one runs on (itself, unless shared)

    // The loop: guarded by mutex_ (unused when loop_ is another fake).
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Task> tasks_;
    std::multimap<std::chrono::steady_clock::time_point, TimerId> due_;
    std::map<TimerId, Timer> timers_;
    TimerId next_timer_ = 1;
    std::chrono::steady_clock::time_point now_;
    bool stopping_ = false;
    bool busy_ = false;
    std::condition_variable idle_;
    std::thread thread_;

    // The world: loop thread only.
    EventSink emit_;
    std::map<int, Replica> replicas_;
    std::vector<int> order_;  // replica ids in start order
    std::map<std::string, std::set<int>> routes_;
    std::map<std::string, int> open_ports_;
    std::set<int> refused_ports_;
    std::function<bool(const ReplicaLaunch&)> healthy_;
    std::vector<std::pair<std::string, int>> exit_codes_;
    std::vector<std::string> hangs_;
    std::vector<Ran> commands_;
    std::map<int, Command> live_commands_;
    std::vector<std::string> journal_;
    std::map<std::string, std::function<Status(const ServiceUpdate&)>> orchestrated_;
    std::map<std::string, ServiceUpdate> cluster_;  // what the cluster runs, by service
    std::vector<ServiceUpdate> updates_;
};

}  // namespace tandem::test
