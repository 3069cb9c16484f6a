// The functions of spec.hpp on hand-built specs: find, dependency_order, expand_env, fingerprint.
#include <doctest/doctest.h>

#include <tandem/spec.hpp>

#include <string>
#include <vector>

using namespace tandem;

namespace {

ServiceSpec service(std::string name, std::vector<std::string> depends_on = {}, int port = 0) {
    ServiceSpec s;
    s.name = std::move(name);
    s.run.argv = {"./" + s.name};
    s.depends_on = std::move(depends_on);
    s.port = port;
    return s;
}

std::vector<std::string> names(const std::vector<const ServiceSpec*>& order) {
    std::vector<std::string> out;
    for (const auto* s : order) out.push_back(s->name);
    return out;
}

}  // namespace

TEST_CASE("find returns the service by name or nullptr") {
    Spec spec;
    spec.services = {service("db"), service("api")};
    REQUIRE(spec.find("api") != nullptr);
    CHECK(spec.find("api") == &spec.services[1]);
    CHECK(spec.find("web") == nullptr);
}

TEST_CASE("dependency_order puts dependencies first and keeps file order otherwise") {
    Spec spec;
    spec.services = {service("web", {"api"}), service("api", {"db", "cache"}), service("worker"),
                     service("cache"), service("db")};
    CHECK(names(dependency_order(spec)) == std::vector<std::string>{"worker", "cache", "db", "api", "web"});

    Spec independent;
    independent.services = {service("c"), service("a"), service("b")};
    CHECK(names(dependency_order(independent)) == std::vector<std::string>{"c", "a", "b"});

    Spec diamond;
    diamond.services = {service("top", {"left", "right"}), service("right", {"base"}), service("left", {"base"}),
                        service("base")};
    CHECK(names(dependency_order(diamond)) == std::vector<std::string>{"base", "right", "left", "top"});
}

TEST_CASE("expand_env fills service ports, and the replica port only when given") {
    Spec spec;
    spec.services = {service("db", {}, 5432), service("api", {"db"}, 8080)};
    spec.services[1].env = {{"DB", "postgres://127.0.0.1:${services.db.port}/x"},
                            {"LISTEN", "${port}"},
                            {"BOTH", "${services.api.port}-${port}-${services.db.port}"},
                            {"PLAIN", "$HOME and ${"}};
    const auto without = expand_env(spec, spec.services[1]);
    REQUIRE(without.size() == 4);
    CHECK(without[0] == std::pair<std::string, std::string>{"DB", "postgres://127.0.0.1:5432/x"});
    CHECK(without[1].second == "${port}");
    CHECK(without[2].second == "8080-${port}-5432");
    CHECK(without[3].second == "$HOME and ${");
    const auto with = expand_env(spec, spec.services[1], 40001);
    CHECK(with[1] == std::pair<std::string, std::string>{"LISTEN", "40001"});
    CHECK(with[2].second == "8080-40001-5432");
}

TEST_CASE("fingerprint is stable, sha256-prefixed, and covers only what changes a running replica") {
    ServiceSpec api = service("api", {}, 8080);
    api.env = {{"A", "1"}, {"B", "2"}};
    api.health = HealthSpec{};
    const std::string base = fingerprint(api);
    CHECK(base.rfind("sha256:", 0) == 0);
    CHECK(base.size() == 7 + 64);
    CHECK(fingerprint(api) == base);

    ServiceSpec more = api;
    more.replicas = 2;
    CHECK(fingerprint(more) != base);

    ServiceSpec watched = api;
    watched.watch.push_back(WatchRule{{"src/**"}, WatchAction::restart, "", {}, {}});
    watched.reset = ResetSpec{"rm -rf data", {}};
    watched.depends_on = {"db"};
    watched.location = SourceLocation{"elsewhere.yaml", 9, 9};
    CHECK(fingerprint(watched) == base);

    ServiceSpec reordered = api;
    reordered.env = {{"B", "2"}, {"A", "1"}};
    CHECK(fingerprint(reordered) == base);

    auto differs = [&](auto change) {
        ServiceSpec copy = api;
        change(copy);
        return fingerprint(copy) != base;
    };
    CHECK(differs([](ServiceSpec& s) { s.run.argv.push_back("--fast"); }));
    CHECK(differs([](ServiceSpec& s) { s.env[0].second = "3"; }));
    CHECK(differs([](ServiceSpec& s) { s.port = 8081; }));
    CHECK(differs([](ServiceSpec& s) { s.health->interval = Duration(2000); }));
    CHECK(differs([](ServiceSpec& s) { s.health.reset(); }));
    CHECK(differs([](ServiceSpec& s) { s.build = BuildSpec{"make", {}, {}, {}}; }));
    CHECK(differs([](ServiceSpec& s) { s.workdir = "api"; }));
    CHECK(differs([](ServiceSpec& s) { s.stop_grace = Duration(1000); }));
    // Field boundaries are unambiguous: {"ab", "c"} and {"a", "bc"} differ.
    ServiceSpec split_late = api, split_early = api;
    split_late.run.argv = {"ab", "c"};
    split_early.run.argv = {"a", "bc"};
    CHECK(fingerprint(split_late) != fingerprint(split_early));
}

TEST_CASE("fingerprint with the spec changes when a port named in env changes") {
    Spec spec;
    spec.services = {service("db", {}, 5432), service("api", {"db"}, 8080)};
    spec.services[1].env = {{"DB", "127.0.0.1:${services.db.port}"}, {"LISTEN", "${port}"}};
    const std::string before = fingerprint(spec, spec.services[1]);
    CHECK(before == fingerprint(spec, spec.services[1]));
    CHECK(fingerprint(spec.services[1]) != before);  // the unexpanded env differs from the expanded
    spec.services[0].port = 5433;
    CHECK(fingerprint(spec, spec.services[1]) != before);
    CHECK(fingerprint(spec, spec.services[0]) == fingerprint(spec.services[0]));  // nothing to expand
}
