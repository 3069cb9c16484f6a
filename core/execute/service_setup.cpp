// Users and state directories of services, made ready before their processes start.
#include "execute/service_setup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace tandem::execute {

namespace {

namespace fs = std::filesystem;

Error field_error(const ServiceSpec& service, const std::string& field, const Error& error) {
    return make_error(error.code, "'services." + service.name + "." + field + "': " + error.message, service.location);
}

Result<std::optional<SystemUser>> resolve_user(const ServiceSpec& service) {
    // A container's user is one of its image: the container runtime passes it on as written.
    if (service.user.empty() || service.runs_container()) return std::optional<SystemUser>{};
    auto user = find_system_user(service.user);
    if (!user) return field_error(service, "user", user.error());
    if (auto allowed = check_may_run_as(*user); !allowed) return field_error(service, "user", allowed.error());
    return std::optional<SystemUser>(std::move(*user));
}

// One state directory: made with mode 0700 when missing, and given to `owner` when it has one.
Status make_state_dir(const ServiceSpec& service, const fs::path& dir, const std::optional<SystemUser>& owner) {
    auto failed = [&](const std::string& what, int error_number) {
        return field_error(service, "state",
                           make_error(ErrorCode::io, "cannot " + what + " '" + dir.string() + "': " +
                                                         std::strerror(error_number)));
    };
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return failed("create the state directory", errno);
    struct stat info {};
    if (::stat(dir.c_str(), &info) != 0) return failed("read", errno);
    if (!S_ISDIR(info.st_mode)) return failed("use as a state directory (not a directory)", ENOTDIR);
    if (owner && (info.st_uid != owner->uid || info.st_gid != owner->gid) &&
        ::chown(dir.c_str(), owner->uid, owner->gid) != 0)
        return failed("give " + owner->name + " the state directory", errno);
    return Ok{};
}

}  // namespace

Result<ServiceSetup> set_up_service(const Spec& spec, const ServiceSpec& service, const fs::path& state_root) {
    ServiceSetup setup;
    auto user = resolve_user(service);
    if (!user) return user.error();
    setup.user = std::move(*user);
    if (!service.state.empty()) {
        std::error_code ec;
        fs::create_directories(state_root, ec);
        if (ec)
            return field_error(service, "state",
                               make_error(ErrorCode::io, "cannot create the state root '" + state_root.string() +
                                                             "': " + ec.message()));
        for (const auto& name : service.state)
            if (auto made = make_state_dir(service, state_path(state_root, name), setup.user); !made)
                return made.error();
    }
    setup.service = with_state_paths(service, state_root);
    setup.env = expand_env(spec, setup.service);
    return setup;
}

void apply_setup(Release& release, const ServiceSetup& setup) {
    release.service = setup.service;
    release.env = setup.env;
    release.user = setup.user;
}

Status empty_state(const ServiceSpec& service, const fs::path& state_root) {
    for (const auto& name : service.state) {
        const fs::path dir = state_path(state_root, name);
        std::error_code ec;
        std::vector<fs::path> entries;  // listed first: removing while reading a directory may skip entries
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
        if (ec == std::errc::no_such_file_or_directory) continue;  // never used: nothing to empty
        for (std::size_t i = 0; !ec && i < entries.size(); ++i) fs::remove_all(entries[i], ec);
        if (ec)
            return field_error(service, "state", make_error(ErrorCode::io, "cannot empty the state directory '" +
                                                                               dir.string() + "': " + ec.message()));
    }
    return Ok{};
}

}  // namespace tandem::execute
