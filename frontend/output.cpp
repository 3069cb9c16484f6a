// Printing of errors, validation results and policy sets for the front-ends.
#include "frontend/output.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <sstream>

namespace tandem::cli {

namespace {

const char* choice_text(PolicyChoice choice) {
    switch (choice) {
        case PolicyChoice::flag: return "flag";
        case PolicyChoice::file: return "file";
        case PolicyChoice::default_: return "default";
    }
    return "default";
}

std::string choice_phrase(PolicyChoice choice, const ToolDefaults& tool) {
    switch (choice) {
        case PolicyChoice::flag: return "from --policy";
        case PolicyChoice::file: return "from `policy:` in the file";
        case PolicyChoice::default_: return tool.program + "'s default";
    }
    return "";
}

nlohmann::json error_json(const Error& error) {
    nlohmann::json j{{"code", to_string(error.code)}, {"message", error.message}};
    if (!error.location.file.empty()) j["file"] = error.location.file;
    if (error.location.line > 0) j["line"] = error.location.line;
    if (error.location.column > 0) j["column"] = error.location.column;
    return j;
}

}  // namespace

std::string cell(std::string_view text, std::size_t width) {
    return fmt::format("{}{:{}}", text, "", text.size() < width ? width - text.size() : 1);
}

int report_error(const Error& error, const Options& options, const ToolDefaults& tool) {
    const int code = error.code == ErrorCode::usage ? 2 : 1;
    if (options.output == OutputFormat::json) {
        std::cout << nlohmann::json{{"error", error_json(error)}}.dump(2) << "\n";
    } else {
        std::cerr << tool.program << ": " << error.to_string() << "\n";
        if (code == 2) std::cerr << "Run '" << tool.program << " --help' for the commands and options.\n";
    }
    return code;
}

void print_validation(std::ostream& out, const ProjectInput& input, const Options& options, const ToolDefaults& tool) {
    const Spec& spec = input.project.spec;
    if (options.output == OutputFormat::json) {
        nlohmann::json services = nlohmann::json::array();
        for (const auto& s : spec.services) services.push_back(s.name);
        nlohmann::json j{{"valid", true},
                         {"file", input.file},
                         {"project", spec.project},
                         {"revision", input.revision},
                         {"policy", input.project.policy.name},
                         {"policy_choice", choice_text(input.project.policy_choice)},
                         {"services", services}};
        nlohmann::json warnings = nlohmann::json::array();
        for (const Error& warning : input.project.warnings)
            warnings.push_back({{"message", warning.message},
                                {"file", warning.location.file},
                                {"line", warning.location.line},
                                {"column", warning.location.column}});
        j["warnings"] = warnings;
        out << j.dump(2) << "\n";
        return;
    }
    std::vector<std::string> names;
    for (const auto& s : spec.services) names.push_back(s.name);
    fmt::print(out, "{}{} is valid: project '{}', {} {} ({}), policy '{}' ({})\n", input.file,
               input.revision.empty() ? "" : " at commit " + input.revision.substr(0, 12), spec.project,
               spec.services.size(), spec.services.size() == 1 ? "service" : "services", fmt::join(names, ", "),
               input.project.policy.name, choice_phrase(input.project.policy_choice, tool));
}

void print_policy_sets(std::ostream& out, const ProjectInput& input, const Options& options) {
    const auto& catalog = input.project.catalog;
    const std::string& active = input.project.policy.name;
    nlohmann::json list = nlohmann::json::array();
    std::ostringstream table;
    for (const auto& name : catalog.names()) {
        auto set = catalog.resolve(name);
        if (!set) continue;  // load_project resolved every set the project can name
        const std::string origin = set->from.empty() ? "built in" : "from " + set->from;
        list.push_back({{"name", name}, {"from", set->from}, {"description", set->description},
                        {"active", name == active}});
        table << (name == active ? "* " : "  ") << cell(name, 12) << cell(origin, 16) << set->description << "\n";
    }
    if (options.output == OutputFormat::json) out << nlohmann::json{{"active", active}, {"sets", list}}.dump(2) << "\n";
    else out << "policy sets (* active):\n" << table.str();
}

Status print_policy_knobs(std::ostream& out, const ProjectInput& input, const std::string& name,
                          const Options& options) {
    auto set = input.project.catalog.resolve(name);
    if (!set) return set.error();
    auto lineage = input.project.catalog.lineage(name);
    if (options.output == OutputFormat::json) {
        nlohmann::json values = nlohmann::json::object();
        for (const auto& knob : knobs()) values[std::string(knob.name)] = knob_value(*set, knob.name).value_or("");
        out << nlohmann::json{{"name", set->name}, {"from", set->from}, {"description", set->description},
                              {"lineage", lineage ? *lineage : std::vector<std::string>{}}, {"knobs", values}}
                   .dump(2)
            << "\n";
        return Ok{};
    }
    fmt::print(out, "policy set '{}' ({}{}): {}\n\n", set->name, set->from.empty() ? "built in" : "from ", set->from,
               set->description);
    out << cell("knob", 28) << cell("value", 14) << "seed-table row\n";
    for (const auto& knob : knobs())
        out << cell(knob.name, 28) << cell(knob_value(*set, knob.name).value_or("?"), 14) << knob.seed_row << "\n";
    return Ok{};
}

}  // namespace tandem::cli
