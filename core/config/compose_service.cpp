// One compose service into a tandem service mapping: the keys tandem takes, the keys it warns
// about (ignored, and what happens instead) and the keys it refuses.
#include "config/compose_context.hpp"
#include "config/compose_files.hpp"

#include "config/variables.hpp"
#include "support/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace tandem::config::compose {

namespace {

Status translate_build(Context& context, const std::string& path, const YAML::Node& build, YAML::Node& body) {
    YAML::Node out(YAML::NodeType::Map);
    if (build.IsScalar()) {
        out["context"] = build;
        body["build"] = out;
        return Ok{};
    }
    if (!build.IsMap()) return context.invalid(build, path, "expected a context path or a mapping (context, dockerfile, ...)");
    out["context"] = ".";
    for (auto it = build.begin(); it != build.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string at = path + "." + key;
        if (key == "context") {
            auto text = scalar(context, it->second, at);
            if (!text) return text.error();
            if (!text->empty() && text->front() == '~')
                return context.invalid(it->second, at, fmt::format("'{}': a path under '~' depends on who runs tandem; "
                                                                   "write it relative to the project", *text));
            if (text->find("://") != std::string::npos || text->rfind("git@", 0) == 0)
                return context.invalid(it->second, at, "a remote build context is refused: tandem builds from the project's files");
            out["context"] = it->second;
        } else if (key == "dockerfile" || key == "target") {
            out[key] = it->second;
        } else if (key == "args") {
            auto args = pairs(context, it->second, at);
            if (!args) return args.error();
            YAML::Node map(YAML::NodeType::Map);
            for (const auto& [name, value] : *args) {
                const auto given = value ? value : context.variable(name);
                if (given) map[name] = *given;
            }
            if (map.size() > 0) out["args"] = map;
        } else if (key == "dockerfile_inline" || key == "additional_contexts") {
            return context.invalid(it->first, at, "refused: tandem builds from a Dockerfile in the project and its one context");
        } else if (key.rfind("x-", 0) != 0) {
            context.warn(it->first, at, "ignored: tandem builds with the Docker daemon's defaults for this", ErrorCode::unknown_key);
        }
    }
    body["build"] = out;
    return Ok{};
}

Result<std::vector<std::string>> command_words(Context& context, const YAML::Node& node, const std::string& path) {
    if (node.IsSequence()) return string_list(context, node, path);
    auto text = scalar(context, node, path);
    if (!text) return text.error();
    auto words = split_words(*text);
    if (!words) return context.invalid(node, path, fmt::format("'{}': {}", *text, words.error().message));
    return words;
}

YAML::Node list_node(const std::vector<std::string>& words) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& word : words) out.push_back(word);
    return out;
}

Status translate_command(Context& context, const std::string& path, const YAML::Node& service, YAML::Node& body) {
    if (const YAML::Node command = service["command"]; command && !command.IsNull()) {
        auto words = command_words(context, command, path + ".command");
        if (!words) return words.error();
        if (!words->empty()) body["command"] = list_node(*words);
    }
    if (const YAML::Node entrypoint = service["entrypoint"]; entrypoint && !entrypoint.IsNull()) {
        auto words = command_words(context, entrypoint, path + ".entrypoint");
        if (!words) return words.error();
        body["entrypoint"] = words->empty() ? YAML::Node(YAML::NodeType::Sequence) : list_node(*words);
    }
    return Ok{};
}

// An env value must reach the container as written: a `${...}` left in it (from `$${...}`) must
// be one of tandem's variables, which tandem fills in.
Status check_env_value(Context& context, const YAML::Node& node, const std::string& path, const std::string& value) {
    const VariableScan scan = scan_variables(value);
    bool ok = !scan.unclosed;
    for (const auto& variable : scan.variables)
        ok = ok && (variable.name == kOwnPortVariable || referenced_service(variable.name) ||
                    referenced_host(variable.name));
    if (ok) return Ok{};
    return context.invalid(node, path,
                           fmt::format("'{}': tandem cannot pass '${{' to a container as written (only tandem's own "
                                       "${{port}}, ${{services.NAME.port}} and ${{services.NAME.host}} may appear)",
                                       value));
}

Status read_env_file(Context& context, const YAML::Node& node, const std::string& path,
                     std::vector<std::pair<std::string, std::string>>& env) {
    std::string file;
    bool required = true;
    if (node.IsMap()) {
        if (!node["path"]) return context.error(ErrorCode::missing_field, node, path, "an env_file entry needs 'path:'");
        auto given = scalar(context, node["path"], path + ".path");
        if (!given) return given.error();
        file = *given;
        if (node["required"]) required = node["required"].Scalar() != "false";
        for (auto it = node.begin(); it != node.end(); ++it)
            if (it->first.Scalar() != "path" && it->first.Scalar() != "required")
                context.warn(it->first, path + "." + it->first.Scalar(),
                             "ignored: tandem reads env files as KEY=VALUE lines", ErrorCode::unknown_key);
    } else {
        auto given = scalar(context, node, path);
        if (!given) return given.error();
        file = *given;
    }
    auto text = read_small_file(context.read, file);
    if (!text && text.error().code == ErrorCode::syntax) return text.error();
    if (!text) {
        if (!required) return Ok{};
        return context.error(ErrorCode::io, node, path, fmt::format("cannot read env file '{}': {}", file, text.error().message));
    }
    // As the watcher names it ("./env/a.env" is "env/a.env"), so a save of it reloads the project.
    context.files_read.push_back(std::filesystem::path(file).lexically_normal().generic_string());
    auto variables = parse_env_file(*text, [&](const std::string& name) { return context.variable(name); });
    if (!variables)
        return context.invalid(node, path, fmt::format("env file '{}': {}", file, variables.error().message));
    for (auto& [key, value] : *variables) {
        if (auto status = check_env_value(context, node, path, value); !status) return status;
        std::erase_if(env, [&](const auto& entry) { return entry.first == key; });
        env.emplace_back(key, value);
    }
    return Ok{};
}

Status translate_env(Context& context, const std::string& path, const YAML::Node& service, YAML::Node& body) {
    std::vector<std::pair<std::string, std::string>> env;
    if (const YAML::Node files = service["env_file"]; files && !files.IsNull()) {
        if (files.IsSequence()) {
            for (std::size_t i = 0; i < files.size(); ++i)
                if (auto status = read_env_file(context, files[i], fmt::format("{}.env_file.{}", path, i), env); !status)
                    return status;
        } else if (auto status = read_env_file(context, files, path + ".env_file", env); !status) {
            return status;
        }
    }
    if (const YAML::Node environment = service["environment"]; environment && !environment.IsNull()) {
        auto entries = pairs(context, environment, path + ".environment");
        if (!entries) return entries.error();
        for (const auto& [key, value] : *entries) {
            const auto given = value ? value : context.variable(key);
            if (!given) continue;  // `KEY` alone and unset: not passed, as compose does
            const YAML::Node at = environment.IsMap() ? environment[key] : environment;
            if (auto status = check_env_value(context, at, path + ".environment." + key, *given); !status) return status;
            std::erase_if(env, [&](const auto& entry) { return entry.first == key; });
            env.emplace_back(key, *given);
        }
    }
    if (env.empty()) return Ok{};
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& [key, value] : env) out[key] = value;
    body["env"] = out;
    return Ok{};
}

Status translate_networks(Context& context, const std::string& path, const YAML::Node& node, YAML::Node& body) {
    std::vector<std::pair<YAML::Node, YAML::Node>> entries;
    if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) entries.emplace_back(node[i], YAML::Node());
    } else if (node.IsMap()) {
        for (auto it = node.begin(); it != node.end(); ++it) entries.emplace_back(it->first, it->second);
    } else {
        return context.invalid(node, path, "expected a list of networks or a mapping of network to settings");
    }
    YAML::Node aliases(YAML::NodeType::Sequence);
    for (const auto& [name, settings] : entries) {
        if (!context.networks.count(name.Scalar()))
            return context.error(ErrorCode::unknown_reference, name, path,
                                 fmt::format("network '{}' is not declared in the top-level 'networks:'", name.Scalar()));
        if (!settings || settings.IsNull()) continue;
        if (!settings.IsMap()) return context.invalid(settings, path + "." + name.Scalar(), "expected a mapping (aliases, ...)");
        for (auto it = settings.begin(); it != settings.end(); ++it) {
            const std::string at = fmt::format("{}.{}.{}", path, name.Scalar(), it->first.Scalar());
            if (it->first.Scalar() != "aliases") {
                context.warn(it->first, at, "ignored: the container gets the address Docker gives it on the project network", ErrorCode::unknown_key);
                continue;
            }
            auto names = string_list(context, it->second, at);
            if (!names) return names.error();
            for (const auto& alias : *names) aliases.push_back(alias);
        }
    }
    if (aliases.size() > 0) body["aliases"] = aliases;
    return Ok{};
}

Status translate_deploy(Context& context, const std::string& path, const YAML::Node& deploy, YAML::Node& body) {
    if (!deploy.IsMap()) return context.invalid(deploy, path, "expected a mapping (replicas, resources, ...)");
    for (auto it = deploy.begin(); it != deploy.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string at = path + "." + key;
        if (key == "replicas") body["replicas"] = it->second;
        else if (key == "mode" && it->second.Scalar() == "global")
            return context.invalid(it->second, at, "refused: 'global' runs one replica per node; a tandem service has 'replicas'");
        else if (const YAML::Node resources = it->second;
                 key == "resources" && has(resources, "reservations") && has(resources["reservations"], "devices"))
            return context.invalid(key_of(resources["reservations"], "devices"), at + ".reservations.devices",
                                   "refused: tandem does not give containers host devices (GPUs)");
        else if (key == "resources")
            context.warn(it->first, at, "ignored: the containers have no resource limits", ErrorCode::unknown_key);
        else if (key == "restart_policy" || key == "update_config" || key == "rollback_config")
            context.warn(it->first, at, "ignored: the policy set's rollout and crash knobs decide this",
                         ErrorCode::unknown_key);
        else if (key != "mode" || it->second.Scalar() != "replicated")
            context.warn(it->first, at, "ignored: not applied", ErrorCode::unknown_key);
    }
    return Ok{};
}

Status translate_misc(Context& context, const std::string& path, const YAML::Node& service, YAML::Node& body) {
    if (const YAML::Node user = service["user"]) body["user"] = user;
    if (const YAML::Node dir = service["working_dir"]) body["working_dir"] = dir;
    if (const YAML::Node grace = service["stop_grace_period"]) {
        auto value = duration(context, grace, path + ".stop_grace_period");
        if (!value) return value.error();
        body["stop_grace"] = *value;
    }
    if (const YAML::Node labels = service["labels"]; labels && !labels.IsNull()) {
        auto entries = pairs(context, labels, path + ".labels");
        if (!entries) return entries.error();
        YAML::Node out(YAML::NodeType::Map);
        for (const auto& [key, value] : *entries) out[key] = value.value_or("");
        if (out.size() > 0) body["labels"] = out;
    }
    if (const YAML::Node hosts = service["extra_hosts"]; hosts && !hosts.IsNull()) {
        auto entries = pairs(context, hosts, path + ".extra_hosts", ':');
        if (!entries) return entries.error();
        YAML::Node out(YAML::NodeType::Sequence);
        for (const auto& [host, ip] : *entries) {
            if (!ip) return context.invalid(hosts, path + ".extra_hosts", fmt::format("'{}' has no address (HOST:IP)", host));
            out.push_back(host + ":" + *ip);
        }
        body["extra_hosts"] = out;
    }
    if (const YAML::Node scale = service["scale"]; scale && !has(body, "replicas")) body["replicas"] = scale;
    return Ok{};
}

// `x-tandem:` of a service: tandem's own keys, over what the translation made.
Status merge_tandem_keys(Context& context, const std::string& path, const YAML::Node& keys, YAML::Node& body) {
    if (!keys.IsMap()) return context.invalid(keys, path, "expected a mapping of tandem service keys (docs/config.md)");
    for (auto it = keys.begin(); it != keys.end(); ++it) {
        if (has(body, it->first.Scalar())) body.remove(it->first.Scalar());
        body[it->first] = it->second;
    }
    return Ok{};
}

}  // namespace

Result<TranslatedService> translate_service(Context& context, const std::string& name, const YAML::Node& service,
                                            const std::set<std::string>& enabled) {
    const std::string path = "services." + name;
    TranslatedService out;
    out.body = YAML::Node(YAML::NodeType::Map);
    YAML::Node& body = out.body;
    if (!service.IsMap()) return context.invalid(service, path, "expected a mapping (image, build, ports, ...)");
    if (auto status = check_service_keys(context, service, path); !status) return status.error();
    const YAML::Node image = service["image"];
    const YAML::Node build = service["build"];
    if (build && !build.IsNull()) {
        if (auto status = translate_build(context, path + ".build", build, body); !status) return status.error();
        if (image)
            context.warn(key_of(service, "image"), path + ".image",
                         fmt::format("the image is built from 'build:' and tagged by tandem ({}-{}:tandem, or by its "
                                     "content under shipper), not as '{}'",
                                     "<project>", name, image.Scalar()));
    } else if (image && image.IsScalar() && context.built_images.count(image.Scalar())) {
        // compose tags the image `build:` makes with `image:`; here the image is built for this
        // service too, from the same build (the daemon's cache makes the second build quick).
        const std::string& builder = context.built_images.at(image.Scalar());
        const YAML::Node& all = context.services;
        if (auto status = translate_build(context, path + ".build", all[builder]["build"], body); !status)
            return status.error();
        context.warn(key_of(service, "image"), path + ".image",
                     fmt::format("'{}' is the image service '{}' builds: built here from its 'build:' too", image.Scalar(),
                                 builder));
    } else if (image) {
        body["image"] = image;
    } else {
        return context.error(ErrorCode::missing_field, service, path, "a service needs 'image:' or 'build:'");
    }
    if (auto status = translate_command(context, path, service, body); !status) return status.error();
    if (auto status = translate_env(context, path, service, body); !status) return status.error();
    if (const YAML::Node ports = service["ports"]; ports && !ports.IsNull())
        if (auto status = translate_ports(context, path + ".ports", ports, body); !status) return status.error();
    if (const YAML::Node depends = service["depends_on"]; depends && !depends.IsNull())
        if (auto status = translate_depends_on(context, path + ".depends_on", depends, out, enabled);
            !status)
            return status.error();
    if (const YAML::Node check = service["healthcheck"]; check && !check.IsNull())
        if (auto status = translate_healthcheck(context, path + ".healthcheck", check, body); !status) return status.error();
    if (auto status = translate_mounts(context, path, service, body, name); !status) return status.error();
    if (const YAML::Node networks = service["networks"]; networks && !networks.IsNull())
        if (auto status = translate_networks(context, path + ".networks", networks, body); !status) return status.error();
    if (const YAML::Node deploy = service["deploy"]; deploy && !deploy.IsNull())
        if (auto status = translate_deploy(context, path + ".deploy", deploy, body); !status) return status.error();
    if (auto status = translate_misc(context, path, service, body); !status) return status.error();
    if (const YAML::Node develop = service["develop"]; develop && !develop.IsNull()) {
        if (auto status = translate_watch(context, path + ".develop", develop, body); !status) return status.error();
        // As `docker compose watch`: with rules, a save does what a rule says, and a file no rule
        // takes (or one a rule ignores) does nothing, even inside the build context.
        if (has(body, "watch") && has(body, "build") && body["build"].IsMap() && !has(body["build"], "inputs"))
            body["build"]["inputs"] = YAML::Node(YAML::NodeType::Sequence);
    }
    if (const YAML::Node restart = service["restart"]; restart && !restart.IsNull()) {
        const std::string value = restart.IsScalar() ? restart.Scalar() : "";
        if (value == "no") {
            out.restart_no.reset(key_of(service, "restart"));
        } else if (value.rfind("on-failure:", 0) == 0) {
            context.warn(key_of(service, "restart"), path + ".restart",
                         fmt::format("the retry count of '{}' is not applied: the policy's crash knobs decide how often a "
                                     "crashed replica restarts",
                                     value));
        } else if (value != "always" && value != "unless-stopped" && value != "on-failure" && value.rfind("on-failure:", 0) != 0)
            return context.invalid(restart, path + ".restart",
                                   fmt::format("'{}' is not a restart policy (no, always, on-failure[:N], unless-stopped)", value));
    }
    if (const YAML::Node keys = service["x-tandem"]; keys && !keys.IsNull())
        if (auto status = merge_tandem_keys(context, path + ".x-tandem", keys, body); !status) return status.error();
    return out;
}

}  // namespace tandem::config::compose
