// One service of tandem.yaml: its keys read into a ServiceSpec, its `overrides:` validated,
// and the locations the cross-checks of the whole spec need.
#pragma once

#include "config/mapping_fields.hpp"

#include <tandem/spec.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tandem::config {

// Where the values that other services refer to were written; kept beside the ServiceSpec so
// cross-checks (ports, ${services.X.port}, depends_on) can point at them after overrides.
struct ServiceSource {
    SourceLocation port;                     // the `port:` value (empty when not written)
    SourceLocation job;                      // the `job:` value (empty when not written)
    std::vector<SourceLocation> env;         // one per ServiceSpec::env entry, its value
    std::vector<SourceLocation> depends_on;  // one per ServiceSpec::depends_on entry
    SourceLocation user;                     // the `user:` value (empty when not written)
    // Why `user:` names no user of this machine (a process service's user must be one; a
    // container's is a user of its image), kept until the service's kind is known.
    std::optional<Error> user_problem;
    std::string container_key;               // the first container-only key written (command, volumes)
    SourceLocation container_key_location;
    SourceLocation workdir;                  // the `workdir:` value (empty when not written)
    SourceLocation state;                    // the `state:` value (empty when not written)
    Fields overrides;                        // `overrides:`, policy set name -> body (validated)
    yaml::Where where;                       // file and key path of the service ("services.api")
};

struct ParsedService {
    ServiceSpec spec;
    ServiceSource source;
};

// Reads the service `entry` of the `services:` mapping (name -> body). Every override body
// is validated too, whichever policy set is active.
Result<ParsedService> parse_service(const Field& entry, const yaml::Where& services);

// What a service's kind allows, checked once all its keys are read (and again after overrides):
// `command`/`volumes` only with an image, `workdir`/`state`/a command build only without one,
// and a process service's `user` a user of this machine.
Status check_service_kind(const ServiceSpec& service, const ServiceSource& source);

// Applies one `overrides:` body: each key it sets replaces the service's value, except `env`,
// which is merged variable by variable. `run` and `image` (or an image `build`) replace each
// other: an override can switch a service between a process and a container.
Status apply_override(ParsedService& service, const Field& override_entry);

}  // namespace tandem::config
