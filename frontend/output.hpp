// What the front-ends print: errors, validation summaries and policy listings, as a table for
// people or as JSON for programs.
#pragma once

#include "frontend/options.hpp"
#include "frontend/project_input.hpp"

#include <tandem/error.hpp>

#include <iosfwd>
#include <string>
#include <string_view>

namespace tandem::cli {

// An error to stderr ("devloop: tandem.yaml:5:3: ...") or, with --output json, as
// {"error": {...}} to stdout. Returns the exit code for it.
int report_error(const Error& error, const Options& options, const ToolDefaults& tool);

// A cell of a table: `text`, then spaces to `width` bytes, and at least one space. The columns'
// texts (names, states, digests, times) are ASCII, so a byte is a column.
std::string cell(std::string_view text, std::size_t width);

void print_validation(std::ostream& out, const ProjectInput& input, const Options& options, const ToolDefaults& tool);
void print_policy_sets(std::ostream& out, const ProjectInput& input, const Options& options);
// One set's knobs; fails if the catalog does not have it.
Status print_policy_knobs(std::ostream& out, const ProjectInput& input, const std::string& name,
                          const Options& options);

}  // namespace tandem::cli
