// `user:` and `state:` at the process level, with a real system user: children and exec probes
// run as the user (groups, uid, HOME/USER/LOGNAME) and are still stopped by the engine; state
// directories are made 0700 for their user and emptied in place; an engine that is not root
// may not run processes as another user.
#include "runtime/process/child_process.hpp"
#include "runtime/process/health_probe.hpp"
#include "execute/service_setup.hpp"

#include "process/process_test_support.hpp"
#include "support/temp_dir.hpp"
#include "support/test_user.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace tandem::process {
using execute::set_up_service;
using execute::empty_state;
namespace {

SystemUser system_user_of(const test::TestUser& user) {
    auto found = find_system_user(user.name);
    REQUIRE_MESSAGE(found.ok(), found.error().to_string());
    return *found;
}

struct stat stat_of(const std::filesystem::path& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info;
}

}  // namespace

TEST_CASE("a child launched with a user runs as that user, with its HOME, USER and LOGNAME, and is stopped by the engine") {
    const auto user = test::test_user();
    if (!user) {
        MESSAGE("skipped: running a process as another user needs root");
        return;
    }
    asio::io_context io;
    test::TempDir dir;
    test::open_to_others(dir.path());
    std::vector<std::string> out;
    std::optional<ExitStatus> exit;
    LaunchSpec launch;
    launch.argv = {"/bin/sh", "-c", "id -u; id -g; echo \"$USER $LOGNAME $HOME $KEPT\"; pwd; exec sleep 30"};
    launch.env = {{"KEPT", "from-env"}};
    launch.cwd = dir.path();
    launch.user = system_user_of(*user);
    auto child = ChildProcess::spawn(
        io, launch, [&](LogStream, std::string_view line) { out.emplace_back(line); },
        [&](ExitStatus status) { exit = status; });
    REQUIRE_MESSAGE(child.ok(), child.error().to_string());
    REQUIRE(test::run_until(io, [&] { return out.size() >= 4; }));
    CHECK(out[0] == std::to_string(user->uid));
    CHECK(out[1] == std::to_string(user->gid));
    CHECK(out[2] == user->name + " " + user->name + " " + launch.user->home + " from-env");
    CHECK(out[3] == std::filesystem::canonical(dir.path()).string());
    CHECK(test::effective_uid((*child)->pid()) == user->uid);

    bool stopped = false;
    (*child)->stop(Duration(2000), [&] { stopped = true; });
    REQUIRE(test::run_until(io, [&] { return stopped; }));
    CHECK_FALSE(group_alive((*child)->pid()));
}

TEST_CASE("the service's env wins over the user's HOME") {
    const auto user = test::test_user();
    if (!user) {
        MESSAGE("skipped: running a process as another user needs root");
        return;
    }
    asio::io_context io;
    std::vector<std::string> out;
    bool exited = false;
    LaunchSpec launch;
    launch.argv = {"/bin/sh", "-c", "echo $HOME"};
    launch.env = {{"HOME", "/srv/db"}};
    launch.user = system_user_of(*user);
    auto child = ChildProcess::spawn(
        io, launch, [&](LogStream, std::string_view line) { out.emplace_back(line); }, [&](ExitStatus) { exited = true; });
    REQUIRE(child.ok());
    REQUIRE(test::run_until(io, [&] { return exited; }));
    CHECK(out == std::vector<std::string>{"/srv/db"});
}

TEST_CASE("an exec probe runs as the replica's user") {
    const auto user = test::test_user();
    if (!user) {
        MESSAGE("skipped: running a process as another user needs root");
        return;
    }
    asio::io_context io;
    HealthSpec spec;
    spec.kind = ProbeKind::exec;
    spec.command = {"/bin/sh", "-c", "test \"$(id -u)\" = " + std::to_string(user->uid) + " && test \"$USER\" = " + user->name};
    spec.timeout = Duration(5000);
    auto check = [&](const std::optional<SystemUser>& as) {
        auto probe = make_probe(io, spec, 0, {}, {}, as);
        std::optional<ProbeOutcome> outcome;
        probe->check([&](ProbeOutcome o) { outcome = o; });
        REQUIRE(test::run_until(io, [&] { return outcome.has_value(); }));
        return *outcome;
    };
    CHECK(check(system_user_of(*user)).ok);
    CHECK_FALSE(check(std::nullopt).ok);  // the same probe as root fails: the check is real
}

TEST_CASE("state directories are made 0700 for the service's user, and a reset empties them in place") {
    const auto user = test::test_user();
    if (!user) {
        MESSAGE("skipped: giving a state directory to another user needs root");
        return;
    }
    test::TempDir dir;
    const auto root = dir.path() / "state";
    Spec spec;
    ServiceSpec db;
    db.name = "db";
    db.run.argv = {"./db", "${state.pgdata}"};
    db.state = {"pgdata", "wal"};
    db.user = user->name;
    spec.services.push_back(db);

    auto setup = set_up_service(spec, db, root);
    REQUIRE_MESSAGE(setup.ok(), setup.error().to_string());
    CHECK(setup->service.run.argv[1] == (root / "pgdata").string());
    REQUIRE(setup->user);
    CHECK(setup->user->uid == user->uid);
    for (const char* name : {"pgdata", "wal"}) {
        const struct stat info = stat_of(root / name);
        CHECK(S_ISDIR(info.st_mode));
        CHECK((info.st_mode & 07777) == 0700);
        CHECK(info.st_uid == user->uid);
        CHECK(info.st_gid == user->gid);
    }

    // What the service wrote is kept by the next setup; a reset empties the directory itself.
    test::TempDir unused;
    std::ofstream(root / "pgdata" / "PG_VERSION") << "15\n";
    std::filesystem::create_directories(root / "pgdata" / "base" / "1");
    std::filesystem::create_symlink(unused.path(), root / "pgdata" / "link");
    REQUIRE(set_up_service(spec, db, root).ok());
    CHECK(std::filesystem::exists(root / "pgdata" / "PG_VERSION"));

    REQUIRE(empty_state(db, root).ok());
    CHECK(std::filesystem::is_empty(root / "pgdata"));
    CHECK(std::filesystem::exists(unused.path()));  // a symlink is removed, not followed
    const struct stat kept = stat_of(root / "pgdata");
    CHECK((kept.st_mode & 07777) == 0700);
    CHECK(kept.st_uid == user->uid);
}

TEST_CASE("an engine that is not root may not run a service as another user: the error names the field") {
    const auto user = test::test_user();
    if (!user) {
        MESSAGE("skipped: becoming another user for this check needs root");
        return;
    }
    test::TempDir dir;
    Spec spec;
    ServiceSpec db;
    db.name = "db";
    db.run.argv = {"./db"};
    db.user = "root";
    db.location = SourceLocation{"tandem.yaml", 7, 3};
    spec.services.push_back(db);

    // The check runs in a child that dropped root, and reports through a pipe.
    int report[2];
    REQUIRE(::pipe(report) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(report[0]);
        if (::setgid(user->gid) != 0 || ::setuid(user->uid) != 0) ::_exit(2);
        auto setup = set_up_service(spec, db, dir.path() / "state");
        const std::string text = setup.ok() ? "ok" : setup.error().to_string();
        [[maybe_unused]] auto written = ::write(report[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(report[1]);
    std::string text;
    char buffer[512];
    for (ssize_t got; (got = ::read(report[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(got));
    ::close(report[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(text == "tandem.yaml:7:3: 'services.db.user': the engine runs as uid " + std::to_string(user->uid) +
                      ", not as root, so it cannot start processes as 'root' (uid 0): run the engine as root, or "
                      "remove `user:`");
}

}  // namespace tandem::process
