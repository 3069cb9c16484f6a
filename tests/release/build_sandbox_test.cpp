// builds.sandbox (issue 13, defect 10): under the harness a build runs in bubblewrap, may write
// only its scratch copy (and a private /tmp), and has no network unless `build.network: true`;
// when bubblewrap is missing or cannot make its namespaces, the build fails and never runs
// outside the sandbox. Real shipper deploys of real git commits, real sockets.
#include "release/release_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

// project_yaml with `extra` appended to web's build command (and its `build:` keys).
std::string with_build(int port, const std::string& extra, const std::string& policy_extra = {},
                       const std::string& build_keys = {}) {
    std::string yaml = project_yaml(port, {}, policy_extra);
    const std::string tail = "cp version.txt out/version\n";
    const auto at = yaml.find(tail);
    REQUIRE(at != std::string::npos);
    yaml.replace(at, tail.size(), "cp version.txt out/version" + extra + "\n" + build_keys);
    return yaml;
}

bool refused(Engine& engine, const std::string& commit) {
    return eventually([&] { return engine.status().history.rejected.count(commit) > 0; }, 30000ms);
}

// A TCP listener on 127.0.0.1 of the host (not a sandbox's own loopback), closed at the end.
struct Listener {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port = 0;
    Listener() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd, 16) == 0);
        socklen_t size = sizeof address;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        port = ntohs(address.sin_port);
    }
    ~Listener() { ::close(fd); }
    // True if a connection is waiting to be accepted.
    bool connected() const {
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    }
};

// bash's /dev/tcp: the build connects to `port` on the host's loopback, or fails.
std::string connect_to(int port) {
    return " && bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + "'";
}

// PATH set for this scope (before any engine thread starts, restored after they end).
class ScopedPath {
public:
    explicit ScopedPath(const std::string& path) : old_(std::getenv("PATH") ? std::getenv("PATH") : "") {
        ::setenv("PATH", path.c_str(), 1);
    }
    ~ScopedPath() { ::setenv("PATH", old_.c_str(), 1); }
    ScopedPath(const ScopedPath&) = delete;
    ScopedPath& operator=(const ScopedPath&) = delete;

private:
    std::string old_;
};

}  // namespace

TEST_CASE_FIXTURE(FirstRelease, "under builds.sandbox a build that writes outside its scratch copy fails, the file unwritten") {
    // The first release was built in the sandbox (harness turns it on) and serves.
    CHECK(served_version(port) == "v1");
    TempDir outside;
    const fs::path escaped = outside.path() / "escaped.txt";
    const auto writer =
        upstream.commit({{"tandem.yaml", with_build(port, " && echo owned > " + escaped.string())},
                         {"version.txt", "v2\n"}},
                        "write outside");
    REQUIRE(refused(engine, writer));
    CHECK_FALSE(fs::exists(escaped));
    CHECK(engine.status().deployed == first);
    CHECK_MESSAGE(engine.status().last_error.find("build of 'web' exited with code") != std::string::npos,
                  engine.status().last_error);
    CHECK(served_version(port) == "v1");
}

TEST_CASE_FIXTURE(FirstRelease, "under builds.sandbox a build cannot reach a listener on the host, and build.network: true lets it") {
    Listener listener;
    const auto closed = upstream.commit(
        {{"tandem.yaml", with_build(port, connect_to(listener.port))}, {"version.txt", "v2\n"}}, "connect");
    REQUIRE(refused(engine, closed));
    CHECK_FALSE(listener.connected());
    CHECK(served_version(port) == "v1");

    const auto open = upstream.commit(
        {{"tandem.yaml", with_build(port, connect_to(listener.port), {}, "      network: true\n")}}, "network allowed");
    REQUIRE_MESSAGE(engine.deployed(open), engine.status().last_error);
    CHECK(listener.connected());
    CHECK(served_version(port) == "v2");
}

TEST_CASE("with builds.sandbox off a build writes where it likes and reaches the network, as before") {
    Upstream upstream;
    TempDir state;
    TempDir outside;
    Listener listener;
    const int port = free_port();
    const fs::path written = outside.path() / "written.txt";
    const std::string off = "    builds:\n      sandbox: false\n";
    const auto first = upstream.commit(
        {{"tandem.yaml", with_build(port, " && echo here > " + written.string() + connect_to(listener.port), off)},
         {"version.txt", "v1\n"}},
        "unsandboxed");
    Engine engine(upstream.path(), state.path());
    REQUIRE_MESSAGE(engine.deployed(first), engine.status().last_error);
    CHECK(read_text(written) == "here\n");
    CHECK(listener.connected());
}

TEST_CASE("under builds.sandbox without bubblewrap on PATH the build fails with a clear error and does not run") {
    Upstream upstream;
    TempDir state;
    TempDir empty_path;  // PATH without bwrap
    const int port = free_port();
    const auto first = upstream.commit(
        {{"tandem.yaml", with_build(port, " && echo BUILD-RAN")}, {"version.txt", "v1\n"}}, "first");
    // Only git on PATH (shipper fetches with a git child process): no bwrap.
    const auto git = run_command({"sh", "-c", "command -v git"});
    REQUIRE(git.exit_code == 0);
    fs::create_symlink(git.out.substr(0, git.out.find('\n')), empty_path.path() / "git");
    ScopedPath path(empty_path.path().string());
    Engine engine(upstream.path(), state.path());
    REQUIRE(eventually([&] { return engine.status().history.rejected.count(first) > 0; }, 30000ms));
    const std::string error = engine.status().last_error;
    CHECK_MESSAGE(error.find("the build of 'web' did not run: builds.sandbox is on") != std::string::npos, error);
    CHECK_MESSAGE(error.find("'bwrap'") != std::string::npos, error);
    CHECK(error.find("bubblewrap") != std::string::npos);
    CHECK(engine.events.count(RuntimeEventKind::log, "BUILD-RAN") == 0);
    CHECK(engine.status().deployed.empty());
}

TEST_CASE("under builds.sandbox where bubblewrap cannot create namespaces the build fails with its reason and does not run") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const auto first = upstream.commit(
        {{"tandem.yaml", with_build(port, " && echo BUILD-RAN")}, {"version.txt", "v1\n"}}, "first");
    // shipper run inside a user namespace that may create no further one: as a container that
    // forbids namespaces would run it.
    BackgroundProgram shipper_run(
        state.path(),
        {"/usr/bin/bwrap", "--unshare-user", "--disable-userns", "--dev-bind", "/", "/",
         "--die-with-parent", "--", TANDEM_SHIPPER, "run", "--repo", upstream.path().string(), "--ref", "main",
         "--state-dir", state.path().string(), "--poll", "100ms", "--bootstrap"},
        state.path() / "shipper.log");
    nlohmann::json release;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            release = shipper_status(state.path()).value("release", nlohmann::json::object());
                            return !release.value("last_error", "").empty();
                        },
                        30000ms),
                    read_text(state.path() / "shipper.log"));
    const std::string error = release.value("last_error", "");
    CHECK_MESSAGE(error.find("the build of 'web' did not run: builds.sandbox is on, but bubblewrap cannot make its "
                             "sandbox here (bwrap: ") != std::string::npos,
                  error);
    CHECK(release.value("deployed", "") == "");
    shipper_run.stop();
    CHECK(read_text(state.path() / "shipper.log").find("BUILD-RAN") == std::string::npos);
}

namespace {

// Pids of processes whose command line holds `needle`.
std::vector<pid_t> processes_with(const std::string& needle) {
    std::vector<pid_t> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline = read_text(entry.path() / "cmdline");  // "" when it is gone meanwhile
        for (auto& c : cmdline) c = c == '\0' ? ' ' : c;
        if (cmdline.find(needle) != std::string::npos) pids.push_back(std::stoi(name));
    }
    return pids;
}

}  // namespace

TEST_CASE("under builds.sandbox a daemon the build leaves behind (setsid) does not outlive the build") {
    Upstream upstream;
    TempDir state;
    const int port = free_port();
    const std::string marker = "987654.321";  // sleep's argument, to find it by
    const auto first = upstream.commit(
        {{"tandem.yaml", with_build(port, " && (setsid sleep " + marker + " > /dev/null 2>&1 &)")},
         {"version.txt", "v1\n"}},
        "daemon");
    std::vector<pid_t> left;
    {
        Engine engine(upstream.path(), state.path());
        REQUIRE_MESSAGE(engine.deployed(first), engine.status().last_error);
        left = processes_with("sleep " + marker);
    }
    for (const pid_t pid : left) ::kill(pid, SIGKILL);  // what an unsandboxed build leaves: not our test's to keep
    CHECK(left.empty());
}
