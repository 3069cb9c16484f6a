// The shared YAML reading layer: locations, unknown keys with suggestions, durations.
#include <doctest/doctest.h>

#include <tandem/duration.hpp>
#include "support/suggest.hpp"
#include "support/yaml_fields.hpp"

using namespace tandem;

TEST_CASE("durations parse with units and print back exactly") {
    CHECK(parse_duration("250ms") == Duration(250));
    CHECK(parse_duration("2s") == Duration(2000));
    CHECK(parse_duration("1.5s") == Duration(1500));
    CHECK(parse_duration("2m") == Duration(120000));
    CHECK(parse_duration("1h") == Duration(3600000));
    CHECK_FALSE(parse_duration("10"));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration("1.0001ms"));
    CHECK_FALSE(parse_duration("3 weeks"));
    CHECK(format_duration(Duration(1500)) == "1500ms");
    CHECK(format_duration(Duration(2000)) == "2s");
    CHECK(format_duration(Duration(120000)) == "2m");
    CHECK(format_duration(Duration(0)) == "0ms");
}

TEST_CASE("nearest suggests typos and nothing for unrelated words") {
    const std::vector<std::string_view> keys{"replicas", "port", "env", "run"};
    CHECK(nearest("replicaz", keys) == "replicas");
    CHECK(nearest("replcias", keys) == "replicas");
    CHECK(nearest("prot", keys) == "port");
    CHECK_FALSE(nearest("database", keys));
}

TEST_CASE("unknown keys are located and suggested") {
    auto doc = yaml::parse("a: 1\nreplicaz: 2\n", "t.yaml");
    REQUIRE(doc.ok());
    auto status = yaml::check_keys(*doc, yaml::Where{"t.yaml", "services.api"}, {"a", "replicas"});
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().code == ErrorCode::unknown_key);
    CHECK(status.error().to_string() ==
          "t.yaml:2:1: unknown key 'replicaz' in 'services.api' (did you mean 'replicas'?)");
}

TEST_CASE("syntax errors carry the line and column") {
    auto doc = yaml::parse("a: [1, 2\nb: 3\n", "t.yaml");
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.error().code == ErrorCode::syntax);
    CHECK(doc.error().location.file == "t.yaml");
    CHECK(doc.error().location.line >= 1);
}

TEST_CASE("typed reads reject the wrong type with the key path") {
    auto doc = yaml::parse("n: lots\nd: 10\nc: rollin\n", "t.yaml");
    REQUIRE(doc.ok());
    const yaml::Where root{"t.yaml", ""};
    auto n = yaml::read_int((*doc)["n"], root.child("n"), 0, 10);
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().to_string() == "t.yaml:1:4: 'n': expected a whole number");
    auto d = yaml::read_duration((*doc)["d"], root.child("d"));
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().location.line == 2);
    auto c = yaml::read_choice((*doc)["c"], root.child("c"), {"recreate", "rolling"});
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message == "'c': 'rollin' is not one of recreate, rolling (did you mean 'rolling'?)");
}
