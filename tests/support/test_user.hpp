// The system user `tandem-test` that tests run services as (`user:`), created when missing.
// Tests run as root here and in CI; a test that needs the user skips with a message otherwise.
#pragma once

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>

namespace tandem::test {

inline constexpr const char* kTestUser = "tandem-test";

struct TestUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

// The user, created with useradd if missing; nothing when the test does not run as root
// (then the caller says so with MESSAGE and returns).
inline std::optional<TestUser> test_user() {
    if (::geteuid() != 0) return std::nullopt;
    if (!::getpwnam(kTestUser)) (void)run_command({"useradd", "--system", "--no-create-home", kTestUser});
    const passwd* entry = ::getpwnam(kTestUser);  // another test may have created it meanwhile
    if (!entry) return std::nullopt;
    return TestUser{entry->pw_name, entry->pw_uid, entry->pw_gid};
}

// The effective uid of a running process, from /proc/<pid>/status ("Uid: real effective ...").
inline std::optional<uid_t> effective_uid(pid_t pid) {
    const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
    const auto at = status.find("\nUid:");
    if (at == std::string::npos) return std::nullopt;
    unsigned real = 0, effective = 0;
    if (std::sscanf(status.c_str() + at + 5, "%u %u", &real, &effective) != 2) return std::nullopt;
    return static_cast<uid_t>(effective);
}

// Lets another user into a test's temporary directory (mkdtemp makes it 0700).
inline void open_to_others(const std::filesystem::path& dir) { ::chmod(dir.c_str(), 0755); }

}  // namespace tandem::test
