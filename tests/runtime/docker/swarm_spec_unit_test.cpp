// What a release becomes on a swarm (core/runtime/swarm/swarm_service_spec.cpp): the policy's
// rollout rules as swarm's update and rollback config, the health probe as the task's health
// check, host-mode ports, named volumes, read-only files as secrets, and what swarm cannot mount.
#include "runtime/swarm/swarm_runtime.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace tandem;
using namespace tandem::swarm;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

SwarmNames names() { return SwarmNames{"shop", "/srv/shop/.shipper/runtime", {}, "10.1.0.1:5000"}; }

ServiceUpdate web_update() {
    ServiceUpdate update;
    update.service.name = "web";
    update.service.port = 8080;
    update.service.container = ContainerSpec{};
    update.service.container->image = "shop-web:dev";
    update.service.container->port = 80;
    update.artifact = ArtifactRef{ArtifactKind::image, "sha256:" + std::string(64, 'b'), "shop-web:dev"};
    update.replicas = 3;
    update.fingerprint = "fp1";
    update.env = {{"GREETING", "hi"}, {"SELF", "http://127.0.0.1:${port}/"}};
    update.rollout.strategy = RolloutStrategy::rolling;
    update.rollout.max_surge = 1;
    update.rollout.gate_timeout = Duration{30000};
    update.monitor = Duration{5000};
    return update;
}

}  // namespace

TEST_CASE("a rolling update with surge starts first, one task at a time, and is rolled back by the cluster on failure") {
    auto spec = service_spec(web_update(), names(), {});
    REQUIRE(spec);
    const json& update = (*spec)["UpdateConfig"];
    CHECK(update["Order"] == "start-first");
    CHECK(update["Parallelism"] == 1);
    CHECK(update["FailureAction"] == "rollback");
    CHECK(update["Monitor"] == 5000000000LL);
    CHECK(update["MaxFailureRatio"] == 0);
    CHECK((*spec)["RollbackConfig"]["FailureAction"] == "pause");
    CHECK((*spec)["Name"] == "shop-web");
    CHECK((*spec)["Mode"]["Replicated"]["Replicas"] == 3);
    CHECK((*spec)["Labels"]["tandem.fingerprint"] == "fp1");
    CHECK((*spec)["Labels"]["tandem.engine"] == "/srv/shop/.shipper/runtime");
    CHECK((*spec)["TaskTemplate"]["ContainerSpec"]["Image"] == "10.1.0.1:5000/shop-web@sha256:" + std::string(64, 'b'));
}

TEST_CASE("recreate stops every task first and without surge a rolling update stops first within max_unavailable") {
    ServiceUpdate update = web_update();
    update.rollout.strategy = RolloutStrategy::recreate;
    auto spec = service_spec(update, names(), {});
    REQUIRE(spec);
    CHECK((*spec)["UpdateConfig"]["Order"] == "stop-first");
    CHECK((*spec)["UpdateConfig"]["Parallelism"] == 0);  // all at once
    update.rollout.strategy = RolloutStrategy::rolling;
    update.rollout.max_surge = 0;
    update.rollout.max_unavailable = 2;
    spec = service_spec(update, names(), {});
    REQUIRE(spec);
    CHECK((*spec)["UpdateConfig"]["Order"] == "stop-first");
    CHECK((*spec)["UpdateConfig"]["Parallelism"] == 2);
}

TEST_CASE("the container port is published in host mode with no fixed port and env gets the port expanded") {
    ServiceUpdate update = web_update();
    update.service.container->extra_ports = {{9090, 9000}};
    auto spec = service_spec(update, names(), {});
    REQUIRE(spec);
    const json& endpoint = (*spec)["EndpointSpec"];
    CHECK(endpoint["Mode"] == "dnsrr");
    REQUIRE(endpoint["Ports"].size() == 2);
    CHECK(endpoint["Ports"][0]["TargetPort"] == 80);
    CHECK(endpoint["Ports"][0]["PublishMode"] == "host");
    CHECK_FALSE(endpoint["Ports"][0].contains("PublishedPort"));
    CHECK(endpoint["Ports"][1]["TargetPort"] == 9000);
    const json& env = (*spec)["TaskTemplate"]["ContainerSpec"]["Env"];
    CHECK(env == json::array({"GREETING=hi", "SELF=http://127.0.0.1:80/", "PORT=80"}));
    CHECK((*spec)["TaskTemplate"]["Networks"][0]["Target"] == "shop-net");
    CHECK((*spec)["TaskTemplate"]["Networks"][0]["Aliases"][0] == "web");
}

TEST_CASE("the health probe becomes the task's health check and a named volume a volume mount") {
    ServiceUpdate update = web_update();
    HealthSpec health;
    health.kind = ProbeKind::exec;
    health.command = {"wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${port}/"};
    health.interval = Duration{500};
    health.failure_threshold = 4;
    update.service.health = health;
    VolumeSpec data;
    data.kind = VolumeSpec::Kind::named;
    data.source = "data";
    data.target = "/data";
    update.service.container->volumes = {data};
    auto spec = service_spec(update, names(), {});
    REQUIRE(spec);
    const json& check = (*spec)["TaskTemplate"]["ContainerSpec"]["Healthcheck"];
    CHECK(check["Test"] == json::array({"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:80/"}));
    CHECK(check["Interval"] == 500000000LL);
    CHECK(check["Retries"] == 4);
    const json& mounts = (*spec)["TaskTemplate"]["ContainerSpec"]["Mounts"];
    REQUIRE(mounts.size() == 1);
    CHECK(mounts[0]["Type"] == "volume");
    CHECK(mounts[0]["Source"] == "shop_data");
}

TEST_CASE("a read-only file becomes a secret named by its content and a directory or writable file is refused") {
    test::TempDir dir;
    std::ofstream(dir.path() / "db_password.txt") << "hunter2";
    fs::create_directories(dir.path() / "src");
    ServiceUpdate update = web_update();
    VolumeSpec secret;
    secret.kind = VolumeSpec::Kind::bind;
    secret.source = "db_password.txt";
    secret.target = "/run/secrets/db_password";
    secret.read_only = true;
    secret.text = "./db_password.txt:/run/secrets/db_password:ro";
    update.service.container->volumes = {secret};
    auto files = secret_files(update.service, dir.path(), names());
    REQUIRE(files);
    REQUIRE(files->size() == 1);
    CHECK((*files)[0].data == "hunter2");
    CHECK((*files)[0].name.rfind("shop-db_password.txt-", 0) == 0);
    auto spec = service_spec(update, names(), {SecretRef{"id1", (*files)[0].name, secret.target}});
    REQUIRE(spec);
    const json& refs = (*spec)["TaskTemplate"]["ContainerSpec"]["Secrets"];
    REQUIRE(refs.size() == 1);
    CHECK(refs[0]["File"]["Name"] == "/run/secrets/db_password");
    CHECK(spec->dump().find("hunter2") == std::string::npos);  // the secret's content is never in the spec
    CHECK((*spec)["TaskTemplate"]["ContainerSpec"]["Mounts"].empty());

    std::ofstream(dir.path() / "other.txt") << "changed";
    update.service.container->volumes[0].source = "other.txt";
    auto other = secret_files(update.service, dir.path(), names());
    REQUIRE(other);
    CHECK((*other)[0].name != (*files)[0].name);

    update.service.container->volumes[0].read_only = false;
    auto writable = secret_files(update.service, dir.path(), names());
    REQUIRE_FALSE(writable);
    CHECK(writable.error().message.find("services.web.volumes") != std::string::npos);
    CHECK(writable.error().message.find("add :ro") != std::string::npos);

    update.service.container->volumes[0].source = "src";
    update.service.container->volumes[0].read_only = true;
    auto directory = secret_files(update.service, dir.path(), names());
    REQUIRE_FALSE(directory);
    CHECK(directory.error().message.find("is not a file") != std::string::npos);
}

TEST_CASE("a process service is refused by the swarm runtime and named") {
    ServiceUpdate update = web_update();
    update.service.container.reset();
    auto spec = service_spec(update, names(), {});
    REQUIRE_FALSE(spec);
    CHECK(spec.error().message.find("service 'web' runs a process") != std::string::npos);
}

// The state a fresh-clone CI run left (a worker powered off mid-update): slot 1's new task was
// assigned to the node that died, and swarm's updater waited on it for good, `updating`, with
// slot 1's old task still running. The runtime must see that task; and nothing when the node is
// up, the task runs, it is an earlier update's, or no update is under way.
TEST_CASE("a swarm update waiting on a task of its image assigned to a node that is down is stalled, nothing else is") {
    const std::string image = "10.219.0.1:5000/swe2e-web@sha256:1fe5";
    const std::string old_image = "10.219.0.1:5000/swe2e-web@sha256:9324";
    const json status = {{"State", "updating"}, {"StartedAt", "2026-12-02T16:40:12.5Z"}, {"Message", "update in progress"}};
    std::map<std::string, NodeView> nodes{{"n1", {"vm", "10.219.0.11", "ready", "active"}},
                                          {"n2", {"vm", "10.219.0.12", "ready", "active"}},
                                          {"n3", {"vm", "10.219.0.13", "down", "active"}}};
    auto task = [](std::string id, int slot, std::string node, std::string state, std::string desired,
                   std::string image, std::string created) {
        TaskView view;
        view.id = std::move(id);
        view.slot = slot;
        view.node = std::move(node);
        view.state = std::move(state);
        view.desired = std::move(desired);
        view.image = std::move(image);
        view.created = std::move(created);
        return view;
    };
    std::map<std::string, TaskView> tasks{
        {"til5", task("til5", 1, "n1", "running", "running", old_image, "2026-12-02T16:39:50Z")},
        {"j10m", task("j10m", 1, "n3", "assigned", "shutdown", image, "2026-12-02T16:40:15.25Z")},
        {"xes1", task("xes1", 1, "n2", "running", "running", image, "2026-12-02T16:40:40Z")},
        {"kasa", task("kasa", 2, "n1", "running", "running", image, "2026-12-02T16:40:12.75Z")},
        {"olg2", task("olg2", 3, "n3", "running", "shutdown", old_image, "2026-12-02T16:39:50Z")},
        {"xp2i", task("xp2i", 3, "n2", "running", "running", image, "2026-12-02T16:40:40Z")}};
    const auto stalled = stalled_update_task(status, image, tasks, nodes);
    REQUIRE(stalled.has_value());
    CHECK(stalled->id == "j10m");

    SUBCASE("the node is up: swarm may still start it") {
        nodes["n3"].state = "ready";
        CHECK_FALSE(stalled_update_task(status, image, tasks, nodes).has_value());
    }
    SUBCASE("no update under way") {
        for (const char* state : {"completed", "rollback_started", "rollback_completed", "paused"}) {
            json other = status;
            other["State"] = state;
            CHECK_FALSE(stalled_update_task(other, image, tasks, nodes).has_value());
        }
        CHECK_FALSE(stalled_update_task(json::object(), image, tasks, nodes).has_value());
    }
    SUBCASE("a task of an earlier update (made before this one started) does not hold this one") {
        tasks["j10m"].created = "2026-12-02T16:40:12.123456789Z";  // 12.123… < 12.5
        CHECK_FALSE(stalled_update_task(status, image, tasks, nodes).has_value());
    }
    SUBCASE("a task that runs, or one of the image before") {
        tasks["j10m"].state = "running";
        CHECK_FALSE(stalled_update_task(status, image, tasks, nodes).has_value());
        tasks["j10m"].state = "assigned";
        tasks["j10m"].image = old_image;
        CHECK_FALSE(stalled_update_task(status, image, tasks, nodes).has_value());
    }
}

TEST_CASE("swarm times compare by seconds, then by fraction whatever its length") {
    CHECK(swarm_time_before("2026-12-02T16:40:12Z", "2026-12-02T16:40:12.5Z"));
    CHECK(swarm_time_before("2026-12-02T16:40:12.123456789Z", "2026-12-02T16:40:12.5Z"));
    CHECK_FALSE(swarm_time_before("2026-12-02T16:40:12.5Z", "2026-12-02T16:40:12.123Z"));
    CHECK(swarm_time_before("2026-12-02T16:40:12.9Z", "2026-12-02T16:40:13Z"));
    CHECK_FALSE(swarm_time_before("2026-12-02T16:40:12.50Z", "2026-12-02T16:40:12.5Z"));
}
