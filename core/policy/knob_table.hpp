// The knob table: for each knob, its public description (KnobInfo) plus how to read its YAML
// value into a PolicySet and how to print it back. Adding a knob is adding one row.
#pragma once

#include <tandem/policy.hpp>

#include "support/yaml_fields.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

// A checked knob value, ready to be written into any PolicySet.
using KnobSetter = std::function<void(PolicySet&)>;

struct KnobRow {
    KnobInfo info;
    // Checks `node` (the value written for this knob) and returns what it sets.
    std::function<Result<KnobSetter>(const YAML::Node& node, const yaml::Where& where)> read;
    // The knob's value in `set`, as it would be written in YAML.
    std::function<std::string(const PolicySet& set)> print;

    std::string_view section() const;  // "crash" for "crash.on_crash"
    std::string_view key() const;      // "on_crash"
};

const std::vector<KnobRow>& knob_rows();
const KnobRow* find_knob_row(std::string_view name);

// The sections knobs are grouped in, in table order ("crash", "bootstrap", ...).
const std::vector<std::string_view>& knob_sections();

}  // namespace tandem
