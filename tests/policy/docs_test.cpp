// docs/policies.md follows the code: every knob of the table has its section there, naming its
// seed-table row and showing the built-in sets' values as the YAML files set them.
#include <doctest/doctest.h>

#include "support/temp_dir.hpp"

#include <tandem/policy.hpp>

#include <filesystem>
#include <string>

using namespace tandem;

namespace {

std::string policies_doc() {
    return test::read_text(std::filesystem::path(TANDEM_SOURCE_DIR) / "docs" / "policies.md");
}

// The text from the knob's heading to the next heading of its level, or "" without one.
std::string knob_section(const std::string& doc, std::string_view knob) {
    const std::size_t start = doc.find("### `" + std::string(knob) + "`\n");
    if (start == std::string::npos) return {};
    const std::size_t end = doc.find("\n### ", start + 1);
    return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

TEST_CASE("docs/policies.md has a section for every knob") {
    const std::string doc = policies_doc();
    REQUIRE_FALSE(doc.empty());
    for (const auto& knob : knobs()) {
        CAPTURE(knob.name);
        CHECK_FALSE(knob_section(doc, knob.name).empty());
    }
    for (const auto& name : builtin_policy_names()) CHECK(doc.find("`" + name + "`") != std::string::npos);
}

TEST_CASE("each knob's section shows the built-in values and its seed row") {
    const std::string doc = policies_doc();
    std::vector<PolicySet> builtins;
    for (const auto& name : builtin_policy_names()) {
        auto set = builtin_policy(name);
        REQUIRE_MESSAGE(set.ok(), set.error().to_string());
        builtins.push_back(*set);
    }
    for (const auto& knob : knobs()) {
        CAPTURE(knob.name);
        std::string row;
        for (const auto& set : builtins) row += "| `" + knob_value(set, knob.name).value_or("?") + "` ";
        row += "| " + std::string(knob.seed_row) + " |";
        CHECK(knob_section(doc, knob.name).find(row) != std::string::npos);
    }
}

TEST_CASE("the docs' table of built-in sets lists each one") {
    const std::string doc = policies_doc();
    for (const auto& name : builtin_policy_names())
        CHECK(doc.find("| `" + name + "` | [`policies/" + name + ".yaml`]") != std::string::npos);
}
