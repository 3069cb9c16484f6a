// `updates.coalesce` under shipper: true deploys only the newest of the commits that arrived
// since the last deploy; false deploys each commit of the branch's first-parent line in turn,
// oldest first, each its own audited deploy. Real repositories, builds and rollouts.
#include "release/release_fixture.hpp"

using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

// An engine that fetches only when asked (no polling), over an upstream whose first commit it
// deployed, under a policy with `updates.coalesce: <coalesce>`.
struct ManualEngine {
    Upstream upstream;
    TempDir state;
    int port = free_port();
    std::string policy;
    std::string first;
    std::unique_ptr<Engine> engine;

    explicit ManualEngine(bool coalesce)
        : policy(std::string("    updates:\n      coalesce: ") + (coalesce ? "true" : "false") + "\n"),
          first(upstream.commit({{"tandem.yaml", project_yaml(port, {}, policy)}, {"version.txt", "v1\n"}}, "first")),
          engine(std::make_unique<Engine>(upstream.path(), state.path(), true, Duration(0))) {
        REQUIRE(engine->deployed(first));
    }
    std::string commit_version(const std::string& version) {
        return upstream.commit({{"version.txt", version + "\n"}}, "version " + version);
    }
    // The deploy records after the first, as (commit, outcome).
    std::vector<std::pair<std::string, ChangeOutcome>> deploys() const {
        std::vector<std::pair<std::string, ChangeOutcome>> out;
        for (const auto& record : audit_records(state.path()))
            if (record.entry.event == ChangeEvent::deploy) out.emplace_back(record.entry.commit, record.entry.outcome);
        return out;
    }
};

}  // namespace

TEST_CASE("with updates.coalesce false every commit since the deployed one is deployed in order, each audited") {
    ManualEngine m(false);
    const auto c2 = m.commit_version("v2"), c3 = m.commit_version("v3"), c4 = m.commit_version("v4");
    auto outcome = m.engine->loop->sync("sync command");
    REQUIRE(outcome.ok());
    CHECK(outcome->commit == c4);
    CHECK(outcome->outcome == ChangeOutcome::succeeded);
    using Deploy = std::pair<std::string, ChangeOutcome>;
    CHECK(m.deploys() == std::vector<Deploy>{{c2, ChangeOutcome::succeeded}, {c3, ChangeOutcome::succeeded},
                                             {c4, ChangeOutcome::succeeded}});
    const auto status = m.engine->status();
    CHECK(status.deployed == c4);
    REQUIRE(status.history.releases.size() >= 3);
    CHECK(status.history.releases[1].commit == c3);
    CHECK(status.history.releases[2].commit == c2);
    CHECK(served_version(m.port) == "v4");
}

TEST_CASE("with updates.coalesce true the commits since the deployed one deploy as one: the newest") {
    ManualEngine m(true);
    m.commit_version("v2");
    m.commit_version("v3");
    const auto c4 = m.commit_version("v4");
    auto outcome = m.engine->loop->sync("sync command");
    REQUIRE(outcome.ok());
    CHECK(outcome->commit == c4);
    using Deploy = std::pair<std::string, ChangeOutcome>;
    CHECK(m.deploys() == std::vector<Deploy>{{c4, ChangeOutcome::succeeded}});
    CHECK(served_version(m.port) == "v4");
}

TEST_CASE("with updates.coalesce false a commit that fails stops the line there, and the next sync goes on past it") {
    ManualEngine m(false);
    const auto c2 = m.commit_version("v2");
    std::string yaml = project_yaml(m.port, {}, m.policy);
    const std::string build = "cp version.txt out/version";
    yaml.replace(yaml.find(build), build.size(), build + " && exit 3");
    const auto broken = m.upstream.commit({{"tandem.yaml", yaml}, {"version.txt", "v3\n"}}, "breaks the build");
    const auto fixed = m.upstream.commit({{"tandem.yaml", project_yaml(m.port, {}, m.policy)}, {"version.txt", "v4\n"}},
                                         "fixes it");
    auto outcome = m.engine->loop->sync("sync command");
    REQUIRE(outcome.ok());
    CHECK(outcome->commit == broken);
    CHECK(outcome->outcome == ChangeOutcome::failed);
    CHECK(m.engine->status().deployed == c2);
    CHECK(served_version(m.port) == "v2");

    outcome = m.engine->loop->sync("sync command");
    REQUIRE(outcome.ok());
    CHECK(outcome->commit == fixed);
    CHECK(outcome->outcome == ChangeOutcome::succeeded);
    using Deploy = std::pair<std::string, ChangeOutcome>;
    CHECK(m.deploys() == std::vector<Deploy>{{c2, ChangeOutcome::succeeded}, {broken, ChangeOutcome::failed},
                                             {fixed, ChangeOutcome::succeeded}});
    CHECK(served_version(m.port) == "v4");
}
