// Shipper's way with containers, against a real daemon: every image is built (or resolved) ahead
// of the deploy and pinned by image ID in the plan, the audit record and the history; a rollback
// runs the recorded image without a build; the same files never give a second image.
#include "runtime/docker/docker_fixture.hpp"

#include "release/release_fixture.hpp"
#include "runtime/container/container_names.hpp"

#include <tandem/docker_runtime.hpp>

#include <fstream>
#include <sstream>

namespace tandem::test {

namespace {

using namespace std::chrono_literals;

std::string busybox_bytes() {
    std::ifstream in("/bin/busybox", std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

std::string project(int port) {
    return "version: 1\npolicy: harness\nservices:\n"
           "  web:\n    build: {context: .}\n"
           "    command: [/bin/busybox, httpd, -f, -p, \"${port}\", -h, /srv]\n"
           "    port: " + std::to_string(port) + "\n    container_port: 8080\n"  // not an ephemeral port: Docker's DNS takes one inside
           "    replicas: 2\n    stop_grace: 1s\n"
           "    volumes: [\"data:/data\"]\n"
           "    health: {http: /index.html, interval: 100ms}\n";
}

// A shipper engine whose release loop builds images ahead, everything labelled tandem.test (its
// images, "shop-web:<key>", go when tests/support/dockerd.sh stop removes what is labelled so).
struct ContainerShipper {
    DockerTest docker;
    Upstream upstream;
    TempDir state;
    int port = free_port();
    std::string run = unique_name("release");
    EngineEvents events;
    std::unique_ptr<Executor> runtime;
    std::unique_ptr<ReleaseLoop> loop;
    std::atomic<ReleaseLoop*> auditing{nullptr};

    ContainerShipper() {
        // Committed executable: each commit rewrites it in place, which keeps the mode.
        std::filesystem::copy_file("/bin/busybox", upstream.path() / "busybox");
        std::filesystem::permissions(upstream.path() / "busybox", std::filesystem::perms(0755));
    }
    std::string commit(const std::string& content, const std::string& message) {
        return upstream.commit({{"tandem.yaml", project(port)},
                                {"Dockerfile", "FROM scratch\nCOPY busybox /bin/busybox\nCOPY site /srv\n"},
                                {".dockerignore", "tandem.yaml\n"},
                                {"busybox", busybox_bytes()},
                                {"site/index.html", content},
                                {"site/run.txt", run}},  // keys (and images) of this run only
                               message);
    }
    void start() {
        ProcessRuntimeOptions process;
        process.state_dir = state.path() / "runtime";
        DockerRuntimeOptions docker_options;
        docker_options.state_dir = process.state_dir;
        docker_options.project = "shop";
        docker_options.labels = test_labels();
        auto made = make_local_runtime(process, docker_options);
        REQUIRE(made.ok());
        ExecutorOptions options;
        options.project_root = state.path() / "releases";
        options.state_dir = process.state_dir;
        auto started = Executor::start(std::move(*made), options, [this](const RuntimeEvent& e) {
            events.add(e);
            if (ReleaseLoop* following = auditing.load()) following->runtime_event(e);
        });
        REQUIRE(started.ok());
        runtime = std::move(*started);
        ReleaseLoop::Options loop_options;
        loop_options.repository = upstream.path().string();
        loop_options.state_dir = state.path();
        loop_options.project.default_policy = "harness";
        loop_options.poll = Duration(100);
        loop_options.bootstrap = true;
        loop_options.image_builder = [docker_options](std::function<void(const RuntimeEvent&)> emit) {
            return make_image_builder(docker_options, std::move(emit));
        };
        auto looped = ReleaseLoop::start(loop_options, *runtime, [this](const RuntimeEvent& e) { events.add(e); });
        REQUIRE(looped.ok());
        loop = std::move(*looped);
        auditing = loop.get();
    }
    ~ContainerShipper() {
        auditing = nullptr;
        loop.reset();
        if (runtime) runtime->stop_all();
        runtime.reset();
        (void)docker.wait<Ok>([&](auto done) { docker.client.remove_volume("shop_data", done); });
    }
    std::string said() {
        std::lock_guard lock(events.mutex);
        std::string out;
        for (const auto& e : events.list) out += e.service + ": " + e.text + "\n";
        return out;
    }
    bool deployed(const std::string& commit) {
        return eventually(
            [&] {
                const auto s = loop->status();
                return s.deployed == commit && !s.busy;
            },
            60000ms);
    }
    std::string web_digest() {
        for (const auto& status : runtime->status())
            if (status.name == "web") return status.artifact_digest;
        return {};
    }
    std::string body() {
        const auto reply = http_get(port, "/index.html");
        return reply && reply->status == 200 ? reply->body : std::string();
    }
    std::string image_id(const std::string& reference) {
        auto image = docker.wait<docker::ImageInfo>([&](auto done) { docker.client.inspect_image(reference, done); });
        return image ? image->id : std::string();
    }
};

}  // namespace

TEST_CASE("docker release: shipper builds each commit's image ahead, runs it by image ID, records it, keeps its named volume across releases, and rolls back without a build") {
    ContainerShipper s;
    const std::string first = s.commit("v1\n", "first");
    s.start();
    REQUIRE_MESSAGE(s.deployed(first), s.said());
    REQUIRE(eventually([&] { return s.body() == "v1\n"; }, 30000ms));
    const std::string v1 = s.web_digest();
    REQUIRE(v1.rfind("sha256:", 0) == 0);
    CHECK(s.image_id(v1) == v1);  // an image of the daemon, not a file tree
    CHECK(s.loop->status().history.find(first)->artifacts.at("web") == v1);
    CHECK(s.events.count(RuntimeEventKind::state, "built image shop-web:", "web") == 1);

    // A file in the named volume, written by a replica of the first release...
    const auto first_containers = s.docker.wait<std::vector<docker::ContainerSummary>>(
        [&](auto done) { s.docker.client.list_containers({{"tandem.service", "web"}, {"tandem.project", "shop"}}, done); });
    REQUIRE(first_containers.ok());
    REQUIRE_FALSE(first_containers->empty());
    CHECK(s.docker.exec(first_containers->front().id, {"/bin/busybox", "sh", "-c", "echo kept > /data/file"}).exit_code ==
          0);

    const std::string second = s.commit("v2\n", "second");
    REQUIRE(s.deployed(second));
    CHECK(s.body() == "v2\n");
    const std::string v2 = s.web_digest();
    CHECK(v2 != v1);
    CHECK(s.events.count(RuntimeEventKind::state, "built image shop-web:", "web") == 2);
    // ... is there for the second release's replicas.
    const auto second_containers = s.docker.wait<std::vector<docker::ContainerSummary>>(
        [&](auto done) { s.docker.client.list_containers({{"tandem.service", "web"}, {"tandem.project", "shop"}}, done); });
    REQUIRE(second_containers.ok());
    REQUIRE_FALSE(second_containers->empty());
    CHECK(second_containers->front().id != first_containers->front().id);
    CHECK(s.docker.exec(second_containers->front().id, {"/bin/busybox", "cat", "/data/file"}).out == "kept\n");
    // The audit record of the deploy names both images and the build.
    const auto records = audit_records(s.state.path());
    bool recorded = false;
    for (const auto& record : records)
        if (record.entry.commit == second)
            for (const auto& change : record.entry.services)
                recorded = recorded || (change.service == "web" && change.old_digest == v1 && change.new_digest == v2 &&
                                        change.build == "built");
    CHECK(recorded);
    // No plan built anything in the runtime: the image was made ahead.
    CHECK(s.events.count(RuntimeEventKind::action, "build (", "web") == 0);

    // The same files as the first commit, in a new one: the same key, the same image, no build.
    const std::string third = s.commit("v1\n", "third, as the first");
    REQUIRE(s.deployed(third));
    CHECK(s.body() == "v1\n");
    CHECK(s.web_digest() == v1);
    CHECK(s.events.count(RuntimeEventKind::state, "built image shop-web:", "web") == 2);
    CHECK(s.events.count(RuntimeEventKind::state, "reused image shop-web:", "web") == 1);

    // A rollback runs the recorded image: no build, no builder at all.
    auto rolled = s.loop->rollback(second, "test");
    REQUIRE_MESSAGE(rolled.ok(), (rolled ? "" : rolled.error().to_string()));
    REQUIRE(s.deployed(second));
    CHECK(s.body() == "v2\n");
    CHECK(s.web_digest() == v2);
    CHECK(s.events.count(RuntimeEventKind::state, "built image shop-web:", "web") == 2);
    CHECK(s.events.count(RuntimeEventKind::state, "reused image shop-web:", "web") == 1);
}

}  // namespace tandem::test
