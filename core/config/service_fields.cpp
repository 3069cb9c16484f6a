// The structured values of a service: commands, build, health probe, watch rules, reset.
#include "config/service_fields.hpp"

#include "config/mapping_fields.hpp"
#include "support/path_inside.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace tandem::config {

namespace {

Result<std::string> read_nonempty_string(const YAML::Node& node, const yaml::Where& where) {
    auto text = yaml::read_string(node, where);
    if (text && text->empty()) return yaml::invalid(node, where, "must not be empty");
    return text;
}

// Whether an empty list is a value of its own (`build.inputs: []`: no file rebuilds) or a mistake.
enum class EmptyList { refused, allowed };

Result<std::vector<std::string>> read_relative_paths(const YAML::Node& node, const yaml::Where& where,
                                                     EmptyList empty = EmptyList::refused) {
    auto items = yaml::read_string_list(node, where, /*allow_scalar=*/true);
    if (!items) return items.error();
    if (items->empty() && empty == EmptyList::refused) return yaml::invalid(node, where, "must name at least one path");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < items->size(); ++i) {
        const YAML::Node item = node.IsSequence() ? node[i] : node;
        auto path = read_relative_path(item, node.IsSequence() ? where.child(std::to_string(i)) : where);
        if (!path) return path.error();
        out.push_back(std::move(*path));
    }
    return out;
}

// The one probe kind key of a health mapping (http, tcp or exec).
Result<const Field*> probe_field(const YAML::Node& node, const Fields& fields, const yaml::Where& where) {
    const Field* probe = nullptr;
    for (const auto& field : fields) {
        if (field.key != "http" && field.key != "tcp" && field.key != "exec") continue;
        if (probe)
            return make_error(ErrorCode::invalid_value,
                              fmt::format("'{}': a health check has one probe, found both '{}' and '{}'", where.path,
                                          probe->key, field.key),
                              yaml::location(field.key_node, where.file));
        probe = &field;
    }
    if (!probe)
        return make_error(ErrorCode::missing_field,
                          fmt::format("'{}': missing the probe: one of 'http', 'tcp' or 'exec'", where.path),
                          yaml::location(node, where.file));
    return probe;
}

Status read_probe(HealthSpec& health, const Field& probe, const yaml::Where& where) {
    const yaml::Where at = where.child(probe.key);
    if (probe.key == "http") {
        auto path = read_nonempty_string(probe.value, at);
        if (!path) return path.error();
        if ((*path)[0] != '/') return yaml::invalid(probe.value, at, "the request path must start with '/'");
        health.kind = ProbeKind::http;
        health.path = *path;
    } else if (probe.key == "tcp") {
        auto on = yaml::read_bool(probe.value, at);
        if (!on) return on.error();
        if (!*on) return yaml::invalid(probe.value, at, "write 'tcp: true' (or remove the health check)");
        health.kind = ProbeKind::tcp;
    } else {
        auto command = read_command(probe.value, at);
        if (!command) return command.error();
        health.kind = ProbeKind::exec;
        health.command = std::move(command->argv);
    }
    return Ok{};
}

Result<Duration> read_positive_duration(const YAML::Node& node, const yaml::Where& where) {
    auto d = yaml::read_duration(node, where);
    if (d && d->count() == 0) return yaml::invalid(node, where, "must be longer than 0ms");
    return d;
}

Status read_health_setting(HealthSpec& health, const Field& field, const yaml::Where& where) {
    const yaml::Where at = where.child(field.key);
    auto assign_int = [&](int& out, int min, int max) -> Status {
        auto v = yaml::read_int(field.value, at, min, max);
        if (!v) return v.error();
        out = *v;
        return Ok{};
    };
    auto assign_duration = [&](Duration& out, bool positive) -> Status {
        auto d = positive ? read_positive_duration(field.value, at) : yaml::read_duration(field.value, at);
        if (!d) return d.error();
        out = *d;
        return Ok{};
    };
    if (field.key == "expect_status") {
        if (health.kind != ProbeKind::http)
            return make_error(ErrorCode::invalid_value, fmt::format("'{}': applies to http probes only", at.path),
                              yaml::location(field.key_node, where.file));
        return assign_int(health.expect_status, 100, 599);
    }
    if (field.key == "initial_delay") return assign_duration(health.initial_delay, false);
    if (field.key == "interval") return assign_duration(health.interval, true);
    if (field.key == "timeout") return assign_duration(health.timeout, true);
    if (field.key == "success_threshold") return assign_int(health.success_threshold, 1, 1000);
    if (field.key == "failure_threshold") return assign_int(health.failure_threshold, 1, 1000);
    return Ok{};  // the probe keys, read before
}

Result<WatchRule> read_watch_rule(const YAML::Node& node, const yaml::Where& where) {
    auto fields = read_fields(node, where, {"paths", "action", "command", "target", "ignore"});
    if (!fields) return fields.error();
    WatchRule rule;
    rule.location = yaml::location(node, where.file);
    const Field* paths = find_field(*fields, "paths");
    if (!paths) return missing_key(node, where, "paths");
    auto globs = at_key_if_empty(read_relative_paths(paths->value, where.child("paths")), *paths, where.file);
    if (!globs) return globs.error();
    rule.paths = std::move(*globs);
    if (const Field* action = find_field(*fields, "action")) {
        auto name = at_key_if_empty(
            yaml::read_choice(action->value, where.child("action"), {"sync", "sync+restart", "restart", "rebuild", "run"}),
            *action, where.file);
        if (!name) return name.error();
        rule.restart_after_sync = *name == "sync+restart";
        rule.action = *name == "sync" || rule.restart_after_sync ? WatchAction::sync
                      : *name == "restart" ? WatchAction::restart
                      : *name == "run" ? WatchAction::run
                                       : WatchAction::rebuild;
    }
    const Field* command = find_field(*fields, "command");
    if (rule.action == WatchAction::run && !command) return missing_key(node, where, "command");
    // A sync rule's command runs in a container after the files (checked with the service's kind).
    if (command && rule.action != WatchAction::run && rule.action != WatchAction::sync)
        return make_error(ErrorCode::invalid_value,
                          fmt::format("'{}': a command is only used with 'action: run' (or 'action: sync' into a "
                                      "container)",
                                      where.child("command").path),
                          yaml::location(command->key_node, where.file));
    if (command) {
        auto text = at_key_if_empty(read_nonempty_string(command->value, where.child("command")), *command, where.file);
        if (!text) return text.error();
        rule.command = std::move(*text);
    }
    if (const Field* target = find_field(*fields, "target")) {
        if (rule.action != WatchAction::sync)
            return make_error(ErrorCode::invalid_value,
                              fmt::format("'{}': a target is only used with 'action: sync'", where.child("target").path),
                              yaml::location(target->key_node, where.file));
        auto text = at_key_if_empty(read_nonempty_string(target->value, where.child("target")), *target, where.file);
        if (!text) return text.error();
        if (text->front() != '/')
            return yaml::invalid(target->value, where.child("target"),
                                 fmt::format("'{}' is not an absolute path in the container", *text));
        rule.target = std::move(*text);
    }
    if (const Field* ignore = find_field(*fields, "ignore")) {
        auto globs = at_key_if_empty(read_relative_paths(ignore->value, where.child("ignore")), *ignore, where.file);
        if (!globs) return globs.error();
        rule.ignore = std::move(*globs);
    }
    return rule;
}

}  // namespace

Result<Command> read_command(const YAML::Node& node, const yaml::Where& where) {
    if (node.IsScalar()) {
        auto text = read_nonempty_string(node, where);
        if (!text) return text.error();
        return Command{{"/bin/sh", "-c", *text}, true};
    }
    if (!node.IsSequence()) return yaml::invalid(node, where, "expected a command: a string or a list of arguments");
    auto argv = yaml::read_string_list(node, where);
    if (!argv) return argv.error();
    if (argv->empty() || argv->front().empty()) return yaml::invalid(node, where, "the program must not be empty");
    return Command{std::move(*argv), false};
}

Result<std::string> read_relative_path(const YAML::Node& node, const yaml::Where& where) {
    auto text = read_nonempty_string(node, where);
    if (!text) return text.error();
    const InsideRoot inside = inside_root(*text);
    if (inside.refusal == InsideRoot::Refusal::absolute)
        return yaml::invalid(node, where,
                             fmt::format("'{}' must be relative to the project root, not absolute", *text));
    if (!inside) return yaml::invalid(node, where, fmt::format("'{}' leaves the project root", *text));
    return inside.path.empty() ? std::string(".") : inside.path;
}

Result<BuildSpec> read_build(const YAML::Node& node, const yaml::Where& where) {
    BuildSpec build;
    build.location = yaml::location(node, where.file);
    if (node.IsScalar()) {
        auto command = read_nonempty_string(node, where);
        if (!command) return command.error();
        build.command = std::move(*command);
        return build;
    }
    auto fields = read_fields(node, where, {"command", "inputs", "outputs", "network"});
    if (!fields) return fields.error();
    const Field* command = find_field(*fields, "command");
    if (!command) return missing_key(node, where, "command");
    auto text = at_key_if_empty(read_nonempty_string(command->value, where.child("command")), *command, where.file);
    if (!text) return text.error();
    build.command = std::move(*text);
    if (const Field* inputs = find_field(*fields, "inputs")) {
        auto globs = at_key_if_empty(read_relative_paths(inputs->value, where.child("inputs"), EmptyList::allowed),
                                     *inputs, where.file);
        if (!globs) return globs.error();
        build.inputs = std::move(*globs);
    }
    if (const Field* outputs = find_field(*fields, "outputs")) {
        auto paths = at_key_if_empty(read_relative_paths(outputs->value, where.child("outputs")), *outputs, where.file);
        if (!paths) return paths.error();
        build.outputs = std::move(*paths);
    }
    if (const Field* network = find_field(*fields, "network")) {
        auto allowed = yaml::read_bool(network->value, where.child("network"));
        if (!allowed) return allowed.error();
        build.network = *allowed;
    }
    return build;
}

Result<HealthSpec> read_health(const YAML::Node& node, const yaml::Where& where) {
    auto fields = read_fields(node, where,
                              {"http", "tcp", "exec", "expect_status", "initial_delay", "interval", "timeout",
                               "success_threshold", "failure_threshold"});
    if (!fields) return fields.error();
    HealthSpec health;
    health.location = yaml::location(node, where.file);
    auto probe = probe_field(node, *fields, where);
    if (!probe) return probe.error();
    if (auto status = read_probe(health, **probe, where); !status)
        return at_key_if_empty(status.error(), **probe, where.file);
    for (const auto& field : *fields) {
        if (auto status = read_health_setting(health, field, where); !status)
            return at_key_if_empty(status.error(), field, where.file);
    }
    return health;
}

Result<std::vector<WatchRule>> read_watch(const YAML::Node& node, const yaml::Where& where) {
    if (!node.IsSequence()) return yaml::invalid(node, where, "expected a list of watch rules");
    std::vector<WatchRule> rules;
    for (std::size_t i = 0; i < node.size(); ++i) {
        auto rule = read_watch_rule(node[i], where.child(std::to_string(i)));
        if (!rule) return rule.error();
        rules.push_back(std::move(*rule));
    }
    return rules;
}

Result<ResetSpec> read_reset(const YAML::Node& node, const yaml::Where& where) {
    ResetSpec reset;
    reset.location = yaml::location(node, where.file);
    if (node.IsScalar()) {
        auto command = read_nonempty_string(node, where);
        if (!command) return command.error();
        reset.command = std::move(*command);
        return reset;
    }
    auto fields = read_fields(node, where, {"command"});
    if (!fields) return fields.error();
    const Field* command = find_field(*fields, "command");
    if (!command) return missing_key(node, where, "command");
    auto text = at_key_if_empty(read_nonempty_string(command->value, where.child("command")), *command, where.file);
    if (!text) return text.error();
    reset.command = std::move(*text);
    return reset;
}

}  // namespace tandem::config
