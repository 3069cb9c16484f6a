// The top level of tandem.yaml: version, project, policy, policies, access, previews and services.
#include "config/spec_parser.hpp"

#include "support/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tandem::config {

namespace {

constexpr int kSchemaVersion = 1;

Status read_version(const YAML::Node& root, const yaml::Where& where) {
    const YAML::Node version = root["version"];
    if (!version) return missing_key(root, where, "version");
    const yaml::Where at = where.child("version");
    if (version.IsScalar() && version.Scalar() == std::to_string(kSchemaVersion)) return Ok{};
    auto number = yaml::read_int(version, at, 0, 1'000'000);
    if (!number) return number.error();
    return yaml::invalid(
        version, at,
        fmt::format("schema version {} is not supported (this tandem reads version {})", *number, kSchemaVersion));
}

Status read_policies(ParsedSpec& parsed, const Field& field, const yaml::Where& where) {
    auto entries = read_entries(field.value, where, "policy set");
    if (!entries) return entries.error();
    for (const auto& entry : *entries) {
        if (auto status = check_name(entry, where, "policy set"); !status) return status;
        PolicyEntry policy{entry.key, std::nullopt, yaml::location(entry.value, where.file)};
        const yaml::Where at = where.child(entry.key);
        if (entry.value.IsScalar()) {
            auto path = yaml::read_string(entry.value, at);
            if (!path) return path.error();
            if (path->empty()) return yaml::invalid(entry.value, at, "expected the path of a policy file");
            policy.file = *path;
        } else if (!entry.value.IsMap()) {
            return at_key_if_empty(
                yaml::invalid(entry.value, at, "expected a policy set (a mapping) or the path of a policy file"), entry,
                where.file);
        }
        parsed.policies.push_back(std::move(policy));
    }
    return Ok{};
}

const std::vector<std::string_view>& access_actions() {
    static const std::vector<std::string_view> actions = {"status",  "logs", "trigger",  "restart",
                                                          "reset",   "sync", "rollback", "*"};
    return actions;
}

Result<std::vector<std::string>> read_actions(const YAML::Node& node, const yaml::Where& where) {
    auto actions = yaml::read_string_list(node, where);
    if (!actions) return actions.error();
    for (std::size_t i = 0; i < actions->size(); ++i) {
        const std::string& action = (*actions)[i];
        bool known = false;
        for (auto candidate : access_actions()) known = known || candidate == action;
        if (known) continue;
        return yaml::invalid(
            node[i], where.child(std::to_string(i)),
            fmt::format(
                "unknown action '{}' (the actions are status, logs, trigger, restart, reset, sync, rollback and *){}",
                action, did_you_mean(action, access_actions())));
    }
    return actions;
}

Status read_access(ParsedSpec& parsed, const Field& field, const yaml::Where& where) {
    auto fields = read_fields(field.value, where, {"port", "roles"});
    if (!fields) return fields.error();
    if (const Field* port = find_field(*fields, "port")) {
        auto number = yaml::read_int(port->value, where.child("port"), 0, 65535);
        if (!number) return number.error();
        parsed.spec.api_port = *number;
    }
    const Field* roles = find_field(*fields, "roles");
    if (!roles) return Ok{};
    const yaml::Where roles_where = where.child("roles");
    auto entries = at_key_if_empty(read_entries(roles->value, roles_where, "role"), *roles, where.file);
    if (!entries) return entries.error();
    for (const auto& entry : *entries) {
        auto actions = at_key_if_empty(read_actions(entry.value, roles_where.child(entry.key)), entry, where.file);
        if (!actions) return actions.error();
        parsed.spec.roles.push_back(
            AccessRole{entry.key, std::move(*actions), yaml::location(entry.key_node, where.file)});
    }
    return Ok{};
}

Status read_services(ParsedSpec& parsed, const Field& field, const yaml::Where& where) {
    auto entries = read_entries(field.value, where, "service");
    if (!entries) return entries.error();
    for (const auto& entry : *entries) {
        auto service = parse_service(entry, where);
        if (!service) return service.error();
        parsed.spec.services.push_back(std::move(service->spec));
        parsed.sources.push_back(std::move(service->source));
    }
    return Ok{};
}

Status read_top_level(ParsedSpec& parsed, const Field& field, const yaml::Where& root) {
    const yaml::Where where = root.child(field.key);
    if (field.key == "project") {
        auto name = yaml::read_string(field.value, where);
        if (!name) return name.error();
        if (name->empty()) return yaml::invalid(field.value, where, "must not be empty");
        parsed.spec.project = std::move(*name);
    } else if (field.key == "policy") {
        auto name = yaml::read_string(field.value, where);
        if (!name) return name.error();
        parsed.spec.policy = std::move(*name);
        parsed.policy_location = yaml::location(field.value, where.file);
    } else if (field.key == "policies") {
        return read_policies(parsed, field, where);
    } else if (field.key == "access") {
        return read_access(parsed, field, where);
    } else if (field.key == "services") {
        return read_services(parsed, field, where);
    } else if (field.key == "previews") {
        return read_previews(parsed.spec, field, where);
    }
    return Ok{};  // version: checked first
}

Result<ParsedSpec> read_document(const YAML::Node& root, const std::string& file) {
    const yaml::Where where{file, ""};
    if (root.IsNull()) return make_error(ErrorCode::missing_field, "the file is empty; it needs 'version: 1' and 'services:'",
                                         SourceLocation{file, 0, 0});
    if (auto status = yaml::expect_map(root, where); !status) return status.error();
    // The version first: a newer schema's keys would otherwise be reported as unknown.
    if (auto status = read_version(root, where); !status) return status.error();
    auto fields = read_fields(root, where, {"version", "project", "policy", "policies", "access", "previews", "services"});
    if (!fields) return fields.error();
    if (!find_field(*fields, "services")) return missing_key(root, where, "services");
    ParsedSpec parsed;
    parsed.spec.version = kSchemaVersion;
    parsed.spec.file = file;
    for (const auto& field : *fields) {
        if (auto status = read_top_level(parsed, field, where); !status)
            return at_key_if_empty(status.error(), field, file);
    }
    return parsed;
}

}  // namespace

Result<ParsedSpec> parse_spec(std::string_view text, const std::string& file) {
    auto document = yaml::parse(text, file);
    if (!document) return document.error();
    return parse_spec_document(*document, file);
}

Result<ParsedSpec> parse_spec_document(const YAML::Node& document, const std::string& file) {
    try {
        auto parsed = read_document(document, file);
        if (!parsed) return parsed;
        if (auto status = check_spec(*parsed); !status) return status.error();
        return parsed;
    } catch (const YAML::Exception& e) {
        // Reads above go through checked accessors; this is a last line of defence.
        return make_error(ErrorCode::syntax, "invalid YAML: " + e.msg,
                          SourceLocation{file, std::max(e.mark.line + 1, 0), std::max(e.mark.column + 1, 0)});
    }
}

}  // namespace tandem::config
