// Reading one policy set's YAML into a PolicyDocument, driven by the knob table.
#include "policy/policy_document.hpp"

#include "support/suggest.hpp"

#include <fmt/format.h>

namespace tandem {

namespace {

constexpr std::string_view name_key = "name";
constexpr std::string_view description_key = "description";
constexpr std::string_view from_key = "from";

const KnobRow* knob_with_key(std::string_view key) {
    for (const auto& row : knob_rows())
        if (row.key() == key) return &row;
    return nullptr;
}

// "unknown knob 'crash.on_crahs' (did you mean 'crash.on_crash'?)"; a knob written in the
// wrong section is pointed to the section it belongs in.
Error unknown_knob(const YAML::Node& key, std::string_view section, const std::string& file) {
    const std::string word = key.Scalar();
    std::vector<std::string_view> keys_here;
    for (const auto& row : knob_rows())
        if (row.section() == section) keys_here.push_back(row.key());
    std::string message = fmt::format("unknown knob '{}.{}'", section, word);
    if (auto near = nearest(word, keys_here))
        message += fmt::format(" (did you mean '{}.{}'?)", section, *near);
    else if (const KnobRow* elsewhere = knob_with_key(word))
        message += fmt::format(" (did you mean '{}'?)", elsewhere->info.name);
    return make_error(ErrorCode::unknown_key, message, yaml::location(key, file));
}

Error unknown_section(const YAML::Node& key, const std::string& file) {
    std::vector<std::string_view> known{name_key, description_key, from_key};
    known.insert(known.end(), knob_sections().begin(), knob_sections().end());
    return make_error(ErrorCode::unknown_key,
                      fmt::format("unknown section '{}'{}", key.Scalar(), did_you_mean(key.Scalar(), known)),
                      yaml::location(key, file));
}

bool is_section(std::string_view key) {
    for (auto section : knob_sections())
        if (section == key) return true;
    return false;
}

Status read_section(const YAML::Node& node, std::string_view section, const std::string& file,
                    PolicyDocument& document) {
    if (node.IsNull()) return Ok{};  // a section with every knob commented out
    const yaml::Where where{file, std::string(section)};
    if (auto is_map = yaml::expect_map(node, where); !is_map) return is_map;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string knob = fmt::format("{}.{}", section, it->first.Scalar());
        const KnobRow* row = find_knob_row(knob);
        if (!row) return unknown_knob(it->first, section, file);
        if (document.find(knob))
            return make_error(ErrorCode::duplicate, fmt::format("knob '{}' is set twice", knob),
                              yaml::location(it->first, file));
        auto setter = row->read(it->second, where.child(row->key()));
        if (!setter) return setter.error();
        document.assignments.push_back(KnobAssignment{row, std::move(*setter), it->second.Scalar(),
                                                      yaml::location(it->second, file)});
    }
    return Ok{};
}

// `name`, `description` and `from`: the keys that are not sections.
Status read_header_key(const YAML::Node& key, const YAML::Node& value, const std::string& file,
                       PolicyDocument& document) {
    const std::string& which = key.Scalar();
    auto text = yaml::read_string(value, yaml::Where{file, which});
    if (!text) return text.error();
    if (which == name_key) {
        if (*text != document.name)
            return yaml::invalid(value, yaml::Where{file, which},
                                 fmt::format("'{}' disagrees with the set's name '{}'", *text, document.name));
    } else if (which == description_key) {
        document.description = *text;
    } else {
        if (text->empty()) return yaml::invalid(value, yaml::Where{file, which}, "expected the name of a policy set");
        document.from = *text;
        document.from_location = yaml::location(value, file);
    }
    return Ok{};
}

}  // namespace

const KnobAssignment* PolicyDocument::find(std::string_view knob) const {
    for (const auto& assignment : assignments)
        if (assignment.knob->info.name == knob) return &assignment;
    return nullptr;
}

Result<PolicyDocument> read_policy_document(const YAML::Node& node, const std::string& file,
                                            const std::string& name) {
    if (auto is_map = yaml::expect_map(node, yaml::Where{file, name}); !is_map) return is_map.error();
    PolicyDocument document;
    document.name = name;
    document.location = yaml::location(node, file);
    for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string key = it->first.Scalar();
        Status read = Ok{};
        if (key == name_key || key == description_key || key == from_key)
            read = read_header_key(it->first, it->second, file, document);
        else if (is_section(key))
            read = read_section(it->second, key, file, document);
        else
            return unknown_section(it->first, file);
        if (!read) return read.error();
    }
    return document;
}

Status check_defines_every_knob(const PolicyDocument& document) {
    for (const auto& row : knob_rows()) {
        if (document.find(row.info.name)) continue;
        return make_error(ErrorCode::missing_field,
                          fmt::format("policy set '{}' does not set '{}' (a built-in set must set every knob)",
                                      document.name, row.info.name),
                          document.location);
    }
    return Ok{};
}

}  // namespace tandem
