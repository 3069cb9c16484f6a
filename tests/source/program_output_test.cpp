// Programs the engine runs and waits for (git fetch, ssh-keygen): at the timeout the whole
// process group is killed, and its members are reaped, not left as zombies of the engine.
#include <doctest/doctest.h>

#include "source/program_output.hpp"
#include "support/temp_dir.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

namespace tandem::test {
namespace {

using namespace std::chrono_literals;

// How many children of `parent` are zombies.
int zombie_children(pid_t parent) {
    int zombies = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string stat = read_text(entry.path() / "stat");
        const auto close_paren = stat.rfind(')');
        if (close_paren == std::string::npos) continue;
        std::istringstream fields(stat.substr(close_paren + 2));
        char state = 0;
        pid_t ppid = 0;
        fields >> state >> ppid;
        if (ppid == parent && state == 'Z') ++zombies;
    }
    return zombies;
}

}  // namespace

TEST_CASE("a program killed at its timeout leaves no zombie of its group to an engine that is a subreaper") {
    // In a child process of its own: the subreaper attribute must not reach the other tests.
    const pid_t engine = ::fork();
    if (engine == 0) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        detail::ProgramLimits limits;
        limits.timeout = 500ms;
        // A shell with two children of its own, as git fetch has upload-pack and pack-objects.
        const auto run = detail::run_program({"sh", "-c", "sleep 30 & sleep 30 & wait"}, {}, limits);
        ::usleep(300'000);  // time for the killed members to be reparented and become zombies
        ::_exit(run.timed_out ? std::min(zombie_children(::getpid()), 100) : 101);
    }
    int status = 0;
    REQUIRE(::waitpid(engine, &status, 0) == engine);
    REQUIRE(WIFEXITED(status));
    CHECK_MESSAGE(WEXITSTATUS(status) != 101, "the program was not timed out");
    CHECK_MESSAGE(WEXITSTATUS(status) == 0, WEXITSTATUS(status) << " zombies left");
}

}  // namespace tandem::test
