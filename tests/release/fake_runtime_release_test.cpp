// The release loop over the fake runtime: commits of a real git repository deployed, rolled
// over and reverted, with no process started and the gate's minute passed in virtual time.
#include <doctest/doctest.h>

#include "release/release_fixture.hpp"
#include "support/fake_engine.hpp"

#include <tandem/release_loop.hpp>

using namespace tandem;
using namespace tandem::test;

namespace {

std::string web_yaml(const std::string& version) {
    return "version: 1\nservices:\n" + fake_service("web", 18093, version, 2);
}

struct FakeShipper {
    Upstream upstream;
    TempDir state;
    EngineEvents events;
    std::unique_ptr<FakeEngine> engine;
    std::unique_ptr<ReleaseLoop> loop;

    explicit FakeShipper(const std::string& first_version) {
        upstream.commit({{"tandem.yaml", web_yaml(first_version)}}, "first");
        engine = std::make_unique<FakeEngine>(state.path() / "releases", state.path() / "runtime",
                                              [this](const RuntimeEvent& e) {
                                                  events.add(e);
                                                  if (ReleaseLoop* l = following.load()) l->runtime_event(e);
                                              });
        ReleaseLoop::Options options;
        options.repository = upstream.path().string();
        options.state_dir = state.path();
        options.project.default_policy = "harness";
        options.poll = Duration(50);
        options.bootstrap = true;
        auto started = ReleaseLoop::start(options, *engine->executor, [this](const RuntimeEvent& e) { events.add(e); });
        REQUIRE_MESSAGE(started.ok(), started.error().to_string());
        loop = std::move(*started);
        following = loop.get();
    }
    ~FakeShipper() {
        following = nullptr;
        loop.reset();
    }
    bool deployed(const std::string& commit) {
        return eventually([&] {
            const auto s = loop->status();
            return s.deployed == commit && !s.busy;
        }, std::chrono::milliseconds(20000));
    }
    std::atomic<ReleaseLoop*> following{nullptr};
};

std::string version_of(const FakeRuntime::Launched& replica) { return replica.launch.service.run.argv.back(); }

}  // namespace

TEST_CASE("release loop on a fake runtime: each commit rolls out from its own release directory") {
    FakeShipper shipper("v1");
    const std::string first = shipper.upstream.head();
    REQUIRE(shipper.deployed(first));
    FakeRuntime& fake = *shipper.engine->fake;
    REQUIRE(fake.running("web").size() == 2);
    for (const auto& r : fake.replicas()) {
        CHECK(r.launch.artifact.kind == ArtifactKind::tree);
        CHECK(r.launch.artifact.location == (shipper.state.path() / "releases" / first).string());
    }

    const std::string second = shipper.upstream.commit({{"tandem.yaml", web_yaml("v2")}}, "second");
    REQUIRE(shipper.deployed(second));
    const auto running = fake.running("web");
    REQUIRE(running.size() == 2);
    for (const auto& r : fake.replicas())
        if (r.running) {
            CHECK(version_of(r) == "v2");
            CHECK(r.launch.artifact.location == (shipper.state.path() / "releases" / second).string());
        }
    const auto records = audit_records(shipper.state.path());
    REQUIRE(records.size() >= 2);
    CHECK(records.back().entry.commit == second);
    CHECK(records.back().entry.outcome == ChangeOutcome::succeeded);
}

TEST_CASE("release loop on a fake runtime: a commit whose replicas fail the gate is reverted, the old ones serve on") {
    FakeShipper shipper("v1");
    REQUIRE(shipper.deployed(shipper.upstream.head()));
    FakeRuntime& fake = *shipper.engine->fake;
    const auto serving = fake.running("web");

    fake.set_health([](const ReplicaLaunch& launch) { return launch.service.run.argv.back() != "v2"; });
    const std::string bad = shipper.upstream.commit({{"tandem.yaml", web_yaml("v2")}}, "bad");
    REQUIRE(eventually([&] { return fake.replicas().size() == 3; }, std::chrono::milliseconds(20000)));
    fake.advance(shipper.loop->policy().rollout.gate_timeout + Duration(1));
    REQUIRE(eventually([&] {
        const auto s = shipper.loop->status();
        return !s.busy && s.head == bad && !s.head_rejected.empty();
    }, std::chrono::milliseconds(20000)));
    const auto status = shipper.loop->status();
    CHECK(status.deployed != bad);
    CHECK(fake.running("web") == serving);
    CHECK(fake.routed("web") == serving);
    bool failed_recorded = false;
    for (const auto& record : audit_records(shipper.state.path()))
        failed_recorded = failed_recorded || (record.entry.commit == bad && record.entry.outcome == ChangeOutcome::failed);
    CHECK(failed_recorded);
}
