// The compose service keys tandem ignores (warned, with what happens instead) and refuses, and the
// check of a service's keys against them.
#include "config/compose_context.hpp"

#include "support/suggest.hpp"

#include <fmt/format.h>

namespace tandem::config::compose {

namespace {

// Keys tandem ignores, and what happens instead.
const std::map<std::string, std::string, std::less<>>& warned_keys() {
    static const std::map<std::string, std::string, std::less<>> keys = {
        {"container_name", "tandem names each container itself (<project>-<service>-<replica>-<run>); other services reach it by the service name"},
        {"hostname", "the container's host name is the one Docker gives it; other services reach it by the service name"},
        {"domainname", "other services reach it by the service name"},
        {"logging", "tandem reads each container's output itself (devloop logs, the API); the logging driver is Docker's default"},
        {"platform", "images are built and run for this machine's platform"},
        {"pull_policy", "tandem never pulls: an image must exist locally or be built"},
        {"tty", "the container runs without a terminal, its output read by tandem"},
        {"stdin_open", "the container runs without standard input"},
        {"init", "the image's entrypoint is PID 1"},
        {"stop_signal", "tandem stops a container with SIGTERM, then SIGKILL after stop_grace_period"},
        {"mem_limit", "not applied: the container has no memory limit"},
        {"memswap_limit", "not applied: the container has no memory limit"},
        {"mem_reservation", "not applied"},
        {"mem_swappiness", "not applied"},
        {"cpus", "not applied: the container has no CPU limit"},
        {"cpu_shares", "not applied: the container has no CPU limit"},
        {"cpu_quota", "not applied"},
        {"cpu_period", "not applied"},
        {"cpu_count", "not applied"},
        {"cpu_percent", "not applied"},
        {"cpuset", "not applied"},
        {"cpu_rt_runtime", "not applied"},
        {"cpu_rt_period", "not applied"},
        {"blkio_config", "not applied"},
        {"pids_limit", "not applied"},
        {"oom_kill_disable", "not applied"},
        {"oom_score_adj", "not applied"},
        {"ulimits", "not applied: the container gets Docker's default limits"},
        {"shm_size", "not applied: /dev/shm has Docker's default size (64 MB)"},
        {"read_only", "not applied: the container's root filesystem is writable"},
        {"dns", "the container uses Docker's DNS (service names resolve on the project network)"},
        {"dns_search", "the container uses Docker's DNS settings"},
        {"dns_opt", "the container uses Docker's DNS settings"},
        {"links", "services reach each other by service name on the project network; link aliases are not made"},
        {"sysctls", "not applied"},
        {"annotations", "not applied"},
        {"attach", "tandem always reads the container's output"},
        {"mac_address", "the container gets the address Docker gives it"},
        {"group_add", "not applied: the container runs with its user's groups"},
        {"storage_opt", "not applied"},
        {"expose", ""},  // accepted: containers reach each other's ports on the project network
        {"stop_grace_period", ""},
        {"labels", ""},
        {"restart", ""},
        {"scale", ""},
        {"label_file", "not read: write the labels under 'labels:'"},
        {"pull_refresh_after", "tandem never pulls: an image must exist locally or be built"},
        {"develop", ""},
    };
    return keys;
}

// Keys that change behaviour tandem cannot honour.
const std::map<std::string, std::string, std::less<>>& refused_keys() {
    static const std::map<std::string, std::string, std::less<>> keys = {
        {"privileged", "tandem does not run privileged containers"},
        {"cap_add", "tandem runs containers with Docker's default capabilities"},
        {"cap_drop", "tandem runs containers with Docker's default capabilities"},
        {"devices", "tandem does not give containers host devices"},
        {"device_cgroup_rules", "tandem does not give containers host devices"},
        {"gpus", "tandem does not give containers GPUs"},
        {"network_mode", "every service of a tandem project is on the project's network"},
        {"pid", "tandem does not share process namespaces"},
        {"ipc", "tandem does not share IPC namespaces"},
        {"uts", "tandem does not share UTS namespaces"},
        {"userns_mode", "tandem does not change user namespaces"},
        {"cgroup", "tandem does not change cgroup namespaces"},
        {"cgroup_parent", "tandem does not place containers in other cgroups"},
        {"runtime", "tandem runs containers with Docker's default runtime"},
        {"isolation", "tandem runs containers with Docker's default isolation"},
        {"security_opt", "tandem runs containers with Docker's default security options"},
        {"credential_spec", "not supported"},
        {"volumes_from", "mount the same named volume in both services instead"},
        {"extends", "not supported: write the service out, or share keys with a YAML anchor (x-common: &common) and '<<: *common'"},
        {"external_links", "tandem reaches only the project's own services"},
        {"post_start", "tandem has no lifecycle hooks: run the command in the image's entrypoint"},
        {"pre_stop", "tandem has no lifecycle hooks"},
        {"use_api_socket", "tandem does not give containers the Docker daemon's socket"},
        {"models", "tandem runs no AI models"},
        {"provider", "tandem runs containers only"},
    };
    return keys;
}

const std::vector<std::string_view>& known_keys() {
    static const std::vector<std::string_view> keys = [] {
        std::vector<std::string_view> out = {"image", "build", "command", "entrypoint", "environment", "env_file",
                                             "ports", "depends_on", "healthcheck", "volumes", "tmpfs", "networks",
                                             "profiles", "deploy", "user", "working_dir", "extra_hosts", "secrets",
                                             "configs"};
        for (const auto& [key, _] : warned_keys()) out.push_back(key);
        for (const auto& [key, _] : refused_keys()) out.push_back(key);
        return out;
    }();
    return keys;
}

bool handled_elsewhere(std::string_view key) {
    for (auto name : {"image", "build", "command", "entrypoint", "environment", "env_file", "ports", "depends_on",
                      "healthcheck", "volumes", "tmpfs", "networks", "profiles", "deploy", "user", "working_dir",
                      "extra_hosts", "secrets", "configs", "expose", "stop_grace_period", "labels", "restart", "scale",
                      "develop"})
        if (key == name) return true;
    return false;
}

}  // namespace

Status check_service_keys(Context& context, const YAML::Node& service, const std::string& path) {
    for (auto it = service.begin(); it != service.end(); ++it) {
        const std::string key = it->first.Scalar();
        if (key.rfind("x-", 0) == 0 || handled_elsewhere(key)) continue;
        if (const auto refused = refused_keys().find(key); refused != refused_keys().end())
            return context.invalid(it->first, path + "." + key, "refused: " + refused->second);
        if (const auto warned = warned_keys().find(key); warned != warned_keys().end()) {
            context.warn(it->first, path + "." + key, "ignored: " + warned->second, ErrorCode::unknown_key);
            continue;
        }
        return context.error(ErrorCode::unknown_key, it->first, "",
                             fmt::format("unknown key '{}' in '{}'{}", key, path, did_you_mean(key, known_keys())));
    }
    return Ok{};
}

}  // namespace tandem::config::compose
