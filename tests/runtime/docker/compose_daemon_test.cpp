// Compose files run as tandem projects on a real daemon (issue 16): each test writes a
// compose.yaml (no tandem.yaml) into its directory, loads it with load_project, carries the plan
// out on the Docker runtime and asks the daemon whether each container got what the compose file
// says. Images are built here from busybox (FROM scratch), never pulled; everything the runtime
// makes carries tandem.test and is removed at the end.
#include "runtime/docker/docker_fixture.hpp"

#include "runtime/container/container_names.hpp"

#include "support/free_port.hpp"
#include "support/http_client.hpp"

#include <tandem/docker_runtime.hpp>
#include <tandem/executor.hpp>
#include <tandem/plan.hpp>
#include <tandem/project.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

namespace tandem::test {

namespace {

using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;

// A compose project in a directory of its own. `image/` is a build context: busybox (with sh and
// rm) in a FROM scratch image, and /srv/index.html.
struct ComposeProject {
    TempDir dir;
    DockerTest docker;
    std::mutex mutex;
    std::vector<RuntimeEvent> events;
    std::unique_ptr<Executor> executor;
    tandem::Project project;
    std::set<std::string> services_seen;  // every service of every load: their images go at the end

    ComposeProject() {
        std::filesystem::create_directories(dir.path() / "image/bin");
        std::filesystem::copy_file("/bin/busybox", dir.path() / "image/bin/busybox");
        std::filesystem::create_symlink("busybox", dir.path() / "image/bin/sh");
        std::filesystem::create_symlink("busybox", dir.path() / "image/bin/rm");
        dir.write("image/Dockerfile", "FROM scratch\nENV PATH=/bin\nCOPY bin /bin\nCOPY srv /srv\nCOPY tmp /tmp\n");
        dir.write("image/tmp/.keep", "");
        dir.write("image/srv/index.html", "from the image\n");
    }
    ~ComposeProject() {
        executor.reset();
        auto volumes = docker.wait<std::vector<docker::VolumeInfo>>(
            [&](auto done) { docker.client.list_volumes({{"tandem.engine", engine()}}, done); });
        if (volumes)
            for (const auto& volume : *volumes)
                (void)docker.wait<Ok>([&](auto done) { docker.client.remove_volume(volume.name, done); });
        const std::string project_name = container::docker_name_part(project.spec.project);
        for (const auto& service : services_seen)
            (void)docker.wait<Ok>([&](auto done) {
                docker.client.remove_image(project_name + "-" + container::docker_name_part(service) + ":tandem", done,
                                           false);
            });
    }

    std::string name() const { return container::docker_name_part(dir.path().filename().string()); }
    std::string engine() const { return (dir.path() / ".tandem").string(); }

    // A local image for `image:` services (the build context image/), tagged; removed at the end.
    std::string local_image() {
        docker::BuildOptions options;
        options.tags = {unique_name("compose") + ":dev"};
        options.labels = test_labels();
        auto built = docker.wait<std::string>([&](auto done) {
            docker.client.build(dir.path() / "image", options, [](std::string_view) {}, done);
        });
        REQUIRE_MESSAGE(built.ok(), (built ? "" : built.error().message));
        docker.images.push_back(options.tags.front());
        return options.tags.front();
    }

    void load(Env environment = {}, std::vector<std::string> profiles = {}) {
        ProjectOptions options;
        options.policy = "wip";
        options.environment = std::move(environment);  // the host's environment must not leak in
        options.profiles = std::move(profiles);
        auto loaded = load_project(dir.path(), options);
        REQUIRE_MESSAGE(loaded.ok(), loaded.error().to_string());
        project = std::move(*loaded);
        for (const auto& service : project.spec.services) services_seen.insert(service.name);
    }
    void write(const std::string& compose, Env environment = {}, std::vector<std::string> profiles = {}) {
        dir.write("compose.yaml", compose);
        load(std::move(environment), std::move(profiles));
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

    Result<Plan> plan(std::vector<std::string> changed = {}, std::vector<std::string> only = {}) {
        PlanRequest request;
        request.bootstrap = true;
        request.changed_paths = std::move(changed);
        request.only = std::move(only);
        return make_plan(project.spec, executor->observe(), project.policy, request);
    }
    Status apply(std::vector<std::string> changed = {}, std::vector<std::string> only = {}) {
        auto made = plan(std::move(changed), std::move(only));
        REQUIRE_MESSAGE(made.ok(), made.error().to_string());
        return executor->apply(project.spec, project.policy, *made);
    }

    std::optional<ServiceStatus> status(const std::string& service) const {
        for (const auto& status : executor->status())
            if (status.name == service) return status;
        return std::nullopt;
    }
    std::vector<ReplicaStatus> replicas(const std::string& service) const {
        const auto found = status(service);
        return found ? found->replicas : std::vector<ReplicaStatus>{};
    }
    bool healthy(const std::string& service, std::size_t count = 1) const {
        std::size_t up = 0;
        // Routed too, when it has a port (the proxy sends it connections only then).
        for (const auto& replica : replicas(service))
            up += replica.health == Health::healthy && (replica.routed || replica.port == 0) ? 1 : 0;
        return up >= count;
    }
    // Ready and routed (a service without a health check: its port accepts connections).
    bool ready(const std::string& service) const {
        const auto found = status(service);
        return found && found->state == ServiceState::ready && !found->replicas.empty() && found->replicas.front().routed;
    }
    std::string said() {
        std::lock_guard lock(mutex);
        std::string out;
        for (const auto& e : events) out += e.service + ": " + e.text + "\n";
        return out;
    }
    // The containers of this engine (of one service, when named), stopped ones too.
    std::vector<docker::ContainerSummary> containers(const std::string& service = "") {
        docker::Labels labels = {{"tandem.engine", engine()}};
        if (!service.empty()) labels["tandem.service"] = service;
        auto list = docker.wait<std::vector<docker::ContainerSummary>>(
            [&](auto done) { docker.client.list_containers(labels, done); });
        REQUIRE(list.ok());
        return *list;
    }
    std::vector<std::string> running(const std::string& service) {
        std::vector<std::string> out;
        for (const auto& c : containers(service))
            if (c.state == "running") out.push_back(c.name);
        return out;
    }
    std::string container_of(const std::string& service) {
        const auto list = replicas(service);
        REQUIRE(!list.empty());
        const std::string prefix = "container ";
        REQUIRE(list.front().handle.rfind(prefix, 0) == 0);
        return list.front().handle.substr(prefix.size());
    }
    docker::ContainerInfo inspect(const std::string& container) {
        auto info = docker.wait<docker::ContainerInfo>(
            [&](auto done) { docker.client.inspect_container(container, done); });
        REQUIRE_MESSAGE(info.ok(), (info ? "" : info.error().message));
        return *info;
    }
    docker::ExecResult sh(const std::string& container, const std::string& script) {
        return docker.exec(container, {"/bin/sh", "-c", script});
    }
    std::string out(const std::string& container, const std::string& script) { return sh(container, script).out; }
    // The environment of the container's main process, as the daemon gave it.
    Env env_of(const std::string& container) {
        const std::string raw = docker.exec(container, {"/bin/busybox", "cat", "/proc/1/environ"}).out;
        Env env;
        std::size_t start = 0;
        while (start < raw.size()) {
            std::size_t end = raw.find('\0', start);
            if (end == std::string::npos) end = raw.size();
            const std::string entry = raw.substr(start, end - start);
            const auto equals = entry.find('=');
            if (equals != std::string::npos) env[entry.substr(0, equals)] = entry.substr(equals + 1);
            start = end + 1;
        }
        return env;
    }
    // Stops the engine; nothing it made stays but named volumes (removed by the destructor).
    void finish() {
        executor->stop_all();
        executor.reset();
        CHECK(containers().empty());
        auto networks = docker.wait<std::vector<docker::NetworkInfo>>(
            [&](auto done) { docker.client.list_networks({{"tandem.engine", engine()}}, done); });
        REQUIRE(networks.ok());
        CHECK(networks->empty());
    }
};

std::string explain(const Status& status, ComposeProject& p) {
    return (status ? std::string() : status.error().to_string()) + "\n" + p.said();
}

std::string body_at(int port, const std::string& path = "/index.html") {
    const auto reply = http_get(port, path);
    return reply && reply->status == 200 ? reply->body : std::string();
}

// The wave of `plan` that starts `service`, or -1.
int wave_of(const Plan& plan, const std::string& service) {
    for (std::size_t i = 0; i < plan.waves.size(); ++i)
        for (const auto& step : plan.waves[i].steps)
            if (step.service == service) return static_cast<int>(i);
    return -1;
}

// The value of `key`, or "<unset>".
std::string value(const std::map<std::string, std::string>& map, const std::string& key) {
    const auto found = map.find(key);
    return found == map.end() ? "<unset>" : found->second;
}

// "NAME:\tA\tB..." of /proc/1/status: the second field (the real id).
std::string proc_status_field(const std::string& status, const std::string& name) {
    std::istringstream lines(status);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(name + ":", 0) != 0) continue;
        std::istringstream fields(line.substr(name.size() + 1));
        std::string first;
        fields >> first;
        return first;
    }
    return {};
}

const std::string kQuick = "x-quick: &quick\n  stop_grace_period: 1s\n";

}  // namespace

TEST_CASE("compose: entrypoint, command, working_dir, user, labels, environment, env_file, extra_hosts, tmpfs and a HOST:CONTAINER port reach the container") {
    ComposeProject p;
    const int port = free_port();
    p.dir.write("web.env", "# the web's settings\nFROM_FILE=file value\nOVERRIDDEN=by the file\nexport EXPORTED=yes\n");
    p.dir.write("worker.env", "WORKER_FILE=1\nMODE=from the file\n");
    p.write(kQuick +
                "services:\n"
                "  web:\n"
                "    <<: *quick\n"
                "    build: ./image\n"
                "    entrypoint: /bin/busybox httpd\n"
                "    command: -f -p \"8080\" -h '.'\n"
                "    working_dir: /srv\n"
                "    user: \"65534:65534\"\n"
                "    labels:\n"
                "      - com.example.team=storefront\n"
                "      - \"com.example.note=two words\"\n"
                "    environment:\n"
                "      - GREETING=hello from the list\n"
                "      - OVERRIDDEN=by environment\n"
                "      - FROM_HOST=${HOST_VALUE}\n"
                "      - LEAK=${PATH:-not leaked}\n"
                "      - SET_ALONE\n"
                "      - UNSET_ALONE\n"
                "    env_file: web.env\n"
                "    extra_hosts:\n"
                "      - \"self.example.test:127.0.0.1\"\n"
                "      - \"db.example.test=10.1.2.3\"\n"
                "    tmpfs: /scratch\n"
                "    ports: [\"" + std::to_string(port) + ":8080\"]\n"
                "  worker:\n"
                "    <<: *quick\n"
                "    build: ./image\n"
                "    command: [\"/bin/busybox\", \"sleep\", \"600\"]\n"
                "    labels: {com.example.team: jobs}\n"
                "    environment:\n"
                "      MODE: worker\n"
                "      SPACED: \"a b  c\"\n"
                "      SET_ALONE:\n"
                "      UNSET_ALONE:\n"
                "    env_file:\n"
                "      - path: worker.env\n"
                "      - path: missing.env\n"
                "        required: false\n"
                "    extra_hosts:\n"
                "      cache.example.test: 10.9.8.7\n"
                "    tmpfs: [/run/cache, /tmp/work]\n",
            {{"HOST_VALUE", "given"}, {"SET_ALONE", "from the environment"}});
    const ServiceSpec* web = p.project.spec.find("web");
    REQUIRE(web != nullptr);
    CHECK(web->port == port);
    CHECK(web->listen_port() == 8080);
    CHECK(web->stop_grace == 1000ms);  // stop_grace_period, through the merge key
    // The port is published on 127.0.0.1 only, and the loader says so at the entry.
    bool warned = false;
    for (const auto& warning : p.project.warnings)
        warned = warned || warning.to_string().find("'services.web.ports.0'") != std::string::npos;
    CHECK(warned);

    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    REQUIRE_MESSAGE(eventually([&] { return p.ready("web") && p.running("worker").size() == 1; }, 30s), explain(Ok{}, p));
    const std::string box = p.container_of("web");

    // The port: the host's PORT reaches the container's 8080, which is the container's PORT; and
    // httpd serves `-h .` from the working_dir.
    CHECK_MESSAGE(eventually([&] { return body_at(port) == "from the image\n"; }, 10s), explain(Ok{}, p));

    // entrypoint + command, each string split into words (quotes removed), not run by a shell.
    const std::string cmdline = p.docker.exec(box, {"/bin/busybox", "cat", "/proc/1/cmdline"}).out;
    static const char expected_argv[] = "/bin/busybox\0httpd\0-f\0-p\0008080\0-h\0.";
    CHECK(cmdline == std::string(expected_argv, sizeof expected_argv));  // each argument ends in a NUL
    CHECK(p.out(box, "/bin/busybox readlink /proc/1/cwd") == "/srv\n");

    // user "65534:65534": the main process and an exec run as that uid and gid.
    const std::string proc_status = p.docker.exec(box, {"/bin/busybox", "cat", "/proc/1/status"}).out;
    CHECK(proc_status_field(proc_status, "Uid") == "65534");
    CHECK(proc_status_field(proc_status, "Gid") == "65534");
    CHECK(p.out(box, "/bin/busybox id -u; /bin/busybox id -g") == "65534\n65534\n");

    // labels, beside tandem's own.
    const auto info = p.inspect(box);
    CHECK(value(info.labels, "com.example.team") == "storefront");
    CHECK(value(info.labels, "com.example.note") == "two words");
    CHECK(value(info.labels, "tandem.service") == "web");
    CHECK(info.labels.count("tandem.test") == 1);
    CHECK(info.published.count(8080) == 1);

    // environment (a list) over env_file; PORT is the container's port; nothing of the host's.
    const Env env = p.env_of(box);
    CHECK(value(env, "GREETING") == "hello from the list");
    CHECK(value(env, "OVERRIDDEN") == "by environment");
    CHECK(value(env, "FROM_FILE") == "file value");
    CHECK(value(env, "EXPORTED") == "yes");
    CHECK(value(env, "FROM_HOST") == "given");
    CHECK(value(env, "LEAK") == "not leaked");
    CHECK(value(env, "SET_ALONE") == "from the environment");
    CHECK(value(env, "UNSET_ALONE") == "<unset>");
    CHECK(value(env, "PORT") == "8080");

    // extra_hosts: a name that resolves through /etc/hosts (to the container itself), and the
    // HOST=IP form as a line of /etc/hosts.
    const auto resolved = p.sh(box, "/bin/busybox wget -q -O - http://self.example.test:8080/index.html");
    CHECK_MESSAGE(resolved.out == "from the image\n", resolved.err);
    CHECK(p.sh(box, "/bin/busybox grep -E '^10\\.1\\.2\\.3[[:space:]]+db\\.example\\.test$' /etc/hosts").exit_code == 0);

    // tmpfs: an in-memory filesystem at /scratch (writable by the container's user).
    CHECK(p.sh(box, "/bin/busybox grep -q '^tmpfs /scratch tmpfs ' /proc/mounts").exit_code == 0);
    CHECK(p.out(box, "echo x > /scratch/file && /bin/busybox cat /scratch/file") == "x\n");

    // The other service: environment as a mapping (a null value from the environment, or left
    // out), env_file as a list with an optional missing file, extra_hosts and tmpfs as mappings/lists.
    const std::string worker = p.container_of("worker");
    const Env worker_env = p.env_of(worker);
    CHECK(value(worker_env, "MODE") == "worker");
    CHECK(value(worker_env, "SPACED") == "a b  c");
    CHECK(value(worker_env, "WORKER_FILE") == "1");
    CHECK(value(worker_env, "SET_ALONE") == "from the environment");
    CHECK(value(worker_env, "UNSET_ALONE") == "<unset>");
    CHECK(value(worker_env, "PORT") == "<unset>");
    const auto worker_info = p.inspect(worker);
    CHECK(value(worker_info.labels, "com.example.team") == "jobs");
    CHECK(p.sh(worker, "/bin/busybox grep -E '^10\\.9\\.8\\.7[[:space:]]+cache\\.example\\.test$' /etc/hosts").exit_code == 0);
    CHECK(p.sh(worker, "/bin/busybox grep -q '^tmpfs /run/cache tmpfs ' /proc/mounts && "
                       "/bin/busybox grep -q '^tmpfs /tmp/work tmpfs ' /proc/mounts").exit_code == 0);
    CHECK(p.out(worker, "/bin/busybox id -u") == "0\n");  // no user: the image's (root)
    p.finish();
}

TEST_CASE("compose: network aliases, two replicas, a named volume of two services, a read-only bind mount and a secret") {
    ComposeProject p;
    p.dir.write("config/app.conf", "level=debug\n");
    p.dir.write("secrets/api_key.txt", "s3cr3t\n");
    p.write(kQuick +
            "networks:\n"
            "  front:\n"
            "services:\n"
            "  web:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: /bin/busybox httpd -f -p 80 -h /srv\n"
            "    networks:\n"
            "      front:\n"
            "        aliases: [www.shop.internal, storefront]\n"
            "    deploy:\n"
            "      replicas: 2\n"
            "    volumes:\n"
            "      - shared:/data\n"
            "  writer:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: [\"/bin/sh\", \"-c\", \"echo written > /out/note && exec /bin/busybox sleep 600\"]\n"
            "    volumes: [\"shared:/out\"]\n"
            "  client:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: /bin/busybox sleep 600\n"
            "    networks: [front]\n"
            "    depends_on: [web]\n"
            "    volumes:\n"
            "      - ./config:/etc/app:ro\n"
            "    secrets: [api_key]\n"
            "volumes:\n"
            "  shared:\n"
            "secrets:\n"
            "  api_key:\n"
            "    file: ./secrets/api_key.txt\n");
    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    REQUIRE_MESSAGE(eventually([&] { return p.running("web").size() == 2 && p.running("client").size() == 1 &&
                                            p.running("writer").size() == 1; }, 30s),
                    explain(Ok{}, p));

    // deploy.replicas: 2 is two running containers of the service.
    const auto webs = p.running("web");
    REQUIRE(webs.size() == 2);
    CHECK(webs[0] != webs[1]);

    // Aliases: another container reaches the service by each alias (and by its name).
    const std::string client = p.container_of("client");
    for (const std::string host : {"www.shop.internal", "storefront", "web"}) {
        const auto got = p.sh(client, "/bin/busybox wget -q -O - http://" + host + "/index.html");
        CHECK_MESSAGE(got.out == "from the image\n", (host + ": exit " + std::to_string(got.exit_code) + ": " + got.err));
    }

    // The named volume: what writer wrote is in both replicas of web; the volume is <project>_shared.
    for (const auto& name : webs)
        CHECK_MESSAGE(eventually([&] { return p.out(name, "/bin/busybox cat /data/note 2>/dev/null") == "written\n"; }, 10s),
                      name);
    auto volumes = p.docker.wait<std::vector<docker::VolumeInfo>>(
        [&](auto done) { p.docker.client.list_volumes({{"tandem.engine", p.engine()}}, done); });
    REQUIRE(volumes.ok());
    REQUIRE(volumes->size() == 1);
    CHECK(volumes->front().name == container::docker_name_part(p.project.spec.project) + "_shared");
    CHECK(volumes->front().labels.count("tandem.test") == 1);

    // The bind mount of ./config, read-only.
    CHECK(p.out(client, "/bin/busybox cat /etc/app/app.conf") == "level=debug\n");
    CHECK(p.sh(client, "/bin/busybox touch /etc/app/new").exit_code != 0);
    CHECK_FALSE(std::filesystem::exists(p.dir.path() / "config/new"));
    // The secret, at /run/secrets/NAME, read-only.
    CHECK(p.out(client, "/bin/busybox cat /run/secrets/api_key") == "s3cr3t\n");
    CHECK(p.sh(client, "echo changed > /run/secrets/api_key").exit_code != 0);
    CHECK(read_text(p.dir.path() / "secrets/api_key.txt") == "s3cr3t\n");
    p.finish();
}

TEST_CASE("compose: healthcheck CMD and CMD-SHELL make services healthy, service_healthy starts the dependent after, a failing test keeps its service unhealthy and its dependent unstarted") {
    ComposeProject p;
    const std::string image = p.local_image();
    p.write(kQuick +
            "services:\n"
            "  db:\n"
            "    <<: *quick\n"
            "    image: " + image + "\n"
            "    command: '/bin/sh -c \"sleep 2; echo ready > /srv/ready; exec /bin/busybox httpd -f -p 80 -h /srv\"'\n"
            "    healthcheck:\n"
            "      test: [\"CMD\", \"/bin/busybox\", \"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1/ready\"]\n"
            "      interval: 200ms\n"
            "      timeout: 2s\n"
            "      retries: 3\n"
            "      start_period: 5s\n"
            "  api:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: '/bin/sh -c \"if /bin/busybox wget -q -O /dev/null http://db/ready; then echo after; "
            "else echo before; fi > /tmp/order; exec /bin/busybox sleep 600\"'\n"
            "    depends_on:\n"
            "      db: {condition: service_healthy}\n"
            "    healthcheck:\n"
            "      test: [\"CMD-SHELL\", \"test -s /tmp/order && test -d /srv\"]\n"
            "      interval: 200ms\n"
            "  sick:\n"
            "    <<: *quick\n"
            "    image: " + image + "\n"
            "    command: /bin/busybox sleep 600\n"
            "    healthcheck:\n"
            "      test: exit 1\n"
            "      interval: 200ms\n"
            "      retries: 2\n"
            "  waiter:\n"
            "    <<: *quick\n"
            "    image: " + image + "\n"
            "    command: /bin/busybox sleep 600\n"
            "    depends_on:\n"
            "      sick:\n"
            "        condition: service_healthy\n");
    REQUIRE(p.project.spec.find("db")->health.has_value());
    CHECK(p.project.spec.find("db")->health->command ==
          std::vector<std::string>{"/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/ready"});
    CHECK(p.project.spec.find("sick")->health->command == std::vector<std::string>{"/bin/sh", "-c", "exit 1"});
    p.start();

    // db and api first: db's wave comes before api's, and api starts once db is healthy.
    auto first = p.plan({}, {"api"});
    REQUIRE_MESSAGE(first.ok(), first.error().to_string());
    CHECK(wave_of(*first, "db") >= 0);
    CHECK(wave_of(*first, "db") < wave_of(*first, "api"));
    CHECK(wave_of(*first, "sick") == -1);
    const Status applied = p.executor->apply(p.project.spec, p.project.policy, *first);
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    CHECK(p.healthy("db"));
    CHECK_MESSAGE(eventually([&] { return p.healthy("api"); }, 20s), explain(Ok{}, p));
    // api found db serving when it started: it started after db became healthy (the CMD probe).
    CHECK(p.out(p.container_of("api"), "/bin/busybox cat /tmp/order") == "after\n");

    // sick's test fails: it never becomes healthy, and waiter (service_healthy on it) never starts.
    p.project.policy.rollout.gate_timeout = 8000ms;  // wip's 30 s, shortened for the test
    auto all = p.plan();
    REQUIRE_MESSAGE(all.ok(), all.error().to_string());
    CHECK(wave_of(*all, "sick") >= 0);
    CHECK(wave_of(*all, "sick") < wave_of(*all, "waiter"));
    auto second = std::async(std::launch::async, [&] { return p.executor->apply(p.project.spec, p.project.policy, *all); });
    CHECK_MESSAGE(eventually(
                      [&] {
                          const auto list = p.replicas("sick");
                          return !list.empty() && list.front().health == Health::unhealthy;
                      },
                      20s),
                  explain(Ok{}, p));
    CHECK(p.running("waiter").empty());
    const Status failed = second.get();
    CHECK_FALSE(failed.ok());
    if (!failed.ok()) CHECK_MESSAGE(failed.error().to_string().find("sick") != std::string::npos, failed.error().to_string());
    CHECK_FALSE(p.healthy("sick"));
    CHECK(p.containers("waiter").empty());
    CHECK_FALSE(p.status("waiter").has_value());
    CHECK(p.healthy("db"));
    CHECK(p.healthy("api"));
    p.finish();
}

TEST_CASE("compose: service_completed_successfully runs the dependency as a one-shot job before the dependent, and a job that exits 1 keeps its dependent from starting") {
    ComposeProject p;
    p.write(kQuick +
            "services:\n"
            "  migrate:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    restart: \"no\"\n"
            "    command: '/bin/sh -c \"sleep 1; echo migrated > /shared/migrated\"'\n"
            "    volumes: [state:/shared]\n"
            "  web:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: '/bin/sh -c \"/bin/busybox cat /shared/migrated > /tmp/seen || echo missing > /tmp/seen; "
            "exec /bin/busybox sleep 600\"'\n"
            "    volumes: [state:/shared]\n"
            "    depends_on:\n"
            "      migrate: {condition: service_completed_successfully}\n"
            "  broken:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: '/bin/sh -c \"echo the migration failed >&2; exit 1\"'\n"
            "  blocked:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: /bin/busybox sleep 600\n"
            "    depends_on:\n"
            "      broken:\n"
            "        condition: service_completed_successfully\n"
            "volumes:\n"
            "  state:\n");
    CHECK(p.project.spec.find("migrate")->job);
    CHECK(p.project.spec.find("broken")->job);
    CHECK_FALSE(p.project.spec.find("web")->job);
    p.start();

    const Status applied = p.apply({}, {"web"});
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    REQUIRE(p.status("migrate").has_value());
    CHECK(p.status("migrate")->state == ServiceState::completed);
    CHECK(p.running("migrate").empty());  // it ran once, to completion
    REQUIRE_MESSAGE(eventually([&] { return !p.running("web").empty(); }, 20s), explain(Ok{}, p));
    const std::string web = p.running("web").front();
    CHECK_MESSAGE(eventually([&] { return p.out(web, "/bin/busybox cat /tmp/seen 2>/dev/null") == "migrated\n"; }, 10s),
                  p.out(web, "/bin/busybox cat /tmp/seen 2>/dev/null"));
    // Done once: the same project plans nothing for it again.
    auto again = p.plan({}, {"web"});
    REQUIRE(again.ok());
    CHECK(again->empty());

    // The job that exits 1 fails the plan, and what waits for it does not start.
    const Status failed = p.apply();
    REQUIRE_FALSE(failed.ok());
    CHECK_MESSAGE(failed.error().to_string().find("broken") != std::string::npos, failed.error().to_string());
    REQUIRE(p.status("broken").has_value());
    CHECK(p.status("broken")->state != ServiceState::completed);
    CHECK_MESSAGE(p.status("broken")->last_error.find("the migration failed") != std::string::npos,
                  p.status("broken")->last_error);
    CHECK_FALSE(p.status("blocked").has_value());
    CHECK(p.containers("blocked").empty());
    auto held = p.plan();
    REQUIRE(held.ok());
    bool waits = false;
    for (const auto& waiting : held->waiting) waits = waits || (waiting.service == "blocked" && waiting.dependency == "broken");
    CHECK(waits);
    p.finish();
}

TEST_CASE("compose: a service of a profile runs only when the profile is active") {
    ComposeProject p;
    const std::string compose = kQuick +
                                "services:\n"
                                "  web:\n"
                                "    <<: *quick\n"
                                "    build: ./image\n"
                                "    command: /bin/busybox sleep 600\n"
                                "  debug:\n"
                                "    <<: *quick\n"
                                "    build: ./image\n"
                                "    command: /bin/busybox sleep 600\n"
                                "    profiles: [debug]\n";
    p.write(compose);
    CHECK(p.project.spec.find("debug") == nullptr);
    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    REQUIRE(eventually([&] { return p.running("web").size() == 1; }, 20s));
    CHECK(p.containers("debug").empty());
    const std::string web = p.running("web").front();

    // COMPOSE_PROFILES in the environment activates it as well (loaded only).
    p.load({{"COMPOSE_PROFILES", "debug"}});
    CHECK(p.project.spec.find("debug") != nullptr);

    p.load({}, {"debug"});
    REQUIRE(p.project.spec.find("debug") != nullptr);
    const Status with_profile = p.apply();
    REQUIRE_MESSAGE(with_profile.ok(), explain(with_profile, p));
    CHECK_MESSAGE(eventually([&] { return p.running("debug").size() == 1; }, 20s), explain(Ok{}, p));
    CHECK(p.running("web") == std::vector<std::string>{web});  // untouched
    p.finish();
}

TEST_CASE("compose: develop.watch sync skips ignored files, and sync+restart puts the file into a new container") {
    ComposeProject p;
    const int port = free_port();
    p.write(kQuick +
            "services:\n"
            "  web:\n"
            "    <<: *quick\n"
            "    build: ./image\n"
            "    command: /bin/busybox httpd -f -p 8080 -h /srv\n"
            "    ports: [\"127.0.0.1:" + std::to_string(port) + ":8080\"]\n"
            "    healthcheck:\n"
            "      test: [\"CMD\", \"/bin/busybox\", \"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/index.html\"]\n"
            "      interval: 200ms\n"
            "    develop:\n"
            "      watch:\n"
            "        - path: ./site\n"
            "          action: sync\n"
            "          target: /srv\n"
            "          ignore: [drafts/, \"*.tmp\"]\n"
            "        - path: ./conf\n"
            "          action: sync+restart\n"
            "          target: /etc/web\n");
    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    REQUIRE_MESSAGE(eventually([&] { return p.healthy("web"); }, 30s), explain(Ok{}, p));
    CHECK(body_at(port) == "from the image\n");
    const std::string before = p.container_of("web");

    // Only ignored files changed: nothing to do.
    p.dir.write("site/drafts/plan.html", "not yet\n");
    p.dir.write("site/notes.tmp", "scratch\n");
    auto nothing = p.plan({"site/drafts/plan.html", "site/notes.tmp"});
    REQUIRE(nothing.ok());
    CHECK(nothing->empty());

    // sync: the saved file is in the running container, the ignored ones are not; no restart.
    p.dir.write("site/index.html", "saved\n");
    p.dir.write("site/deep/page.html", "deep\n");
    p.dir.write("site/deep/old.tmp", "scratch\n");
    const Status synced = p.apply({"site/index.html", "site/deep/page.html", "site/drafts/plan.html", "site/notes.tmp",
                                   "site/deep/old.tmp"});
    REQUIRE_MESSAGE(synced.ok(), explain(synced, p));
    CHECK(body_at(port) == "saved\n");
    CHECK(body_at(port, "/deep/page.html") == "deep\n");
    CHECK(p.container_of("web") == before);
    CHECK(p.sh(before, "/bin/busybox test -e /srv/drafts/plan.html").exit_code != 0);
    CHECK(p.sh(before, "/bin/busybox test -e /srv/drafts").exit_code != 0);
    CHECK(p.sh(before, "/bin/busybox test -e /srv/notes.tmp").exit_code != 0);
    CHECK(p.sh(before, "/bin/busybox test -e /srv/deep/old.tmp").exit_code != 0);  // `*.tmp` at any depth

    // sync+restart: the file is synced and the service restarts: a new container, which has it
    // (and the files synced before).
    p.dir.write("conf/app.conf", "mode=dev\n");
    const Status restarted = p.apply({"conf/app.conf"});
    REQUIRE_MESSAGE(restarted.ok(), explain(restarted, p));
    REQUIRE_MESSAGE(eventually([&] { return p.healthy("web") && p.container_of("web") != before; }, 30s), explain(Ok{}, p));
    const std::string after = p.container_of("web");
    CHECK(p.out(after, "/bin/busybox cat /etc/web/app.conf") == "mode=dev\n");
    CHECK(body_at(port) == "saved\n");
    CHECK(p.running("web") == std::vector<std::string>{after});
    p.finish();
}

TEST_CASE("compose: every ports entry is routed, each on its public port, to both replicas and across a replace") {
    ComposeProject p;
    const int web = free_port();
    const int admin = free_port();
    const int same = free_port();
    p.dir.write("image/srv/admin/index.html", "admin page\n");
    p.write(kQuick +
            "services:\n"
            "  web:\n"
            "    <<: *quick\n"
            "    build: image\n"
            "    command: [/bin/sh, -c, \"httpd -p 9090 -h /srv/admin; httpd -p " + std::to_string(same) +
                " -h /srv; exec httpd -f -p 8080 -h /srv\"]\n"
            "    deploy: {replicas: 2}\n"
            "    ports:\n"
            "      - \"127.0.0.1:" + std::to_string(web) + ":8080\"\n"
            "      - \"127.0.0.1:" + std::to_string(admin) + ":9090\"\n"
            "      - target: " + std::to_string(same) + "\n"
            "        published: \"" + std::to_string(same) + "\"\n"
            "        host_ip: 127.0.0.1\n");
    const ServiceSpec& spec = *p.project.spec.find("web");
    REQUIRE(spec.container);
    CHECK(spec.port == web);
    CHECK(spec.listen_port() == 8080);
    CHECK(spec.container->extra_ports == std::vector<std::pair<int, int>>{{admin, 9090}, {same, same}});
    CHECK(p.project.warnings.empty());

    p.start();
    const Status applied = p.apply();
    REQUIRE_MESSAGE(applied.ok(), explain(applied, p));
    // No health check: a replica is routed once its port accepts connections.
    const auto both_routed = [&] {
        const auto list = p.replicas("web");
        return list.size() == 2 && std::all_of(list.begin(), list.end(), [](const ReplicaStatus& r) { return r.routed; });
    };
    // Routed is ready: the container's own port 8080 accepted (not docker-proxy's published one,
    // which accepts before the server listens: the failed CI runs of issues 16, 17 and 18). The
    // command's other two servers listen before the one on 8080 starts, so every port serves at
    // once, on both replicas (the proxy alternates between them: four answers in a row).
    p.docker.run_until(both_routed);
    REQUIRE_MESSAGE(both_routed(), explain(Ok{}, p));
    const auto serves = [&](int port, const std::string& body) {
        for (int i = 0; i < 4; ++i)
            if (body_at(port) != body) return false;
        return true;
    };
    CHECK(serves(web, "from the image\n"));
    CHECK(serves(admin, "admin page\n"));
    CHECK(serves(same, "from the image\n"));
    CHECK(body_at(web) == "from the image\n");
    CHECK(body_at(admin) == "admin page\n");
    CHECK(body_at(same) == "from the image\n");
    CHECK(p.running("web").size() == 2);

    // A new image: the containers are replaced, and every port reaches the new ones.
    p.dir.write("image/srv/admin/index.html", "admin page 2\n");
    const Status replaced = p.apply({"image/srv/admin/index.html"});
    REQUIRE_MESSAGE(replaced.ok(), explain(replaced, p));
    // wip replaces without a health gate: the new replicas are routed as their ports answer.
    // (A request right after that may still fail now and then: see the closing note of issue 16.)
    bool admin_new = false, web_served = false;
    p.docker.run_until([&] { return (admin_new = both_routed() && body_at(admin) == "admin page 2\n"); });
    p.docker.run_until([&] { return (web_served = body_at(web) == "from the image\n"); });
    CHECK(admin_new);
    CHECK(web_served);
    p.finish();
    // The engine's listeners went with it.
    CHECK(body_at(admin).empty());
}

}  // namespace tandem::test
