// `previews:` at the top of tandem.yaml: which branches get a running copy of the project and
// how those copies run (shipper's deploy previews).
#include "config/spec_parser.hpp"

#include <fmt/format.h>

#include <cctype>

namespace tandem::config {

namespace {

// A DNS name of letters, digits, '-' and '.', as the Host header carries it.
bool dns_name(const std::string& name) {
    if (name.empty() || name.size() > 200 || name.front() == '.' || name.back() == '.') return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
    return name.find("..") == std::string::npos;
}

Status read_preview_field(PreviewSpec& previews, const Field& field, const yaml::Where& where) {
    const yaml::Where at = where.child(field.key);
    if (field.key == "branches") {
        auto branches = yaml::read_string_list(field.value, at, true);
        if (!branches) return branches.error();
        for (const auto& branch : *branches)
            if (branch.empty()) return yaml::invalid(field.value, at, "a branch pattern must not be empty");
        previews.branches = std::move(*branches);
    } else if (field.key == "policy") {
        auto name = yaml::read_string(field.value, at);
        if (!name) return name.error();
        if (name->empty()) return yaml::invalid(field.value, at, "must not be empty");
        previews.policy = std::move(*name);
    } else if (field.key == "idle") {
        auto idle = yaml::read_duration(field.value, at);
        if (!idle) return idle.error();
        previews.idle = *idle;
    } else if (field.key == "max") {
        auto max = yaml::read_int(field.value, at, 1, 1000);
        if (!max) return max.error();
        previews.max = *max;
    } else if (field.key == "port") {
        auto port = yaml::read_int(field.value, at, 1, 65535);
        if (!port) return port.error();
        previews.port = *port;
    } else if (field.key == "domain") {
        auto domain = yaml::read_string(field.value, at);
        if (!domain) return domain.error();
        if (!dns_name(*domain))
            return yaml::invalid(field.value, at, fmt::format("'{}' is not a host name (letters, digits, '-' and '.')", *domain));
        previews.domain = std::move(*domain);
    } else if (field.key == "service") {
        auto service = yaml::read_string(field.value, at);
        if (!service) return service.error();
        previews.service = std::move(*service);
    }
    return Ok{};
}

}  // namespace

Status read_previews(Spec& spec, const Field& field, const yaml::Where& where) {
    auto fields = read_fields(field.value, where, {"branches", "policy", "idle", "max", "port", "domain", "service"});
    if (!fields) return fields.error();
    PreviewSpec previews;
    previews.location = yaml::location(field.key_node, where.file);
    for (const auto& entry : *fields)
        if (auto status = read_preview_field(previews, entry, where); !status)
            return at_key_if_empty(status.error(), entry, where.file);
    if (previews.branches.empty())
        return yaml::invalid(field.key_node, where, "needs 'branches:', the branch patterns that get a preview (feature/*)");
    spec.previews = std::move(previews);
    return Ok{};
}

// `previews.service` names a service with a port; a routing port is not a service's port.
Status check_previews(const Spec& spec) {
    if (!spec.previews) return Ok{};
    const PreviewSpec& previews = *spec.previews;
    if (!previews.service.empty()) {
        const ServiceSpec* service = spec.find(previews.service);
        if (!service)
            return make_error(ErrorCode::invalid_value,
                              fmt::format("previews.service: no service '{}' in this file", previews.service),
                              previews.location);
        if (service->port == 0)
            return make_error(ErrorCode::invalid_value,
                              fmt::format("previews.service: '{}' has no port to route to", previews.service),
                              previews.location);
    }
    if (previews.port)
        for (const auto& service : spec.services)
            if (service.port == *previews.port)
                return make_error(ErrorCode::invalid_value,
                                  fmt::format("previews.port: {} is already the port of service '{}'", *previews.port,
                                              service.name),
                                  previews.location);
    return Ok{};
}

}  // namespace tandem::config
