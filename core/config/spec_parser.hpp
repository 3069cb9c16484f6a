// tandem.yaml (schema version 1) into a Spec, with the locations the project loader needs to
// report policy errors where they were written.
#pragma once

#include "config/service_parser.hpp"

#include <tandem/spec.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::config {

// One entry of `policies:`: a set written inline, or the path of a YAML file that holds it.
struct PolicyEntry {
    std::string name;
    std::optional<std::string> file;  // relative to the project root; empty when inline
    SourceLocation location;          // the entry's value
};

struct ParsedSpec {
    Spec spec;
    std::vector<ServiceSource> sources;  // one per spec.services entry, same order
    SourceLocation policy_location;      // the `policy:` value, when written
    std::vector<PolicyEntry> policies;   // `policies:`, in file order
};

// Parses and validates one document, cross-checks included. Per-policy overrides are
// validated but not applied.
Result<ParsedSpec> parse_spec(std::string_view text, const std::string& file);
// The same, for a document already parsed (a compose file or a Procfile translated to tandem's schema).
Result<ParsedSpec> parse_spec_document(const YAML::Node& document, const std::string& file);

// The checks that need the whole spec: depends_on names and cycles, ${services.X.port}
// references, ${state.NAME} declared by the service that uses it, one user per shared state,
// duplicate ports. Run again after overrides change ports, env, state or user.
Status check_spec(const ParsedSpec& parsed);

// `previews:` (preview_fields.cpp): read, and checked against the services.
Status read_previews(Spec& spec, const Field& field, const yaml::Where& where);
Status check_previews(const Spec& spec);

}  // namespace tandem::config
