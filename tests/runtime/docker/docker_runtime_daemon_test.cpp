// The Docker runtime against a real daemon: container services built from a Dockerfile (FROM
// scratch with busybox), planned and applied by the executor as any service is. Everything the
// runtime makes carries tandem.test, so tests/support/dockerd.sh removes what a failed test left.
#include "runtime/docker/docker_fixture.hpp"

#include "runtime/container/container_names.hpp"

#include "support/free_port.hpp"
#include "support/http_client.hpp"

#include <tandem/docker_runtime.hpp>
#include <tandem/executor.hpp>
#include <tandem/plan.hpp>
#include <tandem/project.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace tandem::test {

namespace {

using namespace std::chrono_literals;

// A project whose services run busybox from an image the runtime builds: `site/` is served by
// busybox httpd from /srv.
struct ContainerProject {
    TempDir dir;
    DockerTest docker;
    std::mutex mutex;
    std::vector<RuntimeEvent> events;
    std::unique_ptr<Executor> executor;
    tandem::Project project;

    ContainerProject() {
        std::filesystem::create_directories(dir.path() / "bin");
        std::filesystem::copy_file("/bin/busybox", dir.path() / "bin/busybox");
        std::filesystem::create_symlink("busybox", dir.path() / "bin/sh");
        std::filesystem::create_symlink("busybox", dir.path() / "bin/rm");
        dir.write("Dockerfile", "FROM scratch\nENV PATH=/bin\nCOPY bin /bin\nCOPY site /srv\n");
        dir.write(".dockerignore", ".tandem\ntandem.yaml\n");
        dir.write("site/index.html", "one\n");
    }
    ~ContainerProject() {
        executor.reset();
        // What the runtime leaves on purpose: named volumes and the images it built.
        auto volumes = docker.wait<std::vector<docker::VolumeInfo>>(
            [&](auto done) { docker.client.list_volumes({{"tandem.engine", engine()}}, done); });
        if (volumes)
            for (const auto& volume : *volumes)
                (void)docker.wait<Ok>([&](auto done) { docker.client.remove_volume(volume.name, done); });
        for (const auto& service : project.spec.services)
            (void)docker.wait<Ok>([&](auto done) { docker.client.remove_image(image_tag(service.name), done, false); });
    }

    std::string name() const { return container::docker_name_part(dir.path().filename().string()); }
    std::string engine() const { return (dir.path() / ".tandem").string(); }
    std::string image_tag(const std::string& service) const { return name() + "-" + service + ":tandem"; }

    void write(const std::string& services, const std::string& policy = "wip") {
        dir.write("tandem.yaml", "version: 1\nservices:\n" + services);
        ProjectOptions options;
        options.policy = policy;
        auto loaded = load_project(dir.path(), options);
        REQUIRE_MESSAGE(loaded.ok(), loaded.error().to_string());
        project = std::move(*loaded);
    }

    void start() {
        ProcessRuntimeOptions process;
        process.state_dir = dir.path() / ".tandem";
        DockerRuntimeOptions options;
        options.state_dir = process.state_dir;
        options.project = name();
        options.labels = test_labels();
        auto runtime = make_local_runtime(process, options);
        REQUIRE(runtime.ok());
        ExecutorOptions executor_options;
        executor_options.project_root = dir.path();
        executor_options.state_dir = process.state_dir;
        auto started = Executor::start(std::move(*runtime), executor_options, [this](const RuntimeEvent& e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
        });
        REQUIRE_MESSAGE(started.ok(), started.error().to_string());
        executor = std::move(*started);
    }

    Status apply(std::vector<std::string> changed = {}) {
        PlanRequest request;
        request.bootstrap = true;
        request.changed_paths = std::move(changed);
        auto plan = make_plan(project.spec, executor->observe(), project.policy, request);
        REQUIRE_MESSAGE(plan.ok(), plan.error().to_string());
        return executor->apply(project.spec, project.policy, *plan);
    }

    std::vector<ReplicaStatus> replicas(const std::string& service) const {
        for (const auto& status : executor->status())
            if (status.name == service) return status.replicas;
        return {};
    }
    bool healthy(const std::string& service, std::size_t count = 1) const {
        const auto list = replicas(service);
        std::size_t up = 0;
        for (const auto& replica : list) up += replica.health == Health::healthy && replica.routed ? 1 : 0;
        return up >= count;
    }
    std::string said() {
        std::lock_guard lock(mutex);
        std::string out;
        for (const auto& e : events) out += e.service + ": " + e.text + "\n";
        return out;
    }
    std::vector<docker::ContainerSummary> containers() {
        auto list = docker.wait<std::vector<docker::ContainerSummary>>(
            [&](auto done) { docker.client.list_containers({{"tandem.engine", engine()}}, done); });
        REQUIRE(list.ok());
        return *list;
    }
    std::string container_of(const std::string& service) {
        const auto list = replicas(service);
        REQUIRE(!list.empty());
        const std::string prefix = "container ";
        REQUIRE(list.front().handle.rfind(prefix, 0) == 0);
        return list.front().handle.substr(prefix.size());
    }
};

std::string explain(const Status& status, ContainerProject& p) {
    return (status ? std::string() : status.error().to_string()) + "\n" + p.said();
}

// What the containers listen on: below the kernel's ephemeral ports (32768-60999), where
// free_port()'s public ports are and where Docker's embedded DNS server takes a random port in
// each container (a server on the same port inside then fails: "bind: Address already in use",
// seen once in CI).
constexpr int kContainerPort = 8080;

std::string web_service(int port, const std::string& more = "") {
    return "  web:\n    build: {context: .}\n    command: [/bin/busybox, httpd, -f, -p, \"${port}\", -h, /srv]\n"
           "    port: " + std::to_string(port) + "\n    container_port: " + std::to_string(kContainerPort) +
           "\n    stop_grace: 1s\n"
           "    health: {http: /index.html, interval: 100ms}\n" + more;
}

std::string body_at(int port) {
    const auto reply = http_get(port, "/index.html");
    return reply && reply->status == 200 ? reply->body : std::string();
}

}  // namespace

TEST_CASE("docker runtime: a service built from a Dockerfile runs as a container, is probed and serves on its port") {
    ContainerProject p;
    const int port = free_port();
    p.write(web_service(port));
    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    CHECK_MESSAGE(eventually([&] { return p.healthy("web"); }, 30s), explain(Ok{}, p));
    CHECK(body_at(port) == "one\n");
    const auto list = p.containers();
    REQUIRE(list.size() == 1);
    CHECK(list.front().state == "running");
    CHECK(list.front().labels.at("tandem.service") == "web");
    CHECK(p.container_of("web") == list.front().name);
    CHECK(p.executor->runtime_name() == "process+docker");
}

// The daemon's proxy accepts on a published port as soon as the container starts, long before
// the server inside listens: a replica without a health check is ready when the container's own
// port accepts. (Before, the probe went through the published port and called a container whose
// server was still asleep ready: the request below got an empty answer.)
TEST_CASE("docker runtime: a container without a health check is ready when its server listens, not when the daemon's proxy accepts") {
    ContainerProject p;
    const int port = free_port();
    p.write("  web:\n    build: {context: .}\n"
            "    command: [/bin/busybox, sh, -c, \"/bin/busybox sleep 3 && exec /bin/busybox httpd -f -p ${port} -h /srv\"]\n"
            "    port: " + std::to_string(port) + "\n    container_port: " + std::to_string(kContainerPort) +
            "\n    stop_grace: 1s\n");
    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    // Ready is routed (without a check its health stays unknown).
    const auto routed = [&] {
        const auto list = p.replicas("web");
        return list.size() == 1 && list.front().routed;
    };
    REQUIRE_MESSAGE(eventually(routed, 30s), explain(Ok{}, p));
    CHECK_MESSAGE(body_at(port) == "one\n", explain(Ok{}, p));
}

TEST_CASE("docker runtime: services reach each other by name on the project network") {
    ContainerProject p;
    const int port = free_port();
    p.write(web_service(port) +
            "  client:\n    build: {context: .}\n    command: [/bin/busybox, sleep, \"600\"]\n    stop_grace: 1s\n"
            "    depends_on: [web]\n"
            "    health: {exec: [/bin/busybox, wget, -q, -O, /dev/null, \"http://web:" + std::to_string(kContainerPort) + "/index.html\"], "
            "interval: 200ms, timeout: 2s}\n");
    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    CHECK_MESSAGE(eventually([&] { return p.healthy("client"); }, 30s), explain(Ok{}, p));
}

TEST_CASE("docker runtime: a container reaches a process service at ${services.NAME.host}, and a process reaches a container at 127.0.0.1") {
    ContainerProject p;
    const int port = free_port();
    const int files_port = free_port();
    p.dir.write("files/index.html", "from a process\n");
    p.write(web_service(port) +
            "  files:\n    run: [/bin/busybox, httpd, -f, -p, \"${port}\", -h, files]\n    port: " +
            std::to_string(files_port) + "\n    health: {tcp: true, interval: 100ms}\n"
            "  client:\n    build: {context: .}\n    command: [/bin/busybox, sleep, \"600\"]\n    stop_grace: 1s\n"
            "    depends_on: [files]\n"
            "    env: {FILES: \"http://${services.files.host}:${services.files.port}/index.html\"}\n"
            "    health: {exec: [/bin/sh, -c, \"/bin/busybox wget -q -O - $FILES | /bin/busybox grep -q 'from a process'\"], "
            "interval: 200ms, timeout: 2s}\n"
            "  checker:\n    run: [/bin/busybox, sleep, \"600\"]\n    depends_on: [web]\n"
            "    env: {WEB: \"http://${services.web.host}:${services.web.port}/index.html\"}\n"
            "    health: {exec: [/bin/sh, -c, \"/bin/busybox wget -q -O /dev/null $WEB\"], interval: 200ms}\n");
    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    CHECK_MESSAGE(eventually([&] { return p.healthy("client"); }, 30s), explain(Ok{}, p));
    CHECK_MESSAGE(eventually([&] { return p.healthy("checker"); }, 30s), explain(Ok{}, p));
}

TEST_CASE("docker runtime: a named volume keeps its files across a replace, and a reset empties it") {
    ContainerProject p;
    const int port = free_port();
    p.write(web_service(port, "    volumes: [data:/data]\n    reset: {command: \"true\"}\n    env: {V: \"1\"}\n"));
    p.start();
    REQUIRE(p.apply().ok());
    REQUIRE(eventually([&] { return p.healthy("web"); }, 30s));
    const std::string first = p.container_of("web");
    CHECK(p.docker.exec(first, {"/bin/busybox", "sh", "-c", "echo kept > /data/file"}).exit_code == 0);

    p.write(web_service(port, "    volumes: [data:/data]\n    reset: {command: \"true\"}\n    env: {V: \"2\"}\n"));
    REQUIRE(p.apply().ok());
    REQUIRE(eventually([&] { return p.healthy("web") && p.container_of("web") != first; }, 30s));
    const auto kept = p.docker.exec(p.container_of("web"), {"/bin/busybox", "cat", "/data/file"});
    CHECK(kept.out == "kept\n");

    PlanRequest reset;
    reset.bootstrap = true;
    reset.reset = {"web"};
    auto plan = make_plan(p.project.spec, p.executor->observe(), p.project.policy, reset);
    REQUIRE(plan.ok());
    const Status reset_done = p.executor->apply(p.project.spec, p.project.policy, *plan);
    REQUIRE_MESSAGE(reset_done.ok(), explain(reset_done, p));
    REQUIRE(eventually([&] { return p.healthy("web"); }, 30s));
    CHECK(p.docker.exec(p.container_of("web"), {"/bin/busybox", "test", "-e", "/data/file"}).exit_code != 0);
}

TEST_CASE("docker runtime: a sync rule copies the saved file into the running container without a restart, and a new container gets it too") {
    ContainerProject p;
    const int port = free_port();
    const std::string rules = "    watch:\n      - {paths: [\"site/**\"], action: sync, target: /srv, "
                              "command: \"/bin/busybox touch /srv/.synced\"}\n";
    p.write(web_service(port, rules + "    env: {V: \"1\"}\n"));
    p.start();
    REQUIRE(p.apply().ok());
    REQUIRE(eventually([&] { return p.healthy("web"); }, 30s));
    const std::string before = p.container_of("web");

    p.dir.write("site/index.html", "two\n");
    p.dir.write("site/deep/new.txt", "new\n");
    const Status synced = p.apply({"site/index.html", "site/deep/new.txt"});
    REQUIRE_MESSAGE(synced.ok(), explain(synced, p));
    CHECK(body_at(port) == "two\n");
    CHECK(p.container_of("web") == before);  // no restart
    CHECK(p.docker.exec(before, {"/bin/busybox", "cat", "/srv/deep/new.txt"}).out == "new\n");
    CHECK(p.docker.exec(before, {"/bin/busybox", "test", "-e", "/srv/.synced"}).exit_code == 0);

    // A replacement starts from the image, which still has "one": the synced file goes in first.
    p.write(web_service(port, rules + "    env: {V: \"2\"}\n"));
    REQUIRE(p.apply().ok());
    REQUIRE(eventually([&] { return p.healthy("web") && p.container_of("web") != before; }, 30s));
    CHECK(body_at(port) == "two\n");

    // A deleted file goes from the container too.
    std::filesystem::remove(p.dir.path() / "site/deep/new.txt");
    const Status removed = p.apply({"site/deep/new.txt"});
    REQUIRE_MESSAGE(removed.ok(), explain(removed, p));
    CHECK(p.docker.exec(p.container_of("web"), {"/bin/busybox", "test", "-e", "/srv/deep/new.txt"}).exit_code != 0);
}

TEST_CASE("docker runtime: a rolling replace of two containers under load fails no request") {
    ContainerProject p;
    const int port = free_port();
    p.write(web_service(port, "    replicas: 2\n    env: {V: \"1\"}\n"), "harness");
    p.start();
    REQUIRE(p.apply().ok());
    REQUIRE(eventually([&] { return p.healthy("web", 2); }, 60s));
    std::atomic<bool> stop{false};
    std::atomic<int> served{0}, failed{0};
    std::thread client([&] {
        while (!stop) {
            const auto reply = http_get(port, "/index.html", 5000ms);
            (reply && reply->status == 200 ? served : failed)++;
        }
    });
    p.dir.write("site/index.html", "two\n");
    p.write(web_service(port, "    replicas: 2\n    env: {V: \"2\"}\n"), "harness");
    const Status replaced = p.apply({"site/index.html"});
    std::this_thread::sleep_for(300ms);
    stop = true;
    client.join();
    REQUIRE_MESSAGE(replaced.ok(), explain(replaced, p));
    CHECK(failed == 0);
    CHECK(served > 10);
    CHECK(body_at(port) == "two\n");
    CHECK(p.containers().size() == 2);
}

TEST_CASE("docker runtime: after the engine is killed, the next one removes the containers it left, and stopping leaves only named volumes") {
    ContainerProject p;
    const int port = free_port();
    p.write(web_service(port, "    volumes: [data:/data]\n"));
    const pid_t engine = fork();
    if (engine == 0) {
        p.start();
        (void)p.apply();
        pause();
        _exit(0);
    }
    REQUIRE(engine > 0);
    const bool running = eventually(
        [&] {
            const auto list = p.containers();
            return !list.empty() && list.front().state == "running";
        },
        60s);
    kill(engine, SIGKILL);
    waitpid(engine, nullptr, 0);
    REQUIRE(running);
    REQUIRE(p.containers().size() == 1);

    p.start();
    CHECK(p.containers().empty());
    CHECK(p.said().find("left running by an engine that did not stop") != std::string::npos);
    REQUIRE(p.apply().ok());
    REQUIRE(eventually([&] { return p.healthy("web"); }, 30s));
    CHECK(body_at(port) == "one\n");

    p.executor->stop_all();
    p.executor.reset();
    CHECK(p.containers().empty());
    auto networks = p.docker.wait<std::vector<docker::NetworkInfo>>(
        [&](auto done) { p.docker.client.list_networks({{"tandem.engine", p.engine()}}, done); });
    REQUIRE(networks.ok());
    CHECK(networks->empty());
    auto volumes = p.docker.wait<std::vector<docker::VolumeInfo>>(
        [&](auto done) { p.docker.client.list_volumes({{"tandem.engine", p.engine()}}, done); });
    REQUIRE(volumes.ok());
    REQUIRE(volumes->size() == 1);
    CHECK(volumes->front().name == p.name() + "_data");
}

TEST_CASE("docker runtime: a build that fails is a failed build naming the service, and nothing starts") {
    ContainerProject p;
    p.dir.write("Dockerfile", "FROM scratch\nCOPY missing-file /x\n");
    p.write(web_service(free_port()));
    p.start();
    const Status applied = p.apply();
    REQUIRE_FALSE(applied.ok());
    CHECK(applied.error().code == ErrorCode::build_failed);
    CHECK(applied.error().message.find("'web'") != std::string::npos);
    CHECK(p.containers().empty());
}

}  // namespace tandem::test
