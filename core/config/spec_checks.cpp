// Checks that need every service at once (depends_on names and cycles, port references, ports)
// or all of one service's keys (the ${state.NAME} it uses are the ones it declares).
#include "config/spec_parser.hpp"
#include "config/variables.hpp"

#include "support/suggest.hpp"
#include "support/system_user.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace tandem::config {

namespace {

std::vector<std::string_view> service_names(const Spec& spec) {
    std::vector<std::string_view> names;
    for (const auto& service : spec.services) names.push_back(service.name);
    return names;
}

Status check_depends_on_names(const ParsedSpec& parsed) {
    const Spec& spec = parsed.spec;
    for (std::size_t i = 0; i < spec.services.size(); ++i) {
        const ServiceSpec& service = spec.services[i];
        for (std::size_t d = 0; d < service.depends_on.size(); ++d) {
            const std::string& name = service.depends_on[d];
            if (spec.find(name)) continue;
            return make_error(ErrorCode::unknown_reference,
                              fmt::format("'services.{}.depends_on': unknown service '{}'{}", service.name, name,
                                          did_you_mean(name, service_names(spec))),
                              parsed.sources[i].depends_on[d]);
        }
    }
    return Ok{};
}

// Depth-first search in file order; the edge that reaches a service still on the path
// closes a cycle, and the error points at that depends_on entry.
class CycleFinder {
public:
    explicit CycleFinder(const ParsedSpec& parsed) : parsed_(parsed), state_(parsed.spec.services.size(), 0) {}

    Status run() {
        for (std::size_t i = 0; i < state_.size(); ++i) {
            if (auto status = visit(i); !status) return status;
        }
        return Ok{};
    }

private:
    Status visit(std::size_t index) {
        if (state_[index] == kDone) return Ok{};
        state_[index] = kOnPath;
        path_.push_back(index);
        const ServiceSpec& service = parsed_.spec.services[index];
        for (std::size_t d = 0; d < service.depends_on.size(); ++d) {
            const std::size_t next = index_of(service.depends_on[d]);
            if (state_[next] == kOnPath) return cycle_error(next, parsed_.sources[index].depends_on[d]);
            if (auto status = visit(next); !status) return status;
        }
        path_.pop_back();
        state_[index] = kDone;
        return Ok{};
    }

    Error cycle_error(std::size_t start, const SourceLocation& closing_entry) const {
        std::string cycle;
        bool on_cycle = false;
        for (std::size_t index : path_) {
            on_cycle = on_cycle || index == start;
            if (on_cycle) cycle += parsed_.spec.services[index].name + " -> ";
        }
        cycle += parsed_.spec.services[start].name;
        return make_error(ErrorCode::dependency_cycle, "dependency cycle: " + cycle, closing_entry);
    }

    std::size_t index_of(const std::string& name) const {
        for (std::size_t i = 0; i < parsed_.spec.services.size(); ++i) {
            if (parsed_.spec.services[i].name == name) return i;
        }
        return 0;  // unreachable: names were checked before
    }

    static constexpr int kOnPath = 1;
    static constexpr int kDone = 2;
    const ParsedSpec& parsed_;
    std::vector<int> state_;  // 0: not seen, kOnPath, kDone
    std::vector<std::size_t> path_;
};

Status check_port_references(const ParsedSpec& parsed) {
    const Spec& spec = parsed.spec;
    for (std::size_t i = 0; i < spec.services.size(); ++i) {
        const ServiceSpec& service = spec.services[i];
        for (std::size_t e = 0; e < service.env.size(); ++e) {
            const std::string where = fmt::format("'services.{}.env.{}': ", service.name, service.env[e].first);
            for (const auto& variable : scan_variables(service.env[e].second).variables) {
                const auto port_of = referenced_service(variable.name);
                const auto target = port_of ? port_of : referenced_host(variable.name);
                if (!target) continue;
                const ServiceSpec* other = spec.find(*target);
                if (!other)
                    return make_error(ErrorCode::unknown_reference,
                                      fmt::format("{}'${{{}}}' names an unknown service '{}'{}", where, variable.name,
                                                  *target, did_you_mean(*target, service_names(spec))),
                                      parsed.sources[i].env[e]);
                if (port_of && other->port == 0)
                    return make_error(ErrorCode::unknown_reference,
                                      fmt::format("{}'${{{}}}': service '{}' has no port (give it 'port:')", where,
                                                  variable.name, *target),
                                      parsed.sources[i].env[e]);
            }
        }
    }
    return Ok{};
}

Status check_duplicate_ports(const ParsedSpec& parsed) {
    std::map<int, std::string> owners;
    for (std::size_t i = 0; i < parsed.spec.services.size(); ++i) {
        const ServiceSpec& service = parsed.spec.services[i];
        if (service.port != 0) {
            auto [owner, inserted] = owners.emplace(service.port, service.name);
            if (!inserted)
                return make_error(ErrorCode::duplicate,
                                  fmt::format("'services.{}.port': port {} is already used by service '{}'", service.name,
                                              service.port, owner->second),
                                  parsed.sources[i].port);
        }
        if (!service.container) continue;
        if (service.port == 0 && !service.container->extra_ports.empty())
            return make_error(ErrorCode::missing_field,
                              fmt::format("'services.{}.extra_ports': extra ports are routed beside the service's "
                                          "'port', which it does not have (give it 'port:')",
                                          service.name),
                              service.container->location);
        for (const auto& [published, listened] : service.container->extra_ports) {
            auto [owner, inserted] = owners.emplace(published, service.name);
            if (inserted) continue;
            return make_error(ErrorCode::duplicate,
                              fmt::format("'services.{}.extra_ports': port {} is already used by service '{}'{}",
                                          service.name, published, owner->second,
                                          owner->second == service.name ? " (twice)" : ""),
                              service.container->location);
        }
    }
    return Ok{};
}

// A job runs once to completion: nothing connects to it, one copy runs, and its exit code is
// its health.
Status check_jobs(const ParsedSpec& parsed) {
    for (std::size_t i = 0; i < parsed.spec.services.size(); ++i) {
        const ServiceSpec& service = parsed.spec.services[i];
        if (!service.job) continue;
        std::string conflict;
        if (service.port != 0) conflict = "port";
        else if (service.container && !service.container->extra_ports.empty()) conflict = "extra_ports";
        else if (service.replicas != 1) conflict = "replicas";
        else if (service.health) conflict = "health";
        if (conflict.empty()) continue;
        return make_error(ErrorCode::invalid_value,
                          fmt::format("'services.{}': a job (job: true) runs once to completion and cannot have '{}' "
                                      "(its exit code 0 is its success)",
                                      service.name, conflict),
                          parsed.sources[i].job);
    }
    return Ok{};
}

// Each text of `service` that may hold ${state.NAME}, with where it was written.
std::vector<std::pair<const std::string*, SourceLocation>> state_texts(const ServiceSpec& service,
                                                                       const ServiceSource& source) {
    std::vector<std::pair<const std::string*, SourceLocation>> texts;
    for (const auto& arg : service.run.argv) texts.emplace_back(&arg, service.run.location);
    for (std::size_t e = 0; e < service.env.size(); ++e)
        texts.emplace_back(&service.env[e].second, e < source.env.size() ? source.env[e] : service.location);
    if (service.health)
        for (const auto& arg : service.health->command) texts.emplace_back(&arg, service.health->location);
    if (service.reset) texts.emplace_back(&service.reset->command, service.reset->location);
    for (const auto& rule : service.watch) texts.emplace_back(&rule.command, rule.location);
    if (service.build) texts.emplace_back(&service.build->command, service.build->location);
    return texts;
}

Status check_state_references(const ParsedSpec& parsed) {
    for (std::size_t i = 0; i < parsed.spec.services.size(); ++i) {
        const ServiceSpec& service = parsed.spec.services[i];
        for (const auto& [text, location] : state_texts(service, parsed.sources[i])) {
            for (const auto& variable : scan_variables(*text).variables) {
                const auto name = referenced_state(variable.name);
                if (!name || std::find(service.state.begin(), service.state.end(), *name) != service.state.end())
                    continue;
                return make_error(ErrorCode::unknown_reference,
                                  fmt::format("'services.{}': '${{{}}}' names state '{}', which the service does not "
                                              "declare (add it: 'state: [{}]'){}",
                                              service.name, variable.name, *name, *name,
                                              did_you_mean(*name, std::vector<std::string_view>(service.state.begin(),
                                                                                                service.state.end()))),
                                  location);
            }
        }
    }
    return Ok{};
}

// Services that share a state run as one user: each start gives the directory to its
// service's user, so two users would take it from each other.
Status check_state_owners(const ParsedSpec& parsed) {
    const auto& services = parsed.spec.services;
    std::map<std::string, std::pair<std::size_t, uid_t>> owners;  // state -> first service with a user, its uid
    for (std::size_t i = 0; i < services.size(); ++i) {
        if (services[i].user.empty()) continue;
        auto user = find_system_user(services[i].user);
        if (!user) continue;  // reported when the key was read
        for (const auto& name : services[i].state) {
            auto [owner, inserted] = owners.emplace(name, std::make_pair(i, user->uid));
            if (inserted || owner->second.second == user->uid) continue;
            const ServiceSpec& other = services[owner->second.first];
            return make_error(
                ErrorCode::invalid_value,
                fmt::format("'services.{}.user': '{}' runs as '{}' but shares state '{}' with '{}', which runs as '{}' "
                            "(a state directory has one owner: give both services the same user)",
                            services[i].name, services[i].name, services[i].user, name, other.name, other.user),
                parsed.sources[i].user);
        }
    }
    return Ok{};
}

Status check_service_kinds(const ParsedSpec& parsed) {
    for (std::size_t i = 0; i < parsed.spec.services.size(); ++i) {
        if (auto status = check_service_kind(parsed.spec.services[i], parsed.sources[i]); !status) return status;
    }
    return Ok{};
}

}  // namespace

Status check_spec(const ParsedSpec& parsed) {
    if (auto status = check_service_kinds(parsed); !status) return status;
    if (auto status = check_jobs(parsed); !status) return status;
    if (auto status = check_depends_on_names(parsed); !status) return status;
    if (auto status = CycleFinder(parsed).run(); !status) return status;
    if (auto status = check_port_references(parsed); !status) return status;
    if (auto status = check_state_references(parsed); !status) return status;
    if (auto status = check_state_owners(parsed); !status) return status;
    if (auto status = check_previews(parsed.spec); !status) return status;
    return check_duplicate_ports(parsed);
}

}  // namespace tandem::config
