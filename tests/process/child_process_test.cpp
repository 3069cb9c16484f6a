// ChildProcess with real processes: output lines, env and cwd, exec failures, exit statuses.
#include "runtime/process/child_process.hpp"

#include "process/process_test_support.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <optional>
#include <string>
#include <vector>

namespace tandem::process {
namespace {

struct Capture {
    std::vector<std::string> out, err;
    std::optional<ExitStatus> exit;
    int exits = 0;

    ChildProcess::LineHandler lines() {
        return [this](LogStream stream, std::string_view line) {
            (stream == LogStream::out ? out : err).emplace_back(line);
        };
    }
    ChildProcess::ExitHandler exited() {
        return [this](ExitStatus status) {
            exit = status;
            ++exits;
        };
    }
    bool has_out(const std::string& line) const { return std::find(out.begin(), out.end(), line) != out.end(); }
};

std::shared_ptr<ChildProcess> spawn_ok(asio::io_context& io, const LaunchSpec& launch, Capture& capture) {
    auto child = ChildProcess::spawn(io, launch, capture.lines(), capture.exited());
    REQUIRE_MESSAGE(child.ok(), child.error().to_string());
    return *child;
}

TEST_CASE("a child's stdout and stderr arrive as lines, with its env and working directory") {
    asio::io_context io;
    test::TempDir dir;
    Capture capture;
    LaunchSpec launch;
    launch.argv = {"/bin/sh", "-c", "echo out:$GREETING; echo err:$GREETING >&2; pwd; echo HOME=$HOME"};
    launch.env = {{"GREETING", "hello"}, {"HOME", "/replaced"}};
    launch.cwd = dir.path();
    auto child = spawn_ok(io, launch, capture);
    CHECK(child->pid() > 0);
    REQUIRE(test::run_until(io, [&] { return capture.exit.has_value(); }));
    CHECK(capture.out == std::vector<std::string>{"out:hello", std::filesystem::canonical(dir.path()).string(),
                                                  "HOME=/replaced"});
    CHECK(capture.err == std::vector<std::string>{"err:hello"});
    CHECK(capture.exit->clean());
    CHECK_FALSE(child->running());
}

TEST_CASE("the engine's own environment reaches the child unless the launch replaces it") {
    asio::io_context io;
    Capture capture;
    ::setenv("TANDEM_TEST_INHERITED", "from-engine", 1);
    auto child = spawn_ok(io, {{"/bin/sh", "-c", "echo $TANDEM_TEST_INHERITED"}, {}, {}}, capture);
    REQUIRE(test::run_until(io, [&] { return capture.exit.has_value(); }));
    CHECK(capture.out == std::vector<std::string>{"from-engine"});
}

TEST_CASE("a trailing partial line is delivered at EOF and a long line comes in pieces") {
    asio::io_context io;
    Capture capture;
    const std::size_t long_line = 2 * ChildProcess::kMaxLineBytes + 100;
    auto child = spawn_ok(io, {{"/bin/sh", "-c", "head -c " + std::to_string(long_line) + " /dev/zero | tr '\\0' a; echo; printf tail"}, {}, {}}, capture);
    REQUIRE(test::run_until(io, [&] { return capture.exit.has_value(); }));
    REQUIRE(capture.out.size() == 4);
    CHECK(capture.out[0] == std::string(ChildProcess::kMaxLineBytes, 'a'));
    CHECK(capture.out[1] == std::string(ChildProcess::kMaxLineBytes, 'a'));
    CHECK(capture.out[2] == std::string(100, 'a'));
    CHECK(capture.out[3] == "tail");
    CHECK(capture.exits == 1);
}

TEST_CASE("a program that cannot be executed is an error from spawn, naming it") {
    asio::io_context io;
    Capture capture;
    auto missing = ChildProcess::spawn(io, {{"tandem-no-such-program"}, {}, {}}, capture.lines(), capture.exited());
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("tandem-no-such-program") != std::string::npos);
    CHECK(missing.error().message.find("No such file or directory") != std::string::npos);

    test::TempDir dir;
    const auto not_executable = dir.write("script.sh", "echo hi\n");
    auto denied = ChildProcess::spawn(io, {{not_executable.string()}, {}, {}}, capture.lines(), capture.exited());
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.error().message.find("Permission denied") != std::string::npos);

    auto bad_cwd = ChildProcess::spawn(io, {{"/bin/true"}, {}, dir.path() / "missing"}, capture.lines(), capture.exited());
    REQUIRE_FALSE(bad_cwd.ok());
    CHECK(bad_cwd.error().message.find("missing") != std::string::npos);

    auto empty = ChildProcess::spawn(io, {}, capture.lines(), capture.exited());
    CHECK_FALSE(empty.ok());
    io.run_for(std::chrono::milliseconds(50));
    CHECK(capture.exits == 0);
}

TEST_CASE("an exit code is reported and described") {
    asio::io_context io;
    Capture capture;
    auto child = spawn_ok(io, {{test::test_service(), "--exit-after", "50", "--exit-code", "7", "--stderr-line", "bye"}, {}, {}}, capture);
    REQUIRE(test::run_until(io, [&] { return capture.exit.has_value(); }));
    CHECK(capture.exit->code == 7);
    CHECK(capture.exit->signal == 0);
    CHECK_FALSE(capture.exit->clean());
    CHECK(capture.exit->describe() == "exited with code 7");
    CHECK(capture.err == std::vector<std::string>{"bye"});
}

TEST_CASE("a crash is reported with its signal: crash-after aborts with SIGABRT") {
    asio::io_context io;
    Capture capture;
    const int port = test::free_port();
    auto child = spawn_ok(io, {{test::test_service(), "--port", std::to_string(port), "--crash-after", "2"}, {}, {}}, capture);
    const std::string listening = "test_service listening on " + std::to_string(port);
    REQUIRE(test::run_until(io, [&] { return capture.has_out(listening); }));
    CHECK(test::http_get(port, "/healthz").find("200 OK") != std::string::npos);
    CHECK(test::http_get(port, "/version").find("\r\n\r\nv1\n") != std::string::npos);
    REQUIRE(test::run_until(io, [&] { return capture.exit.has_value(); }));
    CHECK(capture.exit->signal == SIGABRT);
    CHECK(capture.exit->code == -1);
    CHECK(capture.exit->describe() == "killed by SIGABRT");
}

TEST_CASE("an exit handler may start the next process, and each io_context reaps its own") {
    asio::io_context io, other_io;
    Capture first, second, elsewhere;
    std::shared_ptr<ChildProcess> next;
    auto child = ChildProcess::spawn(io, {{"/bin/sh", "-c", "exit 1"}, {}, {}}, first.lines(), [&](ExitStatus status) {
        first.exited()(status);
        auto spawned = ChildProcess::spawn(io, {{"/bin/sh", "-c", "echo again"}, {}, {}}, second.lines(), second.exited());
        REQUIRE(spawned.ok());
        next = *spawned;
    });
    REQUIRE(child.ok());
    auto other = spawn_ok(other_io, {{"/bin/sh", "-c", "exit 2"}, {}, {}}, elsewhere);
    REQUIRE(test::run_until(io, [&] { return second.exit.has_value(); }));
    CHECK(first.exit->code == 1);
    CHECK(second.out == std::vector<std::string>{"again"});
    CHECK_FALSE(elsewhere.exit.has_value());  // its io_context has not run yet
    REQUIRE(test::run_until(other_io, [&] { return elsewhere.exit.has_value(); }));
    CHECK(elsewhere.exit->code == 2);
}

TEST_CASE("describe names the signal or the code") {
    CHECK(ExitStatus{0, 0}.describe() == "exited with code 0");
    CHECK(ExitStatus{-1, SIGSEGV}.describe() == "killed by SIGSEGV");
    CHECK(ExitStatus{-1, SIGKILL}.describe() == "killed by SIGKILL");
}

TEST_CASE("the test service answers its endpoints over keep-alive") {
    asio::io_context io;
    Capture capture;
    const int port = test::free_port();
    auto child = spawn_ok(io, {{test::test_service(), "--version-string", "v7", "--fail-health"},
                               {{"PORT", std::to_string(port)}}, {}}, capture);
    REQUIRE(test::run_until(io, [&] { return capture.has_out("test_service listening on " + std::to_string(port)); }));
    CHECK(test::http_get(port, "/healthz").find("HTTP/1.1 503") == 0);
    CHECK(test::http_get(port, "/").find("hello from v7\n") != std::string::npos);
    CHECK(test::http_get(port, "/nope").find("HTTP/1.1 404") == 0);
    child->kill();
    REQUIRE(test::run_until(io, [&] { return capture.exit.has_value(); }));
    CHECK(capture.exit->signal == SIGKILL);
}

}  // namespace
}  // namespace tandem::process
