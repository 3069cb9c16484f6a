// The engine raises its soft descriptor limit to the hard one (room for API clients, logs and
// proxied connections); the programs it starts get the limit the engine was started with back,
// as from a shell, so that a program built on select() does not meet descriptors past 1024.
#include <doctest/doctest.h>

#include "runtime/runtime_fixture.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tandem::test {
namespace {

using namespace std::chrono_literals;

// The soft "Max open files" of a running process, from /proc.
std::string soft_descriptor_limit(pid_t pid) {
    std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
    for (std::string line; std::getline(limits, line);)
        if (line.rfind("Max open files", 0) == 0) {
            std::istringstream fields(line.substr(std::string("Max open files").size()));
            std::string soft;
            fields >> soft;
            return soft;
        }
    return "";
}

// devloop up on `dir`, started with a soft descriptor limit of 512 under a hard one of 4096.
pid_t start_limited_devloop(const std::filesystem::path& dir) {
    const pid_t engine = fork();
    if (engine == 0) {
        const rlimit limit{512, 4096};
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
        const int sink = open("/dev/null", O_WRONLY);
        dup2(sink, 1);
        dup2(sink, 2);
        const std::string file = (dir / "tandem.yaml").string();
        execl(TANDEM_DEVLOOP, TANDEM_DEVLOOP, "up", "-f", file.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    return engine;
}

}  // namespace

TEST_CASE("the engine raises its own descriptor limit and its builds, replicas and probes get the one it started with") {
    TempDir dir;
    dir.write("tandem.yaml", "version: 1\nservices:\n"
                             "  app:\n"
                             "    build:\n"
                             "      command: sh -c 'ulimit -n > build.limit && mkdir -p out'\n"
                             "      outputs: [out]\n"
                             "    run: [sh, -c, 'ulimit -n > run.limit; exec sleep 300']\n"
                             "    health:\n"
                             "      exec: [sh, -c, 'ulimit -n > probe.limit']\n"
                             "      interval: 100ms\n");
    const pid_t engine = start_limited_devloop(dir.path());
    const bool written = eventually([&] {
        return std::filesystem::exists(dir.path() / "build.limit") && std::filesystem::exists(dir.path() / "run.limit") &&
               std::filesystem::exists(dir.path() / "probe.limit");
    }, 20000ms);
    const std::string engine_limit = soft_descriptor_limit(engine);
    ::kill(engine, SIGINT);
    int status = 0;
    ::waitpid(engine, &status, 0);
    REQUIRE(written);
    CHECK(engine_limit == "4096");
    CHECK(read_text(dir.path() / "build.limit") == "512\n");
    CHECK(read_text(dir.path() / "run.limit") == "512\n");
    CHECK(read_text(dir.path() / "probe.limit") == "512\n");
}

}  // namespace tandem::test
