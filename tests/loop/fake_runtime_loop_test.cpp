// The reconcile loop over the fake runtime: what it asks of a runtime when files change, with
// no process started (the same loop the other tests in this area run over the process runtime).
#include <doctest/doctest.h>

#include "loop/loop_session.hpp"
#include "support/fake_engine.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <tandem/reconcile_loop.hpp>

using namespace tandem::test;

namespace {

struct FakeSession {
    TempDir dir;
    Events events;
    std::unique_ptr<FakeEngine> engine;
    std::unique_ptr<tandem::ReconcileLoop> loop;

    explicit FakeSession(const std::string& services) {
        dir.write("tandem.yaml", "version: 1\nservices:\n" + services);
        dir.write("app.py", "v1\n");
        dir.write("README", "notes\n");
        engine = std::make_unique<FakeEngine>(dir.path(), dir.path() / ".tandem",
                                              [this](const tandem::RuntimeEvent& e) { events.add(e); });
        tandem::ReconcileLoop::Options options;
        options.root = dir.path();
        options.project.policy = "wip";
        options.bootstrap = true;
        auto made = tandem::ReconcileLoop::start(options, *engine->executor,
                                                 [this](const tandem::RuntimeEvent& e) { events.add(e); });
        REQUIRE_MESSAGE(made.ok(), made.error().to_string());
        loop = std::move(*made);
        REQUIRE(loop->wait_idle().ok());
    }
    ~FakeSession() { loop.reset(); }
};

}  // namespace

TEST_CASE("loop on a fake runtime: a save restarts the service that watches it, and only that one") {
    FakeSession session(fake_service("api", 18081, "v1", 1,
                                     "    watch:\n      - paths: [app.py]\n        action: restart\n") +
                        fake_service("web", 18082, "v1", 1));
    FakeRuntime& fake = *session.engine->fake;
    const int api_before = fake.running("api").at(0);
    const int web_before = fake.running("web").at(0);

    session.dir.write("app.py", "v2\n");
    session.loop->changed({"app.py"});
    REQUIRE(session.loop->wait_idle().ok());
    REQUIRE(fake.running("api").size() == 1);
    CHECK(fake.running("api").at(0) != api_before);
    CHECK(fake.routed("api") == fake.running("api"));
    CHECK(fake.running("web") == std::vector<int>{web_before});

    // A path nothing watches starts nothing.
    const auto launched = fake.replicas().size();
    session.loop->changed({"README"});
    REQUIRE(session.loop->wait_idle().ok());
    CHECK(fake.replicas().size() == launched);
}

TEST_CASE("loop on a fake runtime: a change to the spec replaces the service, a removed service is stopped") {
    FakeSession session(fake_service("api", 18081, "v1", 1) + fake_service("web", 18082, "v1", 1));
    FakeRuntime& fake = *session.engine->fake;
    const int api_before = fake.running("api").at(0);

    session.dir.write("tandem.yaml", "version: 1\nservices:\n" + fake_service("api", 18081, "v2", 2));
    session.loop->changed({"tandem.yaml"});
    REQUIRE(session.loop->wait_idle().ok());
    const auto api = fake.running("api");
    CHECK(api.size() == 2);
    CHECK(std::find(api.begin(), api.end(), api_before) == api.end());
    CHECK(fake.running("web").empty());
    bool saw_v2 = false;
    for (const auto& r : fake.replicas())
        if (r.running) saw_v2 = saw_v2 || r.launch.service.run.argv.back() == "v2";
    CHECK(saw_v2);
}
