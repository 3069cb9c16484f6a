// One service of tandem.yaml, read key by key through a table shared with `overrides:` bodies.
#include "config/service_parser.hpp"

#include "config/container_fields.hpp"
#include "config/container_keys.hpp"
#include "config/service_fields.hpp"
#include "config/variables.hpp"

#include "support/system_user.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tandem::config {

namespace {

struct ServiceKey {
    std::string_view name;
    KeyReader read;
    bool overridable;  // may appear in an `overrides:` body
};

const std::vector<ServiceKey>& service_keys();

Status read_run(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto command = read_command(field.value, where);
    if (!command) return command.error();
    service.spec.run = RunSpec{std::move(command->argv), command->shell, yaml::location(field.value, where.file)};
    service.spec.container.reset();  // an override's `run` makes a container service a process again
    service.source.container_key.clear();
    return Ok{};
}

ContainerSpec& container_of(ParsedService& service) {
    if (!service.spec.container) service.spec.container.emplace();
    return *service.spec.container;
}

Status read_build_key(ParsedService& service, const Field& field, const yaml::Where& where) {
    if (is_image_build(field.value)) {
        auto image = read_image_build(field.value, where);
        if (!image) return image.error();
        service.spec.run = RunSpec{};
        service.spec.build.reset();
        container_of(service).location = image->location;
        service.spec.container->image.clear();
        service.spec.container->build = std::move(*image);
        return Ok{};
    }
    if (field.value.IsMap() && !field.value["command"])
        return make_error(ErrorCode::missing_field,
                          fmt::format("'{}': missing 'command' (a command that builds files for a process service) or "
                                      "'context'/'dockerfile' (an image for a container service)",
                                      where.path),
                          yaml::location(field.value, where.file));
    auto build = read_build(field.value, where);
    if (!build) return build.error();
    service.spec.build = std::move(*build);
    return Ok{};
}

Status read_workdir(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto path = read_relative_path(field.value, where);
    if (!path) return path.error();
    service.spec.workdir = std::move(*path);
    service.source.workdir = yaml::location(field.value, where.file);
    return Ok{};
}

Status read_port(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto port = yaml::read_int(field.value, where, 0, 65535);
    if (!port) return port.error();
    service.spec.port = *port;
    service.source.port = yaml::location(field.value, where.file);
    return Ok{};
}

Status read_job(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto job = yaml::read_bool(field.value, where);
    if (!job) return job.error();
    service.spec.job = *job;
    service.source.job = yaml::location(field.value, where.file);
    return Ok{};
}

Status read_replicas(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto replicas = yaml::read_int(field.value, where, 1, 100);
    if (!replicas) return replicas.error();
    service.spec.replicas = *replicas;
    return Ok{};
}

// Only ${port}, ${services.NAME.port}, ${services.NAME.host} and ${state.NAME}; whether NAME
// exists is checked with the whole spec.
Status check_variables(const YAML::Node& value, const yaml::Where& where) {
    const VariableScan scan = scan_variables(value.Scalar());
    if (scan.unclosed) return yaml::invalid(value, where, "'${' without a closing '}'");
    for (const auto& variable : scan.variables) {
        if (variable.name == kOwnPortVariable || referenced_service(variable.name) || referenced_host(variable.name) ||
            referenced_state(variable.name))
            continue;
        return make_error(ErrorCode::unknown_reference,
                          fmt::format("'{}': unknown variable '${{{}}}' (the variables are ${{port}}, "
                                      "${{services.NAME.port}}, ${{services.NAME.host}} and ${{state.NAME}})",
                                      where.path, variable.name),
                          yaml::location(value, where.file));
    }
    return Ok{};
}

// Letters, digits, '_', and '.' and '-' after the first (images read names such as
// `discovery.type`); not starting with a digit.
bool is_env_name(const std::string& name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9') || name[0] == '.' || name[0] == '-') return false;
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return false;
    }
    return true;
}

// Merges into the env read so far: a variable already set is replaced in place.
Status read_env(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto entries = read_entries(field.value, where, "variable");
    if (!entries) return entries.error();
    for (const auto& entry : *entries) {
        const yaml::Where at = where.child(entry.key);
        if (!is_env_name(entry.key))
            return make_error(
                ErrorCode::invalid_value,
                fmt::format("'{}': '{}' is not a variable name (letters, digits, '_', and '.' or '-' after the first)", at.path, entry.key),
                yaml::location(entry.key_node, where.file));
        auto value = at_key_if_empty(yaml::read_string(entry.value, at), entry, where.file);
        if (!value) return value.error();
        if (auto status = check_variables(entry.value, at); !status) return status;
        const SourceLocation location = yaml::location(entry.value, where.file);
        auto& env = service.spec.env;
        std::size_t i = 0;
        while (i < env.size() && env[i].first != entry.key) ++i;
        if (i == env.size()) {
            env.emplace_back(entry.key, std::move(*value));
            service.source.env.push_back(location);
        } else {
            env[i].second = std::move(*value);
            service.source.env[i] = location;
        }
    }
    return Ok{};
}

Status read_health_key(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto health = read_health(field.value, where);
    if (!health) return health.error();
    service.spec.health = std::move(*health);
    return Ok{};
}

Status read_depends_on(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto names = yaml::read_string_list(field.value, where, /*allow_scalar=*/true);
    if (!names) return names.error();
    for (std::size_t i = 0; i < names->size(); ++i) {
        const YAML::Node item = field.value.IsSequence() ? field.value[i] : field.value;
        const SourceLocation location = yaml::location(item, where.file);
        const std::string& name = (*names)[i];
        for (const auto& earlier : service.spec.depends_on) {
            if (earlier == name)
                return make_error(ErrorCode::duplicate, fmt::format("'{}': '{}' is listed twice", where.path, name),
                                  location);
        }
        service.spec.depends_on.push_back(name);
        service.source.depends_on.push_back(location);
    }
    return Ok{};
}

Status read_watch_key(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto rules = read_watch(field.value, where);
    if (!rules) return rules.error();
    service.spec.watch = std::move(*rules);
    return Ok{};
}

Status read_reset_key(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto reset = read_reset(field.value, where);
    if (!reset) return reset.error();
    service.spec.reset = std::move(*reset);
    return Ok{};
}

bool is_state_name(const std::string& name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
        if (!allowed) return false;
    }
    return true;
}

Status read_state(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto names = yaml::read_string_list(field.value, where, /*allow_scalar=*/true);
    if (!names) return names.error();
    std::vector<std::string> state;
    for (std::size_t i = 0; i < names->size(); ++i) {
        const YAML::Node item = field.value.IsSequence() ? field.value[i] : field.value;
        const std::string& name = (*names)[i];
        if (!is_state_name(name))
            return yaml::invalid(
                item, where,
                fmt::format(
                    "state name '{}' must be lowercase letters, digits, '-' and '_', starting with a letter or digit",
                    name));
        if (std::find(state.begin(), state.end(), name) != state.end())
            return make_error(ErrorCode::duplicate, fmt::format("'{}': '{}' is listed twice", where.path, name),
                              yaml::location(item, where.file));
        state.push_back(name);
    }
    service.spec.state = std::move(state);
    service.source.state = yaml::location(field.value, where.file);
    return Ok{};
}

// Looked up now, so that a typo is an error at its line rather than a failed start later.
Status read_user(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto name = yaml::read_string(field.value, where);
    if (!name) return name.error();
    if (name->empty() || name->find_first_of(" \t\n") != std::string::npos)
        return yaml::invalid(field.value, where, "expected a user name or uid (a container's may add ':group')");
    auto user = find_system_user(*name);
    service.source.user_problem.reset();
    if (!user) service.source.user_problem = yaml::invalid(field.value, where, user.error().message);
    service.spec.user = std::move(*name);
    service.source.user = yaml::location(field.value, where.file);
    return Ok{};
}

Status read_stop_grace(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto grace = yaml::read_duration(field.value, where);
    if (!grace) return grace.error();
    service.spec.stop_grace = *grace;
    return Ok{};
}

// Keeps the bodies, and validates each on a copy: a body for a set that is not active
// must still be right, or a typo would wait silently for the day that set is used.
Status read_overrides(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto entries = read_entries(field.value, where, "policy set");
    if (!entries) return entries.error();
    for (const auto& entry : *entries) {
        ParsedService scratch = service;
        if (auto status = apply_override(scratch, entry); !status) return status;
        if (auto status = check_service_kind(scratch.spec, scratch.source); !status) return status;
    }
    service.source.overrides = std::move(*entries);
    return Ok{};
}

const std::vector<ServiceKey>& service_keys() {
    static const std::vector<ServiceKey> keys = {
        {"run", read_run, true},
        {"build", read_build_key, true},
        {"workdir", read_workdir, true},
        {"port", read_port, true},
        {"replicas", read_replicas, true},
        {"env", read_env, true},
        {"health", read_health_key, true},
        {"depends_on", read_depends_on, false},
        {"watch", read_watch_key, true},
        {"reset", read_reset_key, true},
        {"state", read_state, true},
        {"user", read_user, true},
        {"stop_grace", read_stop_grace, true},
        {"job", read_job, false},
        {"overrides", read_overrides, false},
    };
    return keys;
}

std::vector<std::string_view> key_names(bool overridable_only) {
    std::vector<std::string_view> names;
    for (const auto& key : container_keys()) names.push_back(key.name);
    for (const auto& key : service_keys()) {
        if (key.overridable || !overridable_only) names.push_back(key.name);
    }
    return names;
}

// `run` and `image` (or an image `build`) in one mapping: which one is meant?
Status check_run_or_image(const Fields& fields, const yaml::Where& where) {
    const Field* run = find_field(fields, "run");
    const Field* image = find_field(fields, "image");
    const Field* build = find_field(fields, "build");
    if (image && build && !is_image_build(build->value))
        return make_error(ErrorCode::invalid_value,
                          fmt::format("'{}': 'image' and a build command together: a container service builds its "
                                      "image with 'build: {{context: ., dockerfile: Dockerfile}}' instead of 'image'",
                                      where.path),
                          yaml::location(build->key_node, where.file));
    if (!image && build && is_image_build(build->value)) image = build;
    if (!run || !image) return Ok{};
    return make_error(ErrorCode::invalid_value,
                      fmt::format("'{}': '{}' and '{}' together: a service runs either a command ('run', a process) "
                                  "or an image ('{}', a container); remove one",
                                  where.path, run->key, image->key, image->key),
                      yaml::location(image->key_node, where.file));
}

Status read_keys(ParsedService& service, const Fields& fields, const yaml::Where& where) {
    if (auto status = check_run_or_image(fields, where); !status) return status;
    for (const auto& field : fields) {
        for (const auto& key : service_keys()) {
            if (key.name != field.key) continue;
            if (auto status = key.read(service, field, where.child(field.key)); !status)
                return at_key_if_empty(status.error(), field, where.file);
        }
        for (const auto& key : container_keys()) {
            if (key.name != field.key) continue;
            if (auto status = key.read(service, field, where.child(field.key)); !status)
                return at_key_if_empty(status.error(), field, where.file);
        }
    }
    return Ok{};
}

}  // namespace

Result<ParsedService> parse_service(const Field& entry, const yaml::Where& services) {
    if (auto status = check_name(entry, services, "service"); !status) return status.error();
    ParsedService service;
    service.source.where = services.child(entry.key);
    const yaml::Where& where = service.source.where;
    auto fields = at_key_if_empty(read_fields(entry.value, where, key_names(false)), entry, where.file);
    if (!fields) return fields.error();
    const Field* build = find_field(*fields, "build");
    if (!find_field(*fields, "run") && !find_field(*fields, "image") && !(build && is_image_build(build->value)))
        return missing_key(entry.value, where, "run");
    service.spec.name = entry.key;
    service.spec.location = yaml::location(entry.key_node, where.file);
    if (auto status = read_keys(service, *fields, where); !status) return status.error();
    if (auto status = check_service_kind(service.spec, service.source); !status) return status.error();
    return service;
}

Status apply_override(ParsedService& service, const Field& override_entry) {
    const yaml::Where where = service.source.where.child("overrides").child(override_entry.key);
    auto fields = at_key_if_empty(read_fields(override_entry.value, where, key_names(true)), override_entry, where.file);
    if (!fields) return fields.error();
    return read_keys(service, *fields, where);
}

}  // namespace tandem::config
