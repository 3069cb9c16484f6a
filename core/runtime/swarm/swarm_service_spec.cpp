// What a release of a container service becomes on a swarm: the service spec of the Engine API
// (POST /services/create and /services/{id}/update) and the secrets it mounts.
#include "runtime/container/container_names.hpp"
#include "runtime/process/process_runtime.hpp"
#include "runtime/swarm/swarm_runtime.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace tandem::swarm {

using nlohmann::json;

namespace {

std::int64_t nanoseconds(Duration d) { return static_cast<std::int64_t>(d.count()) * 1000000; }

constexpr std::size_t max_secret = 500 * 1024;  // swarm refuses larger secrets

// The health check the cluster runs in each task: the spec's probe, run inside the container.
json healthcheck(const HealthSpec& health, int port) {
    json test = json::array();
    const std::string target = fmt::format("http://127.0.0.1:{}{}", port, health.path);
    switch (health.kind) {
        case ProbeKind::exec:
            test.push_back("CMD");
            for (const auto& arg : health.command) test.push_back(process::with_port(arg, port));
            break;
        case ProbeKind::http:
            test = {"CMD-SHELL", fmt::format("wget -q -O /dev/null {0} || curl -fsS -o /dev/null {0}", target)};
            break;
        case ProbeKind::tcp:
            test = {"CMD-SHELL", fmt::format("nc -z 127.0.0.1 {}", port)};
            break;
    }
    return {{"Test", test},
            {"Interval", nanoseconds(health.interval)},
            {"Timeout", nanoseconds(health.timeout)},
            {"Retries", health.failure_threshold},
            {"StartPeriod", nanoseconds(health.initial_delay)}};
}

// The update and rollback configs: the policy's rolling or recreate rules in swarm's words.
json update_config(const ServiceUpdate& update, bool rollback) {
    const RolloutParams& rollout = update.rollout;
    const bool rolling = rollout.strategy == RolloutStrategy::rolling;
    // rolling: up to max_surge new tasks started beside the old (start-first), else up to
    // max_unavailable old ones stopped first; recreate: every task at once, old ones first.
    int parallelism = 0;
    if (rolling) parallelism = std::max(1, rollout.max_surge > 0 ? rollout.max_surge : rollout.max_unavailable);
    json config = {{"Parallelism", parallelism},
                   {"Delay", 0},
                   {"Order", rolling && rollout.max_surge > 0 ? "start-first" : "stop-first"},
                   {"Monitor", nanoseconds(update.monitor)},
                   {"MaxFailureRatio", 0}};
    // A failed update is rolled back by the cluster; a failed rollback stops where it is.
    config["FailureAction"] = rollback ? "pause" : "rollback";
    return config;
}

json mounts(const ServiceUpdate& update, const SwarmNames& names) {
    json out = json::array();
    for (const VolumeSpec& volume : update.service.container->volumes) {
        if (volume.kind == VolumeSpec::Kind::named)
            out.push_back({{"Type", "volume"},
                           {"Source", names.volume(volume.source)},
                           {"Target", volume.target},
                           {"ReadOnly", volume.read_only},
                           {"VolumeOptions", {{"Labels", names.labels(update.service.name)}}}});
        else if (volume.kind == VolumeSpec::Kind::tmpfs)
            out.push_back({{"Type", "tmpfs"}, {"Target", volume.target}});
    }
    return out;
}

json container_spec(const ServiceUpdate& update, const SwarmNames& names, const std::vector<SecretRef>& secrets) {
    const ServiceSpec& service = update.service;
    const ContainerSpec& container = *service.container;
    const int listen = service.listen_port();
    // The image the registry stored under its digest (make_swarm_image_builder); without one
    // (no registry, nothing built), the reference as written, resolved by each node.
    const bool pushed = !names.registry.empty() && update.artifact.digest.rfind("sha256:", 0) == 0;
    json spec = {{"Image", pushed ? names.image(service.name, update.artifact.digest) : container.image},
                 {"Labels", names.labels(service.name)},
                 {"Hostname", service.name},
                 {"StopGracePeriod", nanoseconds(service.stop_grace)},
                 {"Mounts", mounts(update, names)}};
    for (const auto& [key, value] : container.labels) spec["Labels"][key] = value;
    json args = json::array();
    for (const auto& arg : container.command) args.push_back(process::with_port(arg, listen));
    if (container.entrypoint) {
        json command = json::array();
        for (const auto& arg : *container.entrypoint) command.push_back(process::with_port(arg, listen));
        spec["Command"] = command;
    }
    if (!args.empty()) spec["Args"] = args;
    json env = json::array();
    bool has_port = false;
    for (const auto& [key, value] : update.env) {
        env.push_back(key + "=" + process::with_port(value, listen));
        has_port = has_port || key == "PORT";
    }
    if (listen != 0 && !has_port) env.push_back(fmt::format("PORT={}", listen));
    spec["Env"] = env;
    if (!service.user.empty()) spec["User"] = service.user;
    if (!container.working_dir.empty()) spec["Dir"] = container.working_dir;
    if (!container.extra_hosts.empty()) {
        json hosts = json::array();
        for (const auto& line : container.extra_hosts) {
            const auto colon = line.find(':');  // "NAME:IP" -> "IP NAME", as swarm takes them
            hosts.push_back(colon == std::string::npos ? line : line.substr(colon + 1) + " " + line.substr(0, colon));
        }
        spec["Hosts"] = hosts;
    }
    if (service.health) spec["Healthcheck"] = healthcheck(*service.health, listen);
    json refs = json::array();
    for (const SecretRef& secret : secrets)
        refs.push_back({{"SecretID", secret.id},
                        {"SecretName", secret.name},
                        {"File", {{"Name", secret.target}, {"UID", "0"}, {"GID", "0"}, {"Mode", 0444}}}});
    spec["Secrets"] = refs;
    return spec;
}

// Host-mode ports with no fixed published port: each task gets a free port of its node, which
// the engine's proxy reaches it on (the routing mesh needs IPVS, which a node may lack).
json endpoint_spec(const ServiceSpec& service) {
    json ports = json::array();
    auto publish = [&](int target) {
        ports.push_back({{"Protocol", "tcp"}, {"TargetPort", target}, {"PublishMode", "host"}});
    };
    if (service.port != 0) publish(service.listen_port());
    for (const auto& [published, listened] : service.container->extra_ports) publish(listened);
    return {{"Mode", "dnsrr"}, {"Ports", ports}};
}

// A bind mount swarm cannot make: nodes do not share this machine's files.
Error unmountable(const ServiceSpec& service, const VolumeSpec& volume, const std::string& why) {
    return make_error(ErrorCode::invalid_value,
                      fmt::format("services.{}.volumes: '{}' {}; a swarm's nodes do not share this machine's files "
                                  "(use a named volume, or mount a file read-only: it becomes a swarm secret)",
                                  service.name, volume.text, why),
                      volume.location);
}

}  // namespace

Result<std::vector<SecretFile>> secret_files(const ServiceSpec& service, const std::filesystem::path& cwd,
                                             const SwarmNames& names) {
    std::vector<SecretFile> out;
    if (!service.container) return out;
    for (const VolumeSpec& volume : service.container->volumes) {
        if (volume.kind != VolumeSpec::Kind::bind) continue;
        std::error_code error;
        const std::filesystem::path path = (cwd / volume.source).lexically_normal();
        if (!std::filesystem::is_regular_file(path, error)) return unmountable(service, volume, "is not a file");
        if (!volume.read_only) return unmountable(service, volume, "is writable (add :ro)");
        const auto size = std::filesystem::file_size(path, error);
        if (error || size > max_secret)
            return unmountable(service, volume, fmt::format("is over {} KiB, swarm's limit for a secret", max_secret / 1024));
        std::ifstream in(path, std::ios::binary);
        std::ostringstream data;
        data << in.rdbuf();
        if (!in && !in.eof()) return unmountable(service, volume, "cannot be read");
        SecretFile file{path, volume.target, {}, data.str()};
        file.name = fmt::format("{}-{}-{}", names.project, container::docker_name_part(path.filename().string()),
                                sha256_hex(file.data).substr(0, 12));
        out.push_back(std::move(file));
    }
    return out;
}

Result<json> service_spec(const ServiceUpdate& update, const SwarmNames& names, const std::vector<SecretRef>& secrets) {
    const ServiceSpec& service = update.service;
    if (!service.container)
        return make_error(ErrorCode::invalid_value,
                          fmt::format("service '{}' runs a process: the swarm runs containers only", service.name),
                          service.location);
    if (service.job)
        return make_error(ErrorCode::invalid_value,
                          fmt::format("service '{}' is a one-shot job: the swarm runtime runs long-lived services "
                                      "only (run the job as a process service, or in the image's entrypoint)",
                                      service.name),
                          service.location);
    json labels = names.labels(service.name);
    labels["tandem.fingerprint"] = update.fingerprint;
    json task = {{"ContainerSpec", container_spec(update, names, secrets)},
                 {"RestartPolicy", {{"Condition", "any"},
                                    {"Delay", nanoseconds(update.restart_delay)},
                                    {"MaxAttempts", 0}}},
                 {"Networks", json::array({{{"Target", names.network()}, {"Aliases", json::array({service.name})}}})}};
    for (const auto& alias : service.container->aliases) task["Networks"][0]["Aliases"].push_back(alias);
    json spec = {{"Name", names.service(service.name)},
                 {"Labels", labels},
                 {"TaskTemplate", task},
                 {"Mode", {{"Replicated", {{"Replicas", update.replicas}}}}},
                 {"UpdateConfig", update_config(update, false)},
                 {"RollbackConfig", update_config(update, true)},
                 {"EndpointSpec", endpoint_spec(service)}};
    return spec;
}

}  // namespace tandem::swarm
