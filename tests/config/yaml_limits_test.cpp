// YAML that expands past the limits (aliases of big strings, aliases of aliases, deep nesting,
// huge files) is refused by load_project from real files, at the alias or node that crosses a
// bound and before anything converts the document: no gigabytes of strings, no stack overflow.
#include <doctest/doctest.h>

#include <tandem/project.hpp>

#include "support/temp_dir.hpp"
#include "support/yaml_fields.hpp"
#include "support/yaml_limits.hpp"

#include <functional>
#include <map>
#include <sstream>
#include <string>

using namespace tandem;
using tandem::test::TempDir;

namespace {

const std::string kBig = std::string(100 * 1024, 'x');  // 100 KB: 50,000 uses of it would be ~5 GB

// tandem.yaml with one service `api` whose extra lines (indented under it) are `body`.
std::string project_with(const std::string& body) {
    return "version: 1\nproject: hostile\nservices:\n  api:\n" + body;
}

// `count` aliases *s after the anchor &s of kBig, one per line, each line starting with `indent`
// and `item` (a "- " or a key per line).
std::string aliased_lines(const std::string& indent, const std::function<std::string(int)>& item, int count) {
    std::ostringstream out;
    out << indent << item(0) << "&s \"" << kBig << "\"\n";
    for (int i = 1; i <= count; ++i) out << indent << item(i) << "*s\n";
    return out.str();
}

std::string dash(int) { return "- "; }

// The text at 1-based `line` and `column` of `text`, up to `length` characters.
std::string text_at(const std::string& text, int line, int column, std::size_t length) {
    std::size_t at = 0;
    for (int l = 1; l < line && at != std::string::npos; ++l) at = text.find('\n', at) + 1;
    if (at == std::string::npos || line < 1 || column < 1) return {};
    return text.substr(at + static_cast<std::size_t>(column) - 1, length);
}

Error refused(const std::string& yaml, std::map<std::string, std::string> more = {}) {
    TempDir dir;
    dir.write("tandem.yaml", yaml);
    for (const auto& [path, text] : more) dir.write(path, text);
    ProjectOptions options;
    options.default_policy = "wip";
    auto project = load_project(dir.path(), options);
    REQUIRE_FALSE(project.ok());
    return project.error();
}

// The error is at an alias use of `file`'s text and names the limit it crossed.
void check_at_alias(const Error& error, const std::string& text, const std::string& file, const std::string& limit) {
    INFO(error.to_string().substr(0, 400));
    CHECK(error.code == ErrorCode::syntax);
    CHECK(error.location.file == file);
    CHECK(text_at(text, error.location.line, error.location.column, 2) == "*s");
    CHECK(error.message.find(limit) != std::string::npos);
}

}  // namespace

TEST_CASE("a run list of 50,000 aliases of a 100 KB string is refused at the alias that crosses 16 MiB") {
    std::string run = "    run: [&s \"" + kBig + "\"";
    for (int i = 0; i < 50'000; ++i) run += ", *s";
    const std::string yaml = project_with(run + "]\n");
    CHECK(yaml.size() < 400 * 1024);
    const Error error = refused(yaml);
    check_at_alias(error, yaml, "tandem.yaml", "16 MiB");
    CHECK(error.location.line == 5);
}

TEST_CASE("an env map whose values are aliases of a 100 KB string is refused at an alias") {
    const std::string yaml = project_with("    run: [app]\n    env:\n" +
                                          aliased_lines("      ", [](int i) { return "K" + std::to_string(i) + ": "; }, 50'000));
    check_at_alias(refused(yaml), yaml, "tandem.yaml", "16 MiB");
}

TEST_CASE("watch.paths and build.inputs of aliases are refused at an alias") {
    SUBCASE("watch.paths") {
        const std::string yaml = project_with("    run: [app]\n    watch:\n      - action: restart\n        paths:\n" +
                                              aliased_lines("          ", dash, 50'000));
        check_at_alias(refused(yaml), yaml, "tandem.yaml", "16 MiB");
    }
    SUBCASE("build.inputs") {
        const std::string yaml = project_with("    run: [app]\n    build:\n      command: make\n      outputs: [app]\n"
                                              "      inputs:\n" + aliased_lines("        ", dash, 50'000));
        check_at_alias(refused(yaml), yaml, "tandem.yaml", "16 MiB");
    }
}

TEST_CASE("aliases of aliases (billion laughs) are refused at the alias that crosses 100,000 nodes") {
    // l0 is 11 nodes; each level repeats the one below ten times: l9 would be ~10^10 nodes.
    std::string yaml = "version: 1\nlaughs:\n  l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n";
    for (int level = 1; level <= 9; ++level) {
        const std::string below = "*l" + std::to_string(level - 1);
        yaml += "  l" + std::to_string(level) + ": &l" + std::to_string(level) + " [" + below;
        for (int i = 1; i < 10; ++i) yaml += ", " + below;
        yaml += "]\n";
    }
    yaml += "services:\n  api:\n    run: *l9\n";
    const Error error = refused(yaml);
    INFO(error.to_string());
    CHECK(error.code == ErrorCode::syntax);
    // l4 would be 111,111 nodes: the crossing is one of its aliases of l3 (11,111 nodes each).
    CHECK(error.location.line == 7);
    CHECK(text_at(yaml, error.location.line, error.location.column, 3) == "*l3");
    CHECK(error.message.find("100000 nodes") != std::string::npos);
}

TEST_CASE("a flow list nested 100,000 deep is refused at the level past 64, and so is an alias that nests deeper") {
    const std::string deep = project_with("    run: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n");
    const Error error = refused(deep);
    INFO(error.to_string());
    CHECK(error.location.line == 5);
    // The root mapping, services and api are three levels; run's lists start at column 10 with
    // level 4, so level 65 is the '[' at column 71.
    CHECK(error.location.column == 10 + 65 - 4);
    CHECK(error.message.find("64 levels") != std::string::npos);

    std::string nested = "version: 1\nx: &d " + std::string(40, '[') + std::string(40, ']') + "\n";
    nested += "services:\n  api:\n    run: " + std::string(30, '[') + "*d" + std::string(30, ']') + "\n";
    const Error aliased = refused(nested);
    CHECK(text_at(nested, aliased.location.line, aliased.location.column, 2) == "*d");
    CHECK(aliased.message.find("64 levels") != std::string::npos);
}

TEST_CASE("an alias inside the node it names is refused") {
    const std::string yaml = project_with("    run: &r [app, *r]\n");
    const Error error = refused(yaml);
    CHECK(error.location.line == 5);
    CHECK(text_at(yaml, error.location.line, error.location.column, 2) == "*r");
    CHECK(error.message.find("contains it") != std::string::npos);
}

TEST_CASE("a policy file of aliases is bounded like tandem.yaml") {
    std::string policy = "from: wip\nsecurity:\n  strict: [&s \"" + kBig + "\"";
    for (int i = 0; i < 50'000; ++i) policy += ", *s";
    policy += "]\n";
    const Error error = refused(project_with("    run: [app]\n") + "policies:\n  mine: policies/mine.yaml\n",
                                {{"policies/mine.yaml", policy}});
    check_at_alias(error, policy, "policies/mine.yaml", "16 MiB");
}

TEST_CASE("a YAML file over 1 MiB is refused before it is parsed, and the bundled example is well within every limit") {
    const std::string padding = "# " + std::string(1024 * 1024, '-') + "\n";
    const Error error = refused(project_with("    run: [app]\n") + padding);
    CHECK(error.location.file == "tandem.yaml");
    CHECK(error.message.find("1 MiB") != std::string::npos);

    std::string exact = project_with("    run: [app]\n");
    exact += "# " + std::string(1024 * 1024 - exact.size() - 3, '-') + "\n";
    CHECK(exact.size() == 1024 * 1024);
    CHECK(yaml::check_limits(exact, "tandem.yaml").ok());
    const std::string example = tandem::test::read_text(std::filesystem::path(TANDEM_SOURCE_DIR) / "examples/shop/tandem.yaml");
    CHECK(yaml::check_limits(example, "tandem.yaml", yaml::Limits{4096, 200, 2048, 8}).ok());
}
