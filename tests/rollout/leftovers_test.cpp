// Real processes: start times from /proc, recognising our own replicas, and stopping the
// process groups a killed engine left behind (SIGTERM, then SIGKILL after the grace period).
#include "runtime/process/runtime_state.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace {

using tandem::Duration;
using tandem::process::process_start_ticks;
using tandem::process::ReplicaRecord;
using tandem::process::still_running;
using tandem::process::stop_leftovers;

bool group_gone(pid_t pgid) { return ::kill(-pgid, 0) == -1 && errno == ESRCH; }
bool process_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

// Orphaned grandchildren come to this process, which reaps them (as the engine does), rather
// than to a pid 1 that may never reap them.
void become_subreaper() { REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0); }

struct Spawned {
    pid_t leader = 0;
    pid_t grandchild = 0;
};

// A process group led by a child running `sleep 60`, with a grandchild `sleep 60` in it.
// With `ignore_term`, both ignore SIGTERM.
Spawned spawn_group(bool ignore_term) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::setpgid(0, 0);
        if (ignore_term) ::signal(SIGTERM, SIG_IGN);  // survives exec
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        if (::write(fds[1], &grandchild, sizeof grandchild) != sizeof grandchild) ::_exit(126);
        ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::setpgid(child, child);  // fails harmlessly if the child got there first
    ::close(fds[1]);
    Spawned spawned{child, 0};
    REQUIRE(::read(fds[0], &spawned.grandchild, sizeof spawned.grandchild) == sizeof spawned.grandchild);
    ::close(fds[0]);
    REQUIRE(spawned.grandchild > 0);
    return spawned;
}

ReplicaRecord record_of(pid_t pid) {
    ReplicaRecord record;
    record.service = "api";
    record.pid = pid;
    record.start_ticks = process_start_ticks(pid);
    return record;
}

TEST_CASE("process_start_ticks: non-zero and stable for a live process, 0 for a dead one") {
    const auto ticks = process_start_ticks(::getpid());
    CHECK(ticks != 0);
    CHECK(process_start_ticks(::getpid()) == ticks);
    CHECK(process_start_ticks(0) == 0);
    CHECK(process_start_ticks(-1) == 0);

    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(process_start_ticks(child) == 0);
}

TEST_CASE("process_start_ticks reads past a command name holding spaces and parentheses") {
    int to_child[2], to_parent[2];
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(to_parent) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        char go = 0;
        if (::read(to_child[0], &go, 1) != 1) ::_exit(1);
        ::prctl(PR_SET_NAME, "a) b (c) 1 2");
        if (::write(to_parent[1], &go, 1) != 1) ::_exit(1);
        ::pause();
        ::_exit(0);
    }
    const auto before = process_start_ticks(child);
    char go = 'x';
    REQUIRE(::write(to_child[1], &go, 1) == 1);
    REQUIRE(::read(to_parent[0], &go, 1) == 1);
    const auto after = process_start_ticks(child);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
    CHECK(before != 0);
    CHECK(after == before);
}

TEST_CASE("still_running tells a recorded process from another one with the same pid") {
    auto record = record_of(::getpid());
    CHECK(still_running(record));
    record.start_ticks += 1;
    CHECK_FALSE(still_running(record));
    record.start_ticks = 0;
    CHECK_FALSE(still_running(record));
}

TEST_CASE("stop_leftovers stops a whole process group, grandchildren included") {
    become_subreaper();
    const auto spawned = spawn_group(false);
    REQUIRE_FALSE(group_gone(spawned.leader));
    REQUIRE_FALSE(process_gone(spawned.grandchild));

    // A record whose pid is now someone else (this very process) must not be touched.
    auto stranger = record_of(::getpid());
    stranger.start_ticks += 1;
    const auto start = std::chrono::steady_clock::now();
    const auto stopped = stop_leftovers({stranger, record_of(spawned.leader)}, Duration{5000});
    const auto took = std::chrono::steady_clock::now() - start;

    REQUIRE(stopped.size() == 1);
    CHECK(stopped[0].pid == spawned.leader);
    CHECK(group_gone(spawned.leader));
    CHECK(process_gone(spawned.grandchild));
    CHECK(took < std::chrono::milliseconds(4000));  // SIGTERM was enough
}

TEST_CASE("stop_leftovers kills a group that ignores SIGTERM once the grace period is over") {
    become_subreaper();
    const auto spawned = spawn_group(true);
    const Duration grace{300};
    const auto start = std::chrono::steady_clock::now();
    const auto stopped = stop_leftovers({record_of(spawned.leader)}, grace);
    const auto took = std::chrono::steady_clock::now() - start;

    REQUIRE(stopped.size() == 1);
    CHECK(took >= grace);
    CHECK(took < grace + std::chrono::milliseconds(3000));
    CHECK(group_gone(spawned.leader));
    CHECK(process_gone(spawned.grandchild));
    // It was our child, and it has been reaped.
    CHECK(::waitpid(spawned.leader, nullptr, WNOHANG) == -1);
}

TEST_CASE("stop_leftovers leaves records of processes that are gone alone") {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    auto record = record_of(child);
    ::waitpid(child, nullptr, 0);
    CHECK(stop_leftovers({record}, Duration{100}).empty());
}

}  // namespace
