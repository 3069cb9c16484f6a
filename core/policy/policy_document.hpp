// One policy set as written in YAML, checked knob by knob but not yet resolved against the
// set it starts from.
#pragma once

#include "policy/knob_table.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tandem {

// One knob the set assigns: the checked value, and the text and place it was written.
struct KnobAssignment {
    const KnobRow* knob = nullptr;
    KnobSetter apply;
    std::string text;         // the YAML scalar as written ("rolling", "2m")
    SourceLocation location;  // of the value
};

struct PolicyDocument {
    std::string name;
    std::string description;
    std::optional<std::string> from;  // absent for a built-in set
    SourceLocation location;          // where the set's mapping starts
    SourceLocation from_location;     // where the `from:` value is
    std::vector<KnobAssignment> assignments;  // in file order

    // The assignment of `knob`, if the set makes one.
    const KnobAssignment* find(std::string_view knob) const;
};

// Reads the set at `node`, a mapping of `name`, `description`, `from` and sections of knobs.
// `name` is the name the set is known by: a `name:` key inside must agree with it.
Result<PolicyDocument> read_policy_document(const YAML::Node& node, const std::string& file,
                                            const std::string& name);

// Ok when the set assigns every knob of the table (as every built-in set must).
Status check_defines_every_knob(const PolicyDocument& document);

}  // namespace tandem
