// Tests of the health probes (tcp, http, exec) against real servers and commands, the thresholds
// that turn results into health, and the monitor that runs a probe on a schedule.
#include "proxy/loopback.hpp"
#include "execute/health_monitor.hpp"
#include "runtime/process/asio_event_loop.hpp"
#include "runtime/process/health_probe.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <mutex>

using tandem::Duration;
using tandem::HealthSpec;
using tandem::ProbeKind;
using tandem::Health;
using tandem::execute::HealthMonitor;
using tandem::process::HealthProbe;
using tandem::execute::HealthThresholds;
using tandem::ProbeOutcome;
using tandem::process::AsioEventLoop;
using namespace tandem::test;  // the helpers of this test area only

namespace {

using Server = LoopbackServer;

// Runs `fn` on the executor's kind of loop and returns its result.
template <class Fn>
auto on_loop(AsioEventLoop& events, Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    events.post([&task] { task(); });
    return result.get();
}

// A monitor's check: the probe, kept alive by the check itself.
HealthMonitor::Check check_of(std::shared_ptr<HealthProbe> probe) {
    return [probe](std::function<void(ProbeOutcome)> done) { probe->check(std::move(done)); };
}
using Env = std::vector<std::pair<std::string, std::string>>;

HealthSpec spec_of(ProbeKind kind, Duration timeout = Duration(1000)) {
    HealthSpec spec;
    spec.kind = kind;
    spec.timeout = timeout;
    return spec;
}

// Runs one check on the loop and waits for its outcome (a test failure after 10 s).
ProbeOutcome run_check(LoopThread& loop, const HealthSpec& spec, int port, const std::filesystem::path& cwd = {},
                       const Env& env = {}) {
    auto outcome = std::make_shared<std::promise<ProbeOutcome>>();
    auto probe = loop.call([&] { return tandem::process::make_probe(loop.io(), spec, port, cwd, env); });
    loop.call([&] {
        probe->check([outcome](ProbeOutcome result) { outcome->set_value(std::move(result)); });
        return 0;
    });
    auto future = outcome->get_future();
    REQUIRE(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    ProbeOutcome result = future.get();
    loop.call([&] {
        probe.reset();
        return 0;
    });
    return result;
}

// A server on the loop for the life of the test.
struct ServerOnLoop {
    ServerOnLoop(LoopThread& on, Server::Behaviour behaviour, int status = 200) : loop(on) {
        server = loop.call([&] { return std::make_unique<Server>(loop.io(), behaviour, "", status); });
    }
    ~ServerOnLoop() { stop(); }
    void stop() {
        loop.call([&] {
            server.reset();
            return 0;
        });
    }
    int port() { return loop.call([&] { return server->port(); }); }

    LoopThread& loop;
    std::unique_ptr<Server> server;
};

}  // namespace

TEST_CASE("health: thresholds need consecutive successes and failures to change health") {
    HealthThresholds thresholds(2, 3);
    CHECK(thresholds.health() == Health::unknown);
    CHECK(thresholds.record(true) == Health::unknown);
    CHECK(thresholds.record(false) == Health::unknown);  // breaks the run of successes
    CHECK(thresholds.record(true) == Health::unknown);
    CHECK(thresholds.record(true) == Health::healthy);
    CHECK(thresholds.record(false) == Health::healthy);
    CHECK(thresholds.record(false) == Health::healthy);
    CHECK(thresholds.record(true) == Health::healthy);  // breaks the run of failures
    CHECK(thresholds.record(false) == Health::healthy);
    CHECK(thresholds.record(false) == Health::healthy);
    CHECK(thresholds.record(false) == Health::unhealthy);
    CHECK(thresholds.record(true) == Health::unhealthy);
    CHECK(thresholds.record(true) == Health::healthy);
    CHECK(std::string(tandem::to_string(Health::unhealthy)) == "unhealthy");
    CHECK(std::string(tandem::to_string(Health::healthy)) == "healthy");
    CHECK(std::string(tandem::to_string(Health::unknown)) == "unknown");
}

TEST_CASE("health: a tcp probe succeeds on a listening port and fails on a refused one") {
    LoopThread loop;
    ServerOnLoop server(loop, Server::Behaviour::silent);
    CHECK(run_check(loop, spec_of(ProbeKind::tcp), server.port()).ok);
    ProbeOutcome refused = run_check(loop, spec_of(ProbeKind::tcp), refused_port());
    CHECK_FALSE(refused.ok);
    CHECK(refused.detail.find("refused") != std::string::npos);
}

TEST_CASE("health: an http probe checks the status code") {
    LoopThread loop;
    ServerOnLoop ok_server(loop, Server::Behaviour::http_status, 200);
    ServerOnLoop failing_server(loop, Server::Behaviour::http_status, 503);
    HealthSpec spec = spec_of(ProbeKind::http);
    spec.path = "/healthz";

    ProbeOutcome ok = run_check(loop, spec, ok_server.port());
    CHECK(ok.ok);
    CHECK(ok.detail == "HTTP 200");

    ProbeOutcome wrong = run_check(loop, spec, failing_server.port());
    CHECK_FALSE(wrong.ok);
    CHECK(wrong.detail == "HTTP 503");

    spec.expect_status = 503;
    CHECK(run_check(loop, spec, failing_server.port()).ok);
    CHECK_FALSE(run_check(loop, spec, refused_port()).ok);
}

TEST_CASE("health: an http probe times out against a server that never answers") {
    LoopThread loop;
    ServerOnLoop silent(loop, Server::Behaviour::silent);
    auto started = Clock::now();
    ProbeOutcome outcome = run_check(loop, spec_of(ProbeKind::http, Duration(200)), silent.port());
    auto took = Clock::now() - started;
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.detail.find("timed out") != std::string::npos);
    CHECK(took >= milliseconds(190));
    CHECK(took < milliseconds(2000));
}

TEST_CASE("health: an exec probe is ok iff the command exits 0, in its cwd with its env") {
    LoopThread loop;
    TempDir dir;
    HealthSpec spec = spec_of(ProbeKind::exec);
    spec.command = {"true"};
    CHECK(run_check(loop, spec, 0).ok);

    spec.command = {"/bin/sh", "-c", "exit 1"};
    ProbeOutcome failed = run_check(loop, spec, 0);
    CHECK_FALSE(failed.ok);
    CHECK(failed.detail == "exit code 1");

    spec.command = {"/bin/sh", "-c", "test \"$PROBE_VALUE\" = yes && test -f marker"};
    dir.write("marker", "");
    CHECK(run_check(loop, spec, 0, dir.path(), {{"PROBE_VALUE", "yes"}}).ok);
    CHECK_FALSE(run_check(loop, spec, 0, dir.path(), {{"PROBE_VALUE", "no"}}).ok);

    spec.command = {"/no/such/program"};
    CHECK_FALSE(run_check(loop, spec, 0).ok);
}

TEST_CASE("health: an exec probe past its timeout fails and its process group is killed") {
    LoopThread loop;
    TempDir dir;
    HealthSpec spec = spec_of(ProbeKind::exec, Duration(300));
    spec.command = {"/bin/sh", "-c", "sleep 5 & echo $! > pid; wait"};
    auto started = Clock::now();
    ProbeOutcome outcome = run_check(loop, spec, 0, dir.path());
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.detail.find("timed out") != std::string::npos);
    CHECK(Clock::now() - started < milliseconds(2000));

    // The `sleep` grandchild shared the probe's process group, so it is gone too.
    pid_t grandchild = std::stoi(read_text(dir.path() / "pid"));
    CHECK(eventually([&] { return ::kill(grandchild, 0) != 0 && errno == ESRCH; }));
}

namespace {

// Records the monitor's reports; read from the test thread.
struct Reports {
    std::mutex mutex;
    std::vector<Health> changes;
    void add(Health health) {
        std::lock_guard lock(mutex);
        changes.push_back(health);
    }
    std::vector<Health> seen() {
        std::lock_guard lock(mutex);
        return changes;
    }
};

}  // namespace

TEST_CASE("health: a monitor reports healthy, then unhealthy when the server goes away") {
    LoopThread loop;
    ServerOnLoop server(loop, Server::Behaviour::silent);
    HealthSpec spec = spec_of(ProbeKind::tcp, Duration(200));
    spec.interval = Duration(30);
    spec.failure_threshold = 2;
    Reports reports;
    int port = server.port();
    AsioEventLoop events;
    events.run_thread();
    auto monitor = on_loop(events, [&] {
        auto made = std::make_shared<HealthMonitor>(events, spec,
                                                    check_of(tandem::process::make_probe(events.io(), spec, port, {}, {})),
                                                    [&](Health health, const ProbeOutcome&) { reports.add(health); });
        made->start();
        return made;
    });
    CHECK(eventually([&] { return reports.seen().size() == 1; }));
    CHECK(on_loop(events, [&] { return monitor->health(); }) == Health::healthy);

    server.stop();
    CHECK(eventually([&] { return reports.seen().size() == 2; }));
    CHECK(reports.seen() == std::vector<Health>{Health::healthy, Health::unhealthy});
    on_loop(events, [&] {
        monitor.reset();
        return 0;
    });
}

namespace {

// A probe that answers after `delay`, counting how many checks overlap.
class SlowProbe : public HealthProbe {
public:
    SlowProbe(tandem::process::asio::io_context& io, milliseconds delay, std::atomic<int>& checks, int& overlap)
        : io_(io), delay_(delay), checks_(checks), overlap_(overlap) {}
    void check(std::function<void(ProbeOutcome)> done) override {
        ++checks_;
        if (++running_ > 1) ++overlap_;
        auto timer = std::make_shared<tandem::process::asio::steady_timer>(io_, delay_);
        timer->async_wait([this, timer, done](const boost::system::error_code&) {
            --running_;
            done(ProbeOutcome{true, "fine"});
        });
    }

private:
    tandem::process::asio::io_context& io_;
    milliseconds delay_;
    std::atomic<int>& checks_;
    int& overlap_;
    int running_ = 0;
};

}  // namespace

TEST_CASE("health: a monitor never runs two checks at once, and stop() from its callback silences it") {
    AsioEventLoop events;
    events.run_thread();
    HealthSpec spec = spec_of(ProbeKind::tcp);
    spec.interval = Duration(5);  // shorter than a check
    std::atomic<int> checks{0};
    int overlap = 0;
    std::atomic<int> callbacks{0};
    std::shared_ptr<HealthMonitor> monitor;
    on_loop(events, [&] {
        monitor = std::make_shared<HealthMonitor>(events, spec,
                                                  check_of(std::make_shared<SlowProbe>(events.io(), milliseconds(20), checks, overlap)),
                                                  [&](Health, const ProbeOutcome&) { ++callbacks; });
        monitor->start();
        return 0;
    });
    CHECK(eventually([&] { return checks.load() >= 5; }));
    CHECK(on_loop(events, [&] { return overlap; }) == 0);
    CHECK(callbacks.load() == 1);  // one change: unknown -> healthy

    // A monitor whose first report stops it: no further check runs.
    std::atomic<int> after_stop{0};
    std::atomic<int> stopped_checks{0};
    int stopped_overlap = 0;
    std::shared_ptr<HealthMonitor> stopping;
    on_loop(events, [&] {
        monitor.reset();
        stopping = std::make_shared<HealthMonitor>(
            events, spec, check_of(std::make_shared<SlowProbe>(events.io(), milliseconds(5), stopped_checks, stopped_overlap)),
            [&](Health, const ProbeOutcome&) {
                ++after_stop;
                stopping->stop();
            });
        stopping->start();
        return 0;
    });
    CHECK(eventually([&] { return after_stop.load() == 1; }));
    int checks_when_stopped = stopped_checks.load();
    std::this_thread::sleep_for(milliseconds(100));  // long enough for several intervals
    CHECK(stopped_checks.load() == checks_when_stopped);
    CHECK(after_stop.load() == 1);
    on_loop(events, [&] {
        stopping.reset();
        return 0;
    });
}
