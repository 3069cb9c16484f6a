// Compose service parts with a syntax of their own: volumes (short and long), tmpfs, secrets and
// configs as mounts; ports; the healthcheck.
#include "config/compose_context.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

namespace tandem::config::compose {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t at = text.find(sep, start);
        parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) return parts;
        start = at + 1;
    }
}

// A host path as tandem's `volumes:` writes one: absolute, or relative starting with "./".
std::string host_path(const std::string& source) {
    if (source.empty() || source[0] == '/') return source;
    if (source == "." || source.rfind("./", 0) == 0 || source.rfind("../", 0) == 0 || source == "..") return source;
    return "./" + source;
}

struct Mounts {
    YAML::Node volumes{YAML::NodeType::Sequence};
    YAML::Node tmpfs{YAML::NodeType::Sequence};
    std::map<std::string, std::string> targets;  // target -> the entry that mounts it
    int anonymous = 0;
};

// A path in the container as tandem writes it: normalized, without a trailing '/'.
std::string container_path(const std::string& target) {
    std::string normal = std::filesystem::path(target).lexically_normal().generic_string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    return normal;
}

Status add_mount(Context& context, Mounts& mounts, const YAML::Node& node, const std::string& path,
                 const std::string& target, const std::string& entry, bool tmpfs) {
    if (target.empty() || target[0] != '/')
        return context.invalid(node, path, fmt::format("'{}': the path in the container must be absolute", target));
    const std::string normal = container_path(target);
    if (const auto earlier = mounts.targets.find(normal); earlier != mounts.targets.end())
        return context.invalid(node, path, fmt::format("'{}' is mounted twice (also by '{}')", normal, earlier->second));
    mounts.targets[normal] = entry;
    (tmpfs ? mounts.tmpfs : mounts.volumes).push_back(tmpfs ? normal : entry);
    return Ok{};
}

// SOURCE:TARGET[:ro] (named or bind), for tandem's `volumes:`.
Status add_volume(Context& context, Mounts& mounts, const YAML::Node& node, const std::string& path,
                  const std::string& service, std::string source, const std::string& target, bool read_only) {
    if (source.empty()) {
        // An anonymous volume: compose keeps it across recreation, as a named volume is kept.
        source = fmt::format("{}-anonymous-{}", service, ++mounts.anonymous);
        context.warn(node, path,
                     fmt::format("an anonymous volume: tandem keeps it as the named volume '{}' (emptied by a reset)", source));
    } else if (source[0] == '~') {
        return context.invalid(node, path, fmt::format("'{}': a path under '~' depends on who runs tandem; write it relative to the project", source));
    } else if (source[0] == '.' || source[0] == '/') {
        source = host_path(source);
    } else if (!context.volumes.count(source)) {
        return context.error(ErrorCode::unknown_reference, node, path,
                             fmt::format("volume '{}' is not declared in the top-level 'volumes:'", source));
    }
    const std::string normal = target.empty() || target[0] != '/' ? target : container_path(target);
    return add_mount(context, mounts, node, path, target, fmt::format("{}:{}{}", source, normal, read_only ? ":ro" : ""),
                     false);
}

Status short_volume(Context& context, Mounts& mounts, const YAML::Node& node, const std::string& path,
                    const std::string& service) {
    const std::vector<std::string> parts = split(node.Scalar(), ':');
    if (parts.size() == 1) return add_volume(context, mounts, node, path, service, "", parts[0], false);
    if (parts.size() > 3) return context.invalid(node, path, fmt::format("'{}' is not SOURCE:TARGET[:MODE]", node.Scalar()));
    bool read_only = false;
    if (parts.size() == 3) {
        for (const auto& option : split(parts[2], ',')) {
            if (option == "ro") read_only = true;
            else if (option != "rw")
                context.warn(node, path, fmt::format("the mount option '{}' is not applied", option));
        }
    }
    return add_volume(context, mounts, node, path, service, parts[0], parts[1], read_only);
}

Status long_volume(Context& context, Mounts& mounts, const YAML::Node& node, const std::string& path,
                   const std::string& service) {
    std::string type = "volume", source, target;
    bool read_only = false;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string at = path + "." + key;
        if (key == "type" || key == "source" || key == "target") {
            auto text = scalar(context, it->second, at);
            if (!text) return text.error();
            (key == "type" ? type : key == "source" ? source : target) = *text;
        } else if (key == "read_only") {
            read_only = it->second.Scalar() == "true";
        } else if ((key == "volume" || key == "bind" || key == "tmpfs") && it->second.IsMap()) {
            for (auto option = it->second.begin(); option != it->second.end(); ++option)
                context.warn(option->first, at + "." + option->first.Scalar(),
                             "not applied: tandem mounts it with Docker's defaults", ErrorCode::unknown_key);
        } else if (key.rfind("x-", 0) != 0) {
            context.warn(it->first, at, "not applied: tandem mounts it with Docker's defaults", ErrorCode::unknown_key);
        }
    }
    if (target.empty()) return context.error(ErrorCode::missing_field, node, path, "a volume needs 'target:'");
    if (type == "tmpfs") return add_mount(context, mounts, node, path, target, "tmpfs:" + target, true);
    if (type == "bind") {
        if (source.empty()) return context.error(ErrorCode::missing_field, node, path, "a bind mount needs 'source:'");
        if (source[0] != '.' && source[0] != '/' && source[0] != '~') source = "./" + source;
    } else if (type != "volume") {
        return context.invalid(node["type"], path + ".type",
                               fmt::format("refused: type '{}' (tandem mounts volume, bind and tmpfs)", type));
    }
    return add_volume(context, mounts, node, path, service, source, target, read_only);
}

// A secret or config: a file of the project, mounted read-only.
Status file_mount(Context& context, Mounts& mounts, const YAML::Node& node, const std::string& path,
                  const std::map<std::string, std::string>& declared, const std::string& kind,
                  const std::string& default_dir) {
    std::string name, target;
    if (node.IsMap()) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            const std::string key = it->first.Scalar();
            if (key == "source") name = it->second.Scalar();
            else if (key == "target") target = it->second.Scalar();
            else context.warn(it->first, path + "." + key, "not applied: the file is mounted read-only as it is in the project", ErrorCode::unknown_key);
        }
    } else {
        auto text = scalar(context, node, path);
        if (!text) return text.error();
        name = *text;
    }
    const auto found = declared.find(name);
    if (found == declared.end())
        return context.error(ErrorCode::unknown_reference, node, path,
                             fmt::format("{} '{}' is not declared in the top-level '{}s:'", kind, name, kind));
    if (target.empty()) target = name;
    if (target[0] != '/') target = default_dir + target;
    return add_mount(context, mounts, node, path, target,
                     fmt::format("{}:{}:ro", host_path(found->second), container_path(target)), false);
}

// [[IP:]HOST:]CONTAINER, each port a number (no ranges), IP maybe [v6].
struct PortSpec {
    std::string ip;
    std::string host;
    std::string container;
};

Result<PortSpec> short_port(Context& context, const YAML::Node& node, const std::string& path) {
    std::string text = node.Scalar();
    const auto slash = text.find('/');
    if (slash != std::string::npos) {
        if (text.substr(slash + 1) != "tcp")
            return context.invalid(node, path, fmt::format("refused: '{}': tandem publishes TCP ports only", text));
        text.erase(slash);
    }
    PortSpec port;
    if (!text.empty() && text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return context.invalid(node, path, fmt::format("'{}' is not [IP]:HOST:CONTAINER", node.Scalar()));
        port.ip = text.substr(1, close - 1);
        text.erase(0, close + 2);
    }
    std::vector<std::string> parts = split(text, ':');
    if (parts.size() == 3 && port.ip.empty()) {
        port.ip = parts[0];
        parts.erase(parts.begin());
    }
    if (parts.size() == 1) port.container = parts[0];
    else if (parts.size() == 2) port = PortSpec{port.ip, parts[0], parts[1]};
    else return context.invalid(node, path, fmt::format("'{}' is not [IP:][HOST:]CONTAINER", node.Scalar()));
    return port;
}

Result<PortSpec> long_port(Context& context, const YAML::Node& node, const std::string& path) {
    PortSpec port;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string value = it->second.IsScalar() ? it->second.Scalar() : "";
        if (key == "target") port.container = value;
        else if (key == "published") port.host = value;
        else if (key == "host_ip") port.ip = value;
        else if (key == "protocol" && value != "tcp")
            return context.invalid(it->second, path + ".protocol", fmt::format("refused: '{}': tandem publishes TCP ports only", value));
        else if (key != "protocol" && key != "mode" && key.rfind("x-", 0) != 0)
            context.warn(it->first, path + "." + key, "ignored: not applied", ErrorCode::unknown_key);
    }
    if (port.container.empty()) return context.error(ErrorCode::missing_field, node, path, "a port needs 'target:'");
    return port;
}

Result<int> port_number(Context& context, const YAML::Node& node, const std::string& path, const std::string& text) {
    if (text.find('-') != std::string::npos)
        return context.invalid(node, path, fmt::format("refused: the port range '{}' (tandem publishes one port per service)", text));
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9' || value > 65535) return context.invalid(node, path, fmt::format("'{}' is not a port", text));
        value = value * 10 + (c - '0');
    }
    if (text.empty() || value < 1 || value > 65535) return context.invalid(node, path, fmt::format("'{}' is not a port (1-65535)", text));
    return value;
}


}  // namespace

Status translate_mounts(Context& context, const std::string& path, const YAML::Node& service, YAML::Node& body,
                        const std::string& name) {
    Mounts mounts;
    if (const YAML::Node volumes = service["volumes"]; volumes && !volumes.IsNull()) {
        if (!volumes.IsSequence()) return context.invalid(volumes, path + ".volumes", "expected a list of volumes");
        for (std::size_t i = 0; i < volumes.size(); ++i) {
            const std::string at = fmt::format("{}.volumes.{}", path, i);
            const YAML::Node entry = volumes[i];
            Status status = entry.IsScalar() ? short_volume(context, mounts, entry, at, name)
                            : entry.IsMap()  ? long_volume(context, mounts, entry, at, name)
                                             : Status(context.invalid(entry, at, "expected SOURCE:TARGET or a mapping"));
            if (!status) return status;
        }
    }
    if (const YAML::Node tmpfs = service["tmpfs"]; tmpfs && !tmpfs.IsNull()) {
        auto paths = string_list(context, tmpfs, path + ".tmpfs");
        if (!paths) return paths.error();
        for (const auto& entry : *paths) {
            const std::string target = entry.substr(0, entry.find(':'));
            if (target.size() != entry.size())
                context.warn(tmpfs, path + ".tmpfs", fmt::format("the tmpfs options of '{}' are not applied", entry));
            if (auto status = add_mount(context, mounts, tmpfs, path + ".tmpfs", target, "tmpfs:" + target, true); !status)
                return status;
        }
    }
    for (const auto& [key, kind, dir] : {std::tuple{"secrets", "secret", "/run/secrets/"}, std::tuple{"configs", "config", "/"}}) {
        const YAML::Node list = service[key];
        if (!list || list.IsNull()) continue;
        if (!list.IsSequence()) return context.invalid(list, path + "." + key, fmt::format("expected a list of {}s", kind));
        const auto& declared = std::string(key) == "secrets" ? context.secrets : context.configs;
        for (std::size_t i = 0; i < list.size(); ++i)
            if (auto status = file_mount(context, mounts, list[i], fmt::format("{}.{}.{}", path, key, i), declared, kind, dir);
                !status)
                return status;
    }
    if (mounts.volumes.size() > 0) body["volumes"] = mounts.volumes;
    if (mounts.tmpfs.size() > 0) body["tmpfs"] = mounts.tmpfs;
    return Ok{};
}

Status translate_ports(Context& context, const std::string& path, const YAML::Node& ports, YAML::Node& body) {
    if (!ports.IsSequence()) return context.invalid(ports, path, "expected a list of ports");
    for (std::size_t i = 0; i < ports.size(); ++i) {
        const std::string at = fmt::format("{}.{}", path, i);
        const YAML::Node entry = ports[i];
        auto port = entry.IsMap() ? long_port(context, entry, at) : short_port(context, entry, at);
        if (!port) return port.error();
        auto container = port_number(context, entry, at, port->container);
        if (!container) return container.error();
        const bool unpublished = port->host.empty();
        auto host = unpublished ? Result<int>(*container) : port_number(context, entry, at, port->host);
        if (!host) return host.error();
        if (unpublished)
            context.warn(entry, at, fmt::format("published on 127.0.0.1:{} (compose would pick a free host port)", *host));
        if (!port->ip.empty() && port->ip != "127.0.0.1" && port->ip != "localhost" && port->ip != "::1")
            context.warn(entry, at, fmt::format("published on 127.0.0.1 only, not on {}", port->ip));
        else if (port->ip.empty() && !unpublished)
            context.warn(entry, at, "published on 127.0.0.1 only (compose publishes on every interface)");
        if (i > 0) {
            // Routed as the first is, each on its own public port.
            if (!has(body, "extra_ports")) body["extra_ports"] = YAML::Node(YAML::NodeType::Sequence);
            body["extra_ports"].push_back(fmt::format("{}:{}", *host, *container));
            continue;
        }
        body["port"] = *host;
        if (*container != *host) body["container_port"] = *container;
    }
    return Ok{};
}

Status translate_healthcheck(Context& context, const std::string& path, const YAML::Node& check, YAML::Node& body) {
    if (!check.IsMap()) return context.invalid(check, path, "expected a mapping (test, interval, timeout, retries, ...)");
    if (check["disable"] && check["disable"].Scalar() == "true") return Ok{};
    const YAML::Node test = check["test"];
    if (!test) {
        context.warn(check, path, "no 'test:': the image's own HEALTHCHECK is not used; the service has no health check");
        return Ok{};
    }
    YAML::Node command(YAML::NodeType::Sequence);
    if (test.IsScalar()) {
        command.push_back("/bin/sh");
        command.push_back("-c");
        command.push_back(test);
    } else {
        auto words = string_list(context, test, path + ".test");
        if (!words) return words.error();
        if (words->empty() || (*words)[0] == "NONE") return Ok{};
        if ((*words)[0] == "CMD-SHELL" && words->size() == 2) {
            command.push_back("/bin/sh");
            command.push_back("-c");
            command.push_back((*words)[1]);
        } else if ((*words)[0] == "CMD" && words->size() >= 2) {
            for (std::size_t i = 1; i < words->size(); ++i) command.push_back((*words)[i]);
        } else {
            return context.invalid(test, path + ".test",
                                   "expected [CMD, program, args...], [CMD-SHELL, command], [NONE] or a command string");
        }
    }
    YAML::Node health(YAML::NodeType::Map);
    health["exec"] = command;
    for (auto it = check.begin(); it != check.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string at = path + "." + key;
        if (key == "interval" || key == "timeout") {
            auto value = duration(context, it->second, at);
            if (!value) return value.error();
            health[key] = *value;
        } else if (key == "retries") {
            health["failure_threshold"] = it->second.Scalar() == "0" ? YAML::Node("1") : it->second;
        } else if (key == "start_interval") {
            context.warn(it->first, at, "ignored: probes run every 'interval' from the start", ErrorCode::unknown_key);
        } else if (key != "test" && key != "start_period" && key != "disable") {
            return context.error(ErrorCode::unknown_key, it->first, "",
                                 fmt::format("unknown key '{}' in '{}' (test, interval, timeout, retries, start_period, "
                                             "start_interval, disable)",
                                             key, path));
        }
    }
    body["health"] = health;
    return Ok{};
}

}  // namespace tandem::config::compose
