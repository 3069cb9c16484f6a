// A user of this machine, looked up in its user database, and what a child process does to
// become that user between fork and exec.
#pragma once

#include <tandem/error.hpp>

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem {

struct SystemUser {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;              // its primary group
    std::vector<gid_t> groups;  // every group it is in (what initgroups would set)
    std::string home;
};

// The user called `name_or_uid` (a name, or a numeric uid) in the user database
// (getpwnam_r / getpwuid_r), with its groups. The error says what is missing; the caller
// names the field.
Result<SystemUser> find_system_user(std::string_view name_or_uid);

// Ok when this engine may start processes as `user`: it runs as root, or as that very user.
Status check_may_run_as(const SystemUser& user);

// HOME, USER and LOGNAME of `user`, for a child's environment.
std::vector<std::pair<std::string, std::string>> user_environment(const SystemUser& user);

// In a forked child, before exec: setgroups, setgid, setuid (only async-signal-safe calls).
// Returns 0, or the errno of the call that failed.
int become_user(const SystemUser& user);

}  // namespace tandem
