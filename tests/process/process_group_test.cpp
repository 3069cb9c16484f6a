// Stopping whole process groups: grandchildren included, SIGKILL after the grace period, and no
// process of the group left afterwards.
#include "runtime/process/child_process.hpp"

#include "process/process_test_support.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <csignal>
#include <optional>

namespace tandem::process {
namespace {

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

// A running test service with a grandchild in its group, and what it reported so far.
struct ServiceWithGrandchild {
    asio::io_context& io;
    test::TempDir dir;
    std::vector<std::string> out;
    std::optional<ExitStatus> exit;
    std::shared_ptr<ChildProcess> child;
    pid_t grandchild = 0;

    ServiceWithGrandchild(asio::io_context& context, std::vector<std::string> extra_flags) : io(context) {
        become_subreaper();  // orphaned grandchildren come back to us to be reaped, not to a container's pid 1
        const auto pid_file = dir.path() / "grandchild.pid";
        LaunchSpec launch{{test::test_service(), "--spawn-grandchild", "--pid-file", pid_file.string()}, {}, {}};
        launch.argv.insert(launch.argv.end(), extra_flags.begin(), extra_flags.end());
        auto spawned = ChildProcess::spawn(
            io, launch, [this](LogStream, std::string_view line) { out.emplace_back(line); },
            [this](ExitStatus status) { exit = status; });
        REQUIRE_MESSAGE(spawned.ok(), spawned.error().to_string());
        child = *spawned;
        // The pid file is written after the service has set up its signal handling.
        REQUIRE(test::run_until(io, [&] { return (grandchild = test::read_pid_file(pid_file)) > 0; }));
        REQUIRE(process_exists(grandchild));
        REQUIRE(::getpgid(grandchild) == child->pid());
        REQUIRE(test::count_group_members(child->pid()) == 2);
    }
};

TEST_CASE("stop() ends the whole process group, grandchild included") {
    asio::io_context io;
    ServiceWithGrandchild service(io, {});
    const pid_t pgid = service.child->pid();
    bool stopped = false;
    service.child->stop(std::chrono::seconds(5), [&] { stopped = true; });
    REQUIRE(test::run_until(io, [&] { return stopped; }));
    CHECK(service.exit.has_value());
    CHECK(service.exit->clean());  // the service exits 0 on SIGTERM
    CHECK(std::find(service.out.begin(), service.out.end(), "test_service got SIGTERM") != service.out.end());
    CHECK_FALSE(process_exists(service.grandchild));
    CHECK_FALSE(group_alive(pgid));
    CHECK(test::count_group_members(pgid) == 0);
    CHECK_FALSE(service.child->running());
}

TEST_CASE("a group that ignores SIGTERM is killed with SIGKILL after the grace period") {
    asio::io_context io;
    ServiceWithGrandchild service(io, {"--ignore-sigterm"});
    const pid_t pgid = service.child->pid();
    const auto grace = std::chrono::milliseconds(400);
    bool stopped = false;
    const auto started = std::chrono::steady_clock::now();
    service.child->stop(grace, [&] { stopped = true; });
    REQUIRE(test::run_until(io, [&] { return stopped; }));
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(took >= grace);
    CHECK(took < std::chrono::seconds(10));
    REQUIRE(service.exit.has_value());
    CHECK(service.exit->signal == SIGKILL);
    CHECK_FALSE(process_exists(service.grandchild));
    CHECK(test::count_group_members(pgid) == 0);
}

TEST_CASE("a grandchild that outlives its parent is killed by stop(), and the exit is not held up by it") {
    asio::io_context io;
    // The leader exits by itself; the grandchild (ignoring SIGTERM) keeps the output pipes open.
    ServiceWithGrandchild service(io, {"--ignore-sigterm", "--exit-after", "100", "--exit-code", "4"});
    const pid_t pgid = service.child->pid();
    REQUIRE(test::run_until(io, [&] { return service.exit.has_value(); }));
    CHECK(service.exit->code == 4);
    CHECK(process_exists(service.grandchild));  // still there: only stop() ends the group
    bool stopped = false;
    service.child->stop(std::chrono::milliseconds(200), [&] { stopped = true; });
    REQUIRE(test::run_until(io, [&] { return stopped; }));
    CHECK_FALSE(process_exists(service.grandchild));
    CHECK(test::count_group_members(pgid) == 0);
}

TEST_CASE("kill() and dropping the ChildProcess both SIGKILL the group") {
    asio::io_context io;
    ServiceWithGrandchild killed(io, {});
    const pid_t killed_group = killed.child->pid();
    killed.child->kill();
    REQUIRE(test::run_until(io, [&] { return killed.exit.has_value() && !group_alive(killed_group); }));
    CHECK(killed.exit->signal == SIGKILL);

    ServiceWithGrandchild dropped(io, {"--ignore-sigterm"});
    const pid_t dropped_group = dropped.child->pid();
    dropped.child.reset();
    // The reaper still collects the group's zombies after its ChildProcess is gone.
    REQUIRE(test::run_until(io, [&] { return test::count_group_members(dropped_group) == 0; }));
    CHECK_FALSE(process_exists(dropped.grandchild));
    CHECK_FALSE(dropped.exit.has_value());  // no one is told: the owner let go
}

TEST_CASE("stop() after the process has exited completes at once") {
    asio::io_context io;
    std::optional<ExitStatus> exit;
    auto spawned = ChildProcess::spawn(io, {{"/bin/true"}, {}, {}}, {}, [&](ExitStatus status) { exit = status; });
    REQUIRE(spawned.ok());
    auto child = *spawned;
    REQUIRE(test::run_until(io, [&] { return exit.has_value(); }));
    int stopped = 0;
    child->stop(std::chrono::seconds(5), [&] { ++stopped; });
    child->stop(std::chrono::seconds(5), [&] { ++stopped; });
    REQUIRE(test::run_until(io, [&] { return stopped == 2; }, std::chrono::seconds(2)));
}

TEST_CASE("the reaper leaves processes it did not start alone") {
    asio::io_context io;
    std::optional<ExitStatus> exit;
    auto spawned = ChildProcess::spawn(io, {{"/bin/sh", "-c", "sleep 0.2"}, {}, {}}, {}, [&](ExitStatus status) { exit = status; });
    REQUIRE(spawned.ok());
    // Someone else's child, waited for synchronously while SIGCHLD keeps arriving.
    const pid_t other = ::fork();
    if (other == 0) ::_exit(9);
    REQUIRE(test::run_until(io, [&] { return exit.has_value(); }));
    io.run_for(std::chrono::milliseconds(50));
    int status = 0;
    REQUIRE(::waitpid(other, &status, 0) == other);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 9);
}

}  // namespace
}  // namespace tandem::process
