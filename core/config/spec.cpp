// The functions of spec.hpp: lookup, dependency order, env and state expansion, fingerprints.
#include <tandem/spec.hpp>

#include "config/variables.hpp"
#include "support/sha256.hpp"

#include <algorithm>

namespace tandem {

const ServiceSpec* Spec::find(std::string_view name) const {
    for (const auto& service : services) {
        if (service.name == name) return &service;
    }
    return nullptr;
}

std::vector<const ServiceSpec*> dependency_order(const Spec& spec) {
    // Repeatedly take the first service (in file order) whose dependencies are all placed:
    // O(n^2), and n is the number of services of one project.
    std::vector<const ServiceSpec*> order;
    std::vector<bool> placed(spec.services.size(), false);
    auto is_placed = [&](const std::string& name) {
        for (std::size_t i = 0; i < spec.services.size(); ++i) {
            if (spec.services[i].name == name) return bool(placed[i]);
        }
        return true;  // an unknown name (an unvalidated spec) blocks nothing
    };
    while (order.size() < spec.services.size()) {
        bool progressed = false;
        for (std::size_t i = 0; i < spec.services.size(); ++i) {
            if (placed[i]) continue;
            const auto& deps = spec.services[i].depends_on;
            if (!std::all_of(deps.begin(), deps.end(), is_placed)) continue;
            placed[i] = true;
            order.push_back(&spec.services[i]);
            progressed = true;
            break;
        }
        if (!progressed) {
            // A cycle (only in an unvalidated spec): keep the rest in file order.
            for (std::size_t i = 0; i < spec.services.size(); ++i) {
                if (!placed[i]) order.push_back(&spec.services[i]);
            }
            break;
        }
    }
    return order;
}

namespace {

// The value of one variable, or nothing to leave it as written. ${services.NAME.host} is where a
// process reaches NAME (127.0.0.1: its port is the engine's proxy); in a container it is left
// for the container runtime, which knows the network (NAME itself, or the host's address there).
std::optional<std::string> variable_value(const Spec& spec, const std::string& name, int replica_port,
                                          bool in_container) {
    if (name == config::kOwnPortVariable) {
        if (replica_port == 0) return std::nullopt;
        return std::to_string(replica_port);
    }
    if (auto target = config::referenced_service(name)) {
        const ServiceSpec* other = spec.find(*target);
        // A container reaches another container at its alias, on the port it listens on there.
        if (other && other->port != 0)
            return std::to_string(in_container && other->runs_container() ? other->listen_port() : other->port);
    }
    if (config::referenced_host(name) && !in_container) return std::string("127.0.0.1");
    return std::nullopt;
}

// `text` with each variable that `value_of` knows replaced; the others left as written.
template <class ValueOf>
std::string substitute(const std::string& text, ValueOf value_of) {
    const config::VariableScan scan = config::scan_variables(text);
    std::string out;
    std::size_t copied = 0;
    for (const auto& variable : scan.variables) {
        out.append(text, copied, variable.offset - copied);
        if (std::optional<std::string> value = value_of(variable.name)) out += *value;
        else out.append(text, variable.offset, variable.length);
        copied = variable.offset + variable.length;
    }
    out.append(text, copied);
    return out;
}

std::string expand_value(const Spec& spec, const std::string& text, int replica_port, bool in_container = false) {
    return substitute(text,
                      [&](const std::string& name) { return variable_value(spec, name, replica_port, in_container); });
}

// A canonical, unambiguous serialization: every field is "tag=length:bytes;".
class CanonicalForm {
public:
    void add(std::string_view tag, std::string_view value) {
        text_ += tag;
        text_ += '=';
        text_ += std::to_string(value.size());
        text_ += ':';
        text_ += value;
        text_ += ';';
    }
    void add(std::string_view tag, long long value) { add(tag, std::to_string(value)); }
    void add(std::string_view tag, const std::vector<std::string>& values) {
        add(tag, static_cast<long long>(values.size()));
        for (const auto& value : values) add("-", value);
    }
    const std::string& text() const { return text_; }

private:
    std::string text_;
};

void add_health(CanonicalForm& form, const std::optional<HealthSpec>& health) {
    if (!health) {
        form.add("health", "none");
        return;
    }
    form.add("health", static_cast<long long>(health->kind));
    form.add("health.path", health->path);
    form.add("health.expect_status", health->expect_status);
    form.add("health.command", health->command);
    form.add("health.initial_delay", health->initial_delay.count());
    form.add("health.interval", health->interval.count());
    form.add("health.timeout", health->timeout.count());
    form.add("health.success_threshold", health->success_threshold);
    form.add("health.failure_threshold", health->failure_threshold);
}

void add_build(CanonicalForm& form, const std::optional<BuildSpec>& build) {
    if (!build) {
        form.add("build", "none");
        return;
    }
    form.add("build", build->command);
    form.add("build.inputs", build->inputs);
    form.add("build.outputs", build->outputs);
    if (build->network) form.add("build.network", "true");  // absent when false: fingerprints stay as they were
}

void add_container(CanonicalForm& form, const ContainerSpec& container) {
    form.add("container.image", container.image);
    if (container.build) {
        form.add("container.build.context", container.build->context);
        form.add("container.build.dockerfile", container.build->dockerfile);
        form.add("container.build.target", container.build->target);
        form.add("container.build.args", static_cast<long long>(container.build->args.size()));
        for (const auto& [key, value] : container.build->args) {
            form.add("container.build.arg.key", key);
            form.add("container.build.arg.value", value);
        }
    }
    form.add("container.command", container.command);
    form.add("container.volumes", static_cast<long long>(container.volumes.size()));
    for (const auto& volume : container.volumes) {
        form.add("container.volume.kind", static_cast<long long>(volume.kind));
        form.add("container.volume.source", volume.source);
        form.add("container.volume.target", volume.target);
        form.add("container.volume.read_only", volume.read_only ? 1 : 0);
    }
    // Each added only when set: the fingerprints of services without them stay as they were.
    if (container.entrypoint) form.add("container.entrypoint", *container.entrypoint);
    if (container.port != 0) form.add("container.port", container.port);
    if (!container.working_dir.empty()) form.add("container.working_dir", container.working_dir);
    for (const auto& [key, value] : container.labels) form.add("container.label." + key, value);
    if (!container.aliases.empty()) form.add("container.aliases", container.aliases);
    if (!container.extra_hosts.empty()) form.add("container.extra_hosts", container.extra_hosts);
    for (const auto& [published, listened] : container.extra_ports)
        form.add("container.extra_port", std::to_string(published) + ":" + std::to_string(listened));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> expand_env(const Spec& spec, const ServiceSpec& service,
                                                            int replica_port) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(service.env.size());
    for (const auto& [key, value] : service.env)
        out.emplace_back(key, expand_value(spec, value, replica_port, service.runs_container()));
    return out;
}

std::filesystem::path state_path(const std::filesystem::path& state_root, std::string_view name) {
    std::error_code ignored;  // without a working directory, the path stays as given
    std::filesystem::path root = std::filesystem::absolute(state_root, ignored);
    if (root.empty()) root = state_root;
    return (root / name).lexically_normal();
}

std::string expand_state(const std::string& text, const ServiceSpec& service, const std::filesystem::path& state_root) {
    return substitute(text, [&](const std::string& variable) -> std::optional<std::string> {
        const auto name = config::referenced_state(variable);
        if (!name || std::find(service.state.begin(), service.state.end(), *name) == service.state.end())
            return std::nullopt;
        return state_path(state_root, *name).string();
    });
}

ServiceSpec with_state_paths(ServiceSpec service, const std::filesystem::path& state_root) {
    if (service.state.empty()) return service;
    const ServiceSpec names = service;
    auto expand = [&](std::string& text) { text = expand_state(text, names, state_root); };
    for (auto& arg : service.run.argv) expand(arg);
    for (auto& [key, value] : service.env) expand(value);
    if (service.health)
        for (auto& arg : service.health->command) expand(arg);
    if (service.reset) expand(service.reset->command);
    for (auto& rule : service.watch) expand(rule.command);
    if (service.build) expand(service.build->command);
    return service;
}

std::string fingerprint(const ServiceSpec& service) {
    // Watch rules, reset and depends_on are left out: they do not change a running replica.
    CanonicalForm form;
    form.add("tandem-fingerprint", 1);
    form.add("run", service.run.argv);
    form.add("run.shell", service.run.shell ? 1 : 0);
    auto env = service.env;  // the environment is a set: its order in the file does not matter
    std::sort(env.begin(), env.end());
    form.add("env", static_cast<long long>(env.size()));
    for (const auto& [key, value] : env) {
        form.add("env.key", key);
        form.add("env.value", value);
    }
    form.add("port", service.port);
    form.add("replicas", service.replicas);
    add_health(form, service.health);
    add_build(form, service.build);
    form.add("workdir", service.workdir);
    // Written only when set, so that services without them keep the digests they had.
    if (!service.state.empty()) form.add("state", service.state);
    if (!service.user.empty()) form.add("user", service.user);
    form.add("stop_grace", service.stop_grace.count());
    if (service.job) form.add("job", 1);  // absent when false: existing fingerprints stay the same
    if (service.container) add_container(form, *service.container);  // absent for a process service, likewise
    return "sha256:" + sha256_hex(form.text());
}

std::string fingerprint(const Spec& spec, const ServiceSpec& service) {
    ServiceSpec expanded = service;
    expanded.env = expand_env(spec, service);  // ${port} stays as written: it varies per replica
    return fingerprint(expanded);
}

}  // namespace tandem
