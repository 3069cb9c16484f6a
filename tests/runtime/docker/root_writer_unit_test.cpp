// Live sync's writes into a container's root through /proc/PID/root: a chrooted child stands in
// for a container (its root a temporary directory), so no daemon is needed; root is (chroot).
#include "runtime/container/root_writer.hpp"

#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

// A child chrooted into `root`, waiting to be killed.
struct Jailed {
    pid_t pid = -1;
    explicit Jailed(const fs::path& root) {
        pid = fork();
        if (pid == 0) {
            if (chroot(root.c_str()) != 0) _exit(1);
            pause();
            _exit(0);
        }
    }
    ~Jailed() {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
};

}  // namespace

TEST_CASE("root writer: files land inside the container's root, a symlink of the image cannot lead out, removals work") {
    if (geteuid() != 0) {
        MESSAGE("skipped: chroot needs root");
        return;
    }
    tandem::test::TempDir root, host, sources;
    // The "image": /srv/old.txt, and /srv/escape -> an absolute path that exists on the host too.
    root.write("srv/old.txt", "old\n");
    fs::create_symlink(host.path().string(), root.path() / "srv/escape");
    fs::create_directories(root.path() / host.path().relative_path());  // where it points inside the root
    sources.write("index.html", "new\n");
    sources.write("script.sh", "#!/bin/sh\n");
    fs::permissions(sources.path() / "script.sh", fs::perms(0755));

    Jailed jailed(root.path());
    REQUIRE(jailed.pid > 0);
    REQUIRE(tandem::test::eventually(
        [&] {
            std::error_code ec;
            return fs::read_symlink("/proc/" + std::to_string(jailed.pid) + "/root", ec) == root.path();
        },
        std::chrono::milliseconds(5000)));

    const std::map<std::string, fs::path> files = {{"/srv/index.html", sources.path() / "index.html"},
                                                    {"/srv/deep/er/script.sh", sources.path() / "script.sh"},
                                                    {"/srv/escape/planted", sources.path() / "index.html"}};
    const tandem::Status written = tandem::container::write_into_root(jailed.pid, files, {"/srv/old.txt", "/srv/missing"});
    REQUIRE_MESSAGE(written.ok(), (written ? "" : written.error().to_string()));
    CHECK(read_text(root.path() / "srv/index.html") == "new\n");
    CHECK(read_text(root.path() / "srv/deep/er/script.sh") == "#!/bin/sh\n");
    CHECK((fs::status(root.path() / "srv/deep/er/script.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
    CHECK_FALSE(fs::exists(root.path() / "srv/old.txt"));
    // The absolute link resolved inside the root: the host's directory got nothing.
    CHECK_FALSE(fs::exists(host.path() / "planted"));
    CHECK(read_text(root.path() / host.path().relative_path() / "planted") == "new\n");
}

TEST_CASE("root writer: a process that does not exist is unavailable, so the caller falls back") {
    const tandem::Status none = tandem::container::write_into_root(0, {}, {});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code == tandem::ErrorCode::unavailable);
    const tandem::Status gone = tandem::container::write_into_root(999999999, {}, {});
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().code == tandem::ErrorCode::unavailable);
}
