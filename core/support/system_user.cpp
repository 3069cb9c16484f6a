// Users of this machine: looked up with the reentrant getpw*_r calls, and become in a child.
#include "support/system_user.hpp"

#include <fmt/format.h>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

namespace tandem {

namespace {

std::optional<uid_t> parse_uid(std::string_view text) {
    uid_t uid = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), uid);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return uid;
}

std::vector<gid_t> groups_of(const char* name, gid_t primary) {
    int count = 32;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    while (::getgrouplist(name, primary, groups.data(), &count) < 0) groups.resize(static_cast<std::size_t>(count));
    groups.resize(static_cast<std::size_t>(count));
    return groups;
}

}  // namespace

Result<SystemUser> find_system_user(std::string_view name_or_uid) {
    const std::string key(name_or_uid);
    if (key.empty()) return make_error(ErrorCode::invalid_value, "a user name or uid must not be empty");
    const auto uid = parse_uid(key);
    std::vector<char> buffer(16 * 1024);
    passwd entry{};
    passwd* found = nullptr;
    int error = 0;
    while (true) {
        error = uid ? ::getpwuid_r(*uid, &entry, buffer.data(), buffer.size(), &found)
                    : ::getpwnam_r(key.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error != ERANGE) break;
        buffer.resize(buffer.size() * 2);
    }
    if (error != 0)
        return make_error(ErrorCode::io,
                          fmt::format("cannot read the user database for '{}': {}", key, std::strerror(error)));
    if (!found)
        return make_error(ErrorCode::invalid_value,
                          fmt::format("{} on this machine (create it, e.g. useradd --system {})",
                                      uid ? "no user has uid " + key : fmt::format("no user '{}'", key),
                                      uid ? fmt::format("--uid {} NAME", key) : key));
    SystemUser user;
    user.name = found->pw_name;
    user.uid = found->pw_uid;
    user.gid = found->pw_gid;
    user.home = found->pw_dir ? found->pw_dir : "/";
    user.groups = groups_of(found->pw_name, found->pw_gid);
    return user;
}

Status check_may_run_as(const SystemUser& user) {
    const uid_t engine = ::geteuid();
    if (engine == 0 || engine == user.uid) return Ok{};
    return make_error(ErrorCode::policy_denied,
                      fmt::format("the engine runs as uid {}, not as root, so it cannot start processes as '{}' (uid "
                                  "{}): run the engine as root, or remove `user:`",
                                  engine, user.name, user.uid));
}

std::vector<std::pair<std::string, std::string>> user_environment(const SystemUser& user) {
    return {{"HOME", user.home}, {"USER", user.name}, {"LOGNAME", user.name}};
}

int become_user(const SystemUser& user) {
    const uid_t engine = ::geteuid();
    if (engine != 0 && engine == user.uid) return 0;  // already that user, and not allowed to change groups
    if (::setgroups(user.groups.size(), user.groups.data()) != 0) return errno;
    if (::setgid(user.gid) != 0) return errno;
    if (::setuid(user.uid) != 0) return errno;
    return 0;
}

}  // namespace tandem
