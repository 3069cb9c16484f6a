// `previews:` in tandem.yaml (and x-tandem in a compose file), and a project loaded as a second
// instance (ProjectInstance): renamed, with ports of its own, its containers listening where they did.
#include <doctest/doctest.h>

#include "config/spec_parser.hpp"
#include "support/temp_dir.hpp"

#include <tandem/project.hpp>

#include <map>
#include <string>

using namespace tandem;

namespace {

const char* kServices = "services:\n  web:\n    run: [srv]\n    port: 8080\n  api:\n    run: [srv]\n    port: 8081\n";

Result<config::ParsedSpec> parse(const std::string& previews) {
    return config::parse_spec("version: 1\n" + previews + kServices, "tandem.yaml");
}

std::string error_of(const std::string& previews) {
    auto parsed = parse(previews);
    REQUIRE_FALSE(parsed.ok());
    return parsed.error().to_string();
}

}  // namespace

TEST_CASE("previews: every key is read") {
    auto parsed = parse("previews:\n  branches: [feature/*, fix/*]\n  policy: review\n  idle: 2h\n  max: 4\n"
                        "  port: 9000\n  domain: preview.test\n  service: api\n");
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().to_string());
    REQUIRE(parsed->spec.previews);
    const PreviewSpec& p = *parsed->spec.previews;
    CHECK(p.branches == std::vector<std::string>{"feature/*", "fix/*"});
    CHECK(p.policy == "review");
    CHECK(p.idle == Duration(2 * 3600 * 1000));
    CHECK(p.max == 4);
    CHECK(p.port == 9000);
    CHECK(p.domain == "preview.test");
    CHECK(p.service == "api");
    CHECK(p.location.line == 2);
}

TEST_CASE("previews: one pattern may be written alone, and the rest have defaults") {
    auto parsed = parse("previews:\n  branches: feature/*\n");
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().to_string());
    CHECK(parsed->spec.previews->branches == std::vector<std::string>{"feature/*"});
    CHECK(parsed->spec.previews->domain == "localhost");
    CHECK(parsed->spec.previews->max == 0);
    CHECK_FALSE(parsed->spec.previews->port);
    CHECK_FALSE(parse("").value().spec.previews);
}

TEST_CASE("previews: mistakes name the key and the line") {
    CHECK(error_of("previews:\n  brnaches: [a]\n") ==
          "tandem.yaml:3:3: unknown key 'brnaches' in 'previews' (did you mean 'branches'?)");
    CHECK(error_of("previews:\n  max: 2\n") ==
          "tandem.yaml:2:1: 'previews': needs 'branches:', the branch patterns that get a preview (feature/*)");
    CHECK(error_of("previews:\n  branches: [a]\n  max: 0\n").find("previews.max") != std::string::npos);
    CHECK(error_of("previews:\n  branches: [a]\n  idle: soon\n").find("previews.idle") != std::string::npos);
    CHECK(error_of("previews:\n  branches: [a]\n  domain: \"bad domain\"\n").find("is not a host name") !=
          std::string::npos);
    CHECK(error_of("previews:\n  branches: [a]\n  service: db\n") ==
          "tandem.yaml:2:1: previews.service: no service 'db' in this file");
    CHECK(error_of("previews:\n  branches: [a]\n  port: 8081\n") ==
          "tandem.yaml:2:1: previews.port: 8081 is already the port of service 'api'");
}

TEST_CASE("previews: a compose file gives them in x-tandem") {
    test::TempDir dir;
    dir.write("compose.yaml", "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n"
                              "x-tandem:\n  policy: wip\n  previews:\n    branches: [feature/*]\n");
    auto project = load_project(dir.path(), ProjectOptions{});
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    REQUIRE(project->spec.previews);
    CHECK(project->spec.previews->branches == std::vector<std::string>{"feature/*"});
}

TEST_CASE("previews: a second instance is renamed and moved to its own ports, its containers listening where they did") {
    test::TempDir dir;
    dir.write("tandem.yaml", "version: 1\nproject: shop\npolicy: wip\nservices:\n"
                             "  web:\n    run: [srv]\n    port: 8080\n"
                             "  client:\n    run: [srv]\n    env: {WEB: \"http://127.0.0.1:${services.web.port}\"}\n"
                             "  box:\n    image: nginx\n    port: 8090\n    extra_ports: [\"8443:443\"]\n");
    std::map<std::string, int> asked;
    ProjectOptions options;
    options.instance = ProjectInstance{"-feature-x", "unused", [&](const std::string& service, int port) -> Result<int> {
                                           asked[service + ":" + std::to_string(port)] = port + 10000;
                                           return port + 10000;
                                       }};
    auto project = load_project(dir.path(), options);
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    const Spec& spec = project->spec;
    CHECK(spec.project == "shop-feature-x");
    CHECK(spec.find("web")->port == 18080);
    CHECK(expand_env(spec, *spec.find("client")).front().second == "http://127.0.0.1:18080");
    const ServiceSpec& box = *spec.find("box");
    CHECK(box.port == 18090);
    CHECK(box.listen_port() == 8090);  // inside the container nothing moved
    REQUIRE(box.container->extra_ports.size() == 1);
    CHECK(box.container->extra_ports.front() == std::pair<int, int>{18443, 443});
    CHECK(asked.size() == 3);

    // The first instance is untouched by all this.
    auto first = load_project(dir.path(), ProjectOptions{});
    REQUIRE(first.ok());
    CHECK(first->spec.project == "shop");
    CHECK(first->spec.find("web")->port == 8080);
}

TEST_CASE("previews: a second instance of a project without a name takes the instance's, so volumes are not shared") {
    test::TempDir dir;
    dir.write("tandem.yaml", "version: 1\npolicy: wip\nservices:\n  web:\n    run: [srv]\n");
    ProjectOptions options;
    options.instance = ProjectInstance{"-feature-x", "shop-feature-x", {}};
    auto project = load_project(dir.path(), options);
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    CHECK(project->spec.project == "shop-feature-x");
}
