// Compose files as projects (issue 16), the parts that are not errors: which file a directory's
// project comes from, files merged by compose's rules (the override file, -f in order, !reset and
// !override), variables, YAML merge keys, profiles, the project's name, warnings, the files a
// project was read from, and `devloop convert`'s tandem.yaml giving the same services. Each case
// writes its files into a scratch directory and loads it as devloop would, with the variables
// interpolation sees given here rather than taken from this process.
#include <doctest/doctest.h>

#include <tandem/project.hpp>

#include "support/temp_dir.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace tandem;
using tandem::test::TempDir;

namespace {

using Strings = std::vector<std::string>;
using Variables = std::map<std::string, std::string>;
using Env = std::vector<std::pair<std::string, std::string>>;

ProjectOptions options_with(Variables environment = {}, Strings more_files = {}, Strings profiles = {}) {
    ProjectOptions options;
    options.default_policy = "wip";
    options.environment = std::move(environment);
    options.more_files = std::move(more_files);
    options.profiles = std::move(profiles);
    return options;
}

Project load_ok(const TempDir& dir, const ProjectOptions& options = options_with()) {
    auto project = load_project(dir.path(), options);
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    return std::move(*project);
}

Error load_error(const TempDir& dir, const ProjectOptions& options = options_with()) {
    auto project = load_project(dir.path(), options);
    REQUIRE_MESSAGE(!project.ok(), "loaded, though it should be refused");
    return project.error();
}

Strings service_names(const Project& project) {
    Strings names;
    for (const ServiceSpec& service : project.spec.services) names.push_back(service.name);
    return names;
}

const ServiceSpec& service(const Project& project, const std::string& name) {
    const ServiceSpec* found = project.spec.find(name);
    REQUIRE_MESSAGE(found != nullptr, "no service '" << name << "'");
    return *found;
}

const ContainerSpec& container(const ServiceSpec& spec) {
    REQUIRE_MESSAGE(spec.container.has_value(), "'" << spec.name << "' is not a container service");
    return *spec.container;
}

std::optional<std::string> env(const ServiceSpec& spec, const std::string& key) {
    std::optional<std::string> value;
    for (const auto& [name, text] : spec.env)
        if (name == key) value = text;
    return value;
}

const VolumeSpec* mount(const ServiceSpec& spec, const std::string& target) {
    for (const VolumeSpec& volume : container(spec).volumes)
        if (volume.target == target) return &volume;
    return nullptr;
}

bool has_file(const Project& project, const std::string& file) {
    return std::find(project.files.begin(), project.files.end(), file) != project.files.end();
}

std::set<std::string> as_set(const Strings& names) { return {names.begin(), names.end()}; }

// The warnings whose message is about `path` ("services.web.container_name").
std::vector<Error> warnings_about(const Project& project, const std::string& path) {
    std::vector<Error> found;
    for (const Error& warning : project.warnings)
        if (warning.message.rfind("'" + path + "'", 0) == 0) found.push_back(warning);
    return found;
}

std::string listing(const std::vector<Error>& errors) {
    std::string text;
    for (const Error& error : errors) text += std::string("\n  ") + to_string(error.code) + " " + error.to_string();
    return text;
}

}  // namespace

// --- which file ---

TEST_CASE("compose merge: tandem.yaml wins over compose.yaml, compose.yaml over docker-compose.yml, a Procfile comes last") {
    const std::string tandem = "version: 1\nservices:\n  from-tandem:\n    run: ./serve\n";
    const auto compose = [](const std::string& name) { return "services:\n  " + name + ":\n    image: " + name + "\n"; };
    const std::string procfile = "web: ./serve --port $PORT\n";

    SUBCASE("tandem.yaml first") {
        TempDir dir;
        dir.write("tandem.yaml", tandem);
        dir.write("compose.yaml", compose("from-compose"));
        dir.write("docker-compose.yml", compose("from-docker-compose"));
        dir.write("Procfile", procfile);
        const Project project = load_ok(dir);
        CHECK(service_names(project) == Strings{"from-tandem"});
        CHECK(has_file(project, "tandem.yaml"));
        CHECK_FALSE(has_file(project, "compose.yaml"));
    }
    SUBCASE("then compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml") {
        TempDir dir;
        dir.write("compose.yaml", compose("from-compose-yaml"));
        dir.write("compose.yml", compose("from-compose-yml"));
        dir.write("docker-compose.yaml", compose("from-docker-compose-yaml"));
        dir.write("docker-compose.yml", compose("from-docker-compose-yml"));
        dir.write("Procfile", procfile);
        CHECK(service_names(load_ok(dir)) == Strings{"from-compose-yaml"});
        std::filesystem::remove(dir.path() / "compose.yaml");
        CHECK(service_names(load_ok(dir)) == Strings{"from-compose-yml"});
        std::filesystem::remove(dir.path() / "compose.yml");
        CHECK(service_names(load_ok(dir)) == Strings{"from-docker-compose-yaml"});
        std::filesystem::remove(dir.path() / "docker-compose.yaml");
        const Project project = load_ok(dir);
        CHECK(service_names(project) == Strings{"from-docker-compose-yml"});
        CHECK(has_file(project, "docker-compose.yml"));
        CHECK_FALSE(has_file(project, "Procfile"));
    }
    SUBCASE("a Procfile when nothing else is there") {
        TempDir dir;
        dir.write("Procfile", procfile);
        const Project project = load_ok(dir);
        CHECK(service_names(project) == Strings{"web"});
        CHECK_FALSE(service(project, "web").runs_container());
        CHECK(service(project, "web").port == 5000);
        CHECK(has_file(project, "Procfile"));
    }
}

// --- merging files ---

TEST_CASE("compose merge: compose.override.yaml is merged by itself, and not when more files are given") {
    TempDir dir;
    dir.write("compose.yaml", "services:\n  web:\n    image: web:base\n    environment:\n      LEVEL: base\n");
    dir.write("compose.override.yaml", "services:\n  web:\n    image: web:override\n    environment:\n      DEBUG: \"1\"\n");
    dir.write("more.yaml", "services:\n  web:\n    image: web:more\n");

    const Project merged = load_ok(dir);
    const ServiceSpec& web = service(merged, "web");
    CHECK(container(web).image == "web:override");
    CHECK(web.env == Env{{"LEVEL", "base"}, {"DEBUG", "1"}});
    CHECK(has_file(merged, "compose.yaml"));
    CHECK(has_file(merged, "compose.override.yaml"));

    const Project given = load_ok(dir, options_with({}, {"more.yaml"}));
    const ServiceSpec& web_more = service(given, "web");
    CHECK(container(web_more).image == "web:more");
    CHECK(web_more.env == Env{{"LEVEL", "base"}});
    CHECK(has_file(given, "more.yaml"));
    CHECK_FALSE(has_file(given, "compose.override.yaml"));
}

TEST_CASE("compose merge: docker-compose.override.yml is merged over docker-compose.yml") {
    TempDir dir;
    dir.write("docker-compose.yml", "services:\n  web:\n    image: web:base\n");
    dir.write("docker-compose.override.yml", "services:\n  web:\n    image: web:override\n");
    const Project project = load_ok(dir);
    CHECK(container(service(project, "web")).image == "web:override");
    CHECK(has_file(project, "docker-compose.override.yml"));
}

TEST_CASE("compose merge: more files are merged in order by compose's rules, with !reset and !override") {
    TempDir dir;
    dir.write("compose.yaml",
              "services:\n"
              "  web:\n"
              "    image: web:1\n"
              "    command: [\"./run\", \"--base\"]\n"
              "    environment:\n"
              "      - A=1\n"
              "      - B=2\n"
              "    ports:\n"
              "      - 8080:80\n"
              "    volumes:\n"
              "      - data:/data\n"
              "      - ./src:/src\n"
              "    depends_on: [db]\n"
              "    labels:\n"
              "      tier: base\n"
              "    healthcheck:\n"
              "      test: [\"CMD\", \"true\"]\n"
              "      interval: 2s\n"
              "  db:\n"
              "    image: db:1\n"
              "  cache:\n"
              "    image: cache:1\n"
              "    command: [\"cache\", \"--base\"]\n"
              "volumes:\n"
              "  data: {}\n"
              "  other: {}\n");
    dir.write("more.yaml",
              "services:\n"
              "  web:\n"
              "    image: web:2\n"
              "    command: ./run --over\n"
              "    environment:\n"
              "      B: \"20\"\n"
              "      C: \"3\"\n"
              "    ports:\n"
              "      - 9090:90\n"
              "    volumes:\n"
              "      - other:/data\n"
              "    depends_on:\n"
              "      cache:\n"
              "        condition: service_started\n"
              "    healthcheck:\n"
              "      timeout: 3s\n");
    dir.write("last.yaml",
              "services:\n"
              "  web:\n"
              "    image: web:3\n"
              "    labels: !reset {}\n"
              "    healthcheck: !override\n"
              "      test: [\"CMD\", \"false\"]\n"
              "  cache:\n"
              "    command: !reset []\n");
    const Project project = load_ok(dir, options_with({}, {"more.yaml", "last.yaml"}));
    INFO(listing(project.warnings));
    const ServiceSpec& web = service(project, "web");
    const ContainerSpec& box = container(web);

    // Scalars: the last file's.
    CHECK(box.image == "web:3");
    // command: replaced (a string split as words).
    CHECK(box.command == Strings{"./run", "--over"});
    // environment: merged per key, list and map forms alike.
    CHECK(web.env == Env{{"A", "1"}, {"B", "20"}, {"C", "3"}});
    // ports: appended; the first is the one published, the second warned where it was written.
    CHECK(web.port == 8080);
    CHECK(box.port == 80);
    const auto second_port = warnings_about(project, "services.web.ports.1");
    REQUIRE(second_port.size() == 1);
    CHECK(second_port[0].location.file == "more.yaml");
    CHECK(second_port[0].location.line == 9);
    CHECK(second_port[0].location.column == 9);
    // volumes: merged by target.
    REQUIRE(box.volumes.size() == 2);
    const VolumeSpec* data = mount(web, "/data");
    REQUIRE(data != nullptr);
    CHECK(data->kind == VolumeSpec::Kind::named);
    CHECK(data->source == "other");
    const VolumeSpec* src = mount(web, "/src");
    REQUIRE(src != nullptr);
    CHECK(src->kind == VolumeSpec::Kind::bind);
    // depends_on: merged.
    CHECK(as_set(web.depends_on) == std::set<std::string>{"db", "cache"});
    // !reset: the labels are gone; !override: the healthcheck is the last file's alone (no
    // interval from the first, no timeout from the second).
    CHECK(box.labels.empty());
    REQUIRE(web.health.has_value());
    CHECK(web.health->kind == ProbeKind::exec);
    CHECK(web.health->command == Strings{"false"});
    CHECK(web.health->interval.count() == 1000);
    CHECK(web.health->timeout.count() == 1000);
    CHECK(container(service(project, "cache")).command.empty());
    CHECK(container(service(project, "db")).image == "db:1");

    for (const char* file : {"compose.yaml", "more.yaml", "last.yaml"}) CHECK(has_file(project, file));
}

TEST_CASE("compose merge: without !override a healthcheck merges key by key") {
    TempDir dir;
    dir.write("compose.yaml", "services:\n  web:\n    image: web\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n"
                              "      interval: 2s\n");
    dir.write("compose.override.yaml", "services:\n  web:\n    healthcheck:\n      test: [\"CMD\", \"false\"]\n"
                                       "      timeout: 3s\n");
    const Project project = load_ok(dir);
    const ServiceSpec& web = service(project, "web");
    REQUIRE(web.health.has_value());
    CHECK(web.health->command == Strings{"false"});
    CHECK(web.health->interval.count() == 2000);
    CHECK(web.health->timeout.count() == 3000);
}

TEST_CASE("compose merge: an error in the override file names the override file and its line") {
    SUBCASE("found while translating") {
        TempDir dir;
        dir.write("compose.yaml", "services:\n  web:\n    image: web\n");
        dir.write("compose.override.yaml", "services:\n  web:\n    ports:\n      - abc\n");
        const Error error = load_error(dir);
        INFO(error.to_string());
        CHECK(error.code == ErrorCode::invalid_value);
        CHECK(error.location.file == "compose.override.yaml");
        CHECK(error.location.line == 4);
        CHECK(error.location.column == 9);
        CHECK(error.message.find("'abc' is not a port") != std::string::npos);
    }
    SUBCASE("found by the tandem.yaml parser") {
        TempDir dir;
        dir.write("compose.yaml", "services:\n  web:\n    image: web\n");
        dir.write("compose.override.yaml", "services:\n  web:\n    user: [a, b]\n");
        const Error error = load_error(dir);
        INFO(error.to_string());
        CHECK(error.code == ErrorCode::invalid_value);
        CHECK(error.location.file == "compose.override.yaml");
        CHECK(error.location.line == 3);
        CHECK(error.location.column == 11);
        CHECK(error.message.find("'services.web.user'") != std::string::npos);
    }
    SUBCASE("in a list merged with the base file's list") {
        TempDir dir;
        dir.write("compose.yaml", "services:\n  web:\n    image: web\n    depends_on: [db]\n  db:\n    image: db\n");
        dir.write("compose.override.yaml", "services:\n  web:\n    depends_on: [dbb]\n");
        const Error error = load_error(dir);
        INFO(error.to_string());
        CHECK(error.code == ErrorCode::unknown_reference);
        CHECK(error.location.file == "compose.override.yaml");
        CHECK(error.location.line == 3);
        CHECK(error.location.column == 18);
        CHECK(error.message.find("unknown service 'dbb' (did you mean 'db'?)") != std::string::npos);
    }
}

// --- variables ---

TEST_CASE("compose merge: variables come from the environment, then .env, with defaults and $$") {
    TempDir dir;
    dir.write(".env", "IMAGE=from-dotenv:1\nONLY_IN_DOTENV=dotenv-value\n");
    dir.write("compose.yaml",
              "services:\n"
              "  web:\n"
              "    image: ${IMAGE}\n"
              "    command: echo $$HOME ${GREETING:-hello}\n"
              "    environment:\n"
              "      FROM_DOTENV: ${ONLY_IN_DOTENV}\n"
              "      DEFAULTED: ${UNSET:-fallback}\n"
              "      EMPTY_COLON: ${EMPTY:-used}\n"
              "      EMPTY_DASH: ${EMPTY-kept}x\n"
              "      SET_PLUS: ${ONLY_IN_DOTENV:+plus}\n"
              "      PRICE: $$5\n");
    const Project project = load_ok(dir, options_with({{"IMAGE", "from-env:1"}, {"EMPTY", ""}}));
    const ServiceSpec& web = service(project, "web");
    CHECK(container(web).image == "from-env:1");
    CHECK(container(web).command == Strings{"echo", "$HOME", "hello"});
    CHECK(env(web, "FROM_DOTENV") == "dotenv-value");
    CHECK(env(web, "DEFAULTED") == "fallback");
    CHECK(env(web, "EMPTY_COLON") == "used");
    CHECK(env(web, "EMPTY_DASH") == "x");
    CHECK(env(web, "SET_PLUS") == "plus");
    CHECK(env(web, "PRICE") == "$5");
    CHECK(has_file(project, ".env"));

    // Without the environment's IMAGE, .env's.
    CHECK(container(service(load_ok(dir), "web")).image == "from-dotenv:1");
}

TEST_CASE("compose merge: $$ in an anchor used twice through aliases stays one $") {
    TempDir dir;
    dir.write("compose.yaml",
              "x-command: &command \"echo $$USER\"\n"
              "x-env: &env\n"
              "  PRICE: $$5\n"
              "services:\n"
              "  a:\n"
              "    image: a\n"
              "    command: *command\n"
              "    environment: *env\n"
              "  b:\n"
              "    image: b\n"
              "    command: *command\n"
              "    environment: *env\n");
    const Project project = load_ok(dir, options_with({{"USER", "someone"}}));
    for (const char* name : {"a", "b"}) {
        INFO(name);
        CHECK(container(service(project, name)).command == Strings{"echo", "$USER"});
        CHECK(env(service(project, name), "PRICE") == "$5");
    }
}

TEST_CASE("compose merge: YAML merge keys take the anchor's keys, the keys written win") {
    TempDir dir;
    dir.write("compose.yaml",
              "x-base: &base\n"
              "  image: base:1\n"
              "  user: \"1000\"\n"
              "  environment:\n"
              "    FROM: base\n"
              "x-first: &first\n"
              "  stop_grace_period: 3s\n"
              "x-second: &second\n"
              "  stop_grace_period: 9s\n"
              "  working_dir: /srv\n"
              "services:\n"
              "  web:\n"
              "    <<: *base\n"
              "    image: web:1\n"
              "  worker:\n"
              "    <<: [*first, *second]\n"
              "    image: worker:1\n");
    const Project project = load_ok(dir);
    const ServiceSpec& web = service(project, "web");
    CHECK(container(web).image == "web:1");
    CHECK(web.user == "1000");
    CHECK(web.env == Env{{"FROM", "base"}});
    const ServiceSpec& worker = service(project, "worker");
    CHECK(worker.stop_grace.count() == 3000);
    CHECK(container(worker).working_dir == "/srv");
}

// --- profiles ---

TEST_CASE("compose merge: a service only in a profile exists when the profile is active") {
    TempDir dir;
    dir.write("compose.yaml",
              "services:\n"
              "  web:\n"
              "    image: web\n"
              "  debug:\n"
              "    image: debug\n"
              "    profiles: [tools]\n");
    CHECK(service_names(load_ok(dir)) == Strings{"web"});
    CHECK(service_names(load_ok(dir, options_with({}, {}, {"tools"}))) == Strings{"web", "debug"});
    CHECK(service_names(load_ok(dir, options_with({{"COMPOSE_PROFILES", "other,tools"}}))) == Strings{"web", "debug"});
    CHECK(service_names(load_ok(dir, options_with({{"COMPOSE_PROFILES", "other"}}))) == Strings{"web"});
}

TEST_CASE("compose merge: depending on a service whose profile is off is an error naming the profile, unless not required") {
    SUBCASE("required") {
        TempDir dir;
        dir.write("compose.yaml",
                  "services:\n"
                  "  web:\n"
                  "    image: web\n"
                  "    depends_on: [debug]\n"
                  "  debug:\n"
                  "    image: debug\n"
                  "    profiles: [tools]\n");
        const Error error = load_error(dir);
        INFO(error.to_string());
        CHECK(error.code == ErrorCode::invalid_value);
        CHECK(error.location.file == "compose.yaml");
        CHECK(error.location.line == 4);
        CHECK(error.location.column == 18);
        CHECK(error.message.find("'debug' is only in profile(s) tools") != std::string::npos);
        CHECK(error.message.find("--profile tools") != std::string::npos);
        CHECK(service(load_ok(dir, options_with({}, {}, {"tools"})), "web").depends_on == Strings{"debug"});
    }
    SUBCASE("required: false") {
        TempDir dir;
        dir.write("compose.yaml",
                  "services:\n"
                  "  web:\n"
                  "    image: web\n"
                  "    depends_on:\n"
                  "      debug:\n"
                  "        condition: service_started\n"
                  "        required: false\n"
                  "  debug:\n"
                  "    image: debug\n"
                  "    profiles: [tools]\n");
        const Project without = load_ok(dir);
        CHECK(service_names(without) == Strings{"web"});
        CHECK(service(without, "web").depends_on.empty());
        CHECK(service(load_ok(dir, options_with({}, {}, {"tools"})), "web").depends_on == Strings{"debug"});
    }
}

// --- the project ---

TEST_CASE("compose merge: the project's name is name:, else the directory's") {
    TempDir dir;
    dir.write("compose.yaml", "name: shop\nservices:\n  web:\n    image: web\n");
    CHECK(load_ok(dir).spec.project == "shop");

    TempDir unnamed;
    unnamed.write("compose.yaml", "services:\n  web:\n    image: web\n");
    CHECK(load_ok(unnamed).spec.project == unnamed.path().filename().string());
}

TEST_CASE("compose merge: each warning comes once, at the file, line and column of its key") {
    TempDir dir;
    dir.write("compose.yaml",
              "x-common: &common\n"
              "  image: app\n"
              "  stop_signal: SIGINT\n"
              "services:\n"
              "  web:\n"
              "    image: nginx\n"
              "    container_name: my-web\n"
              "    tty: true\n"
              "    restart: \"no\"\n"
              "  a:\n"
              "    <<: *common\n"
              "  b:\n"
              "    <<: *common\n");
    dir.write("compose.override.yaml", "services:\n  web:\n    hostname: web.local\n");
    const Project project = load_ok(dir);
    INFO(listing(project.warnings));

    const auto container_name = warnings_about(project, "services.web.container_name");
    REQUIRE(container_name.size() == 1);
    CHECK(container_name[0].code == ErrorCode::unknown_key);
    CHECK(container_name[0].to_string().rfind("compose.yaml:7:5: 'services.web.container_name': ignored: ", 0) == 0);

    // Said once: "ignored: ignored: ..." is not.
    const auto tty = warnings_about(project, "services.web.tty");
    REQUIRE(tty.size() == 1);
    CHECK(tty[0].location.to_string() == "compose.yaml:8:5");
    CHECK(tty[0].message.find("ignored: ignored") == std::string::npos);
    for (const Error& warning : project.warnings) CHECK(warning.message.find("ignored: ignored") == std::string::npos);

    // At the key, as every warning is, though what is warned about is its value.
    const auto restart = warnings_about(project, "services.web.restart");
    REQUIRE(restart.size() == 1);
    CHECK(restart[0].location.to_string() == "compose.yaml:9:5");

    const auto hostname = warnings_about(project, "services.web.hostname");
    REQUIRE(hostname.size() == 1);
    CHECK(hostname[0].location.file == "compose.override.yaml");
    CHECK(hostname[0].location.line == 3);
    CHECK(hostname[0].location.column == 5);

    // The anchor's key, once for each service that takes it.
    for (const char* name : {"a", "b"}) {
        const auto stop_signal = warnings_about(project, std::string("services.") + name + ".stop_signal");
        REQUIRE(stop_signal.size() == 1);
        CHECK(stop_signal[0].location.to_string() == "compose.yaml:3:3");
    }

    std::set<std::string> seen;
    for (const Error& warning : project.warnings) CHECK(seen.insert(warning.to_string()).second);
}

TEST_CASE("compose merge: the project's files are compose.yaml, the override, .env and the env files") {
    TempDir dir;
    dir.write(".env", "TAG=1\n");
    dir.write("web.env", "LEVEL=debug\n");
    dir.write("compose.yaml", "services:\n  web:\n    image: web:${TAG}\n    env_file: web.env\n");
    dir.write("compose.override.yaml", "services:\n  web:\n    environment:\n      MORE: \"1\"\n");
    const Project project = load_ok(dir);
    for (const char* file : {"compose.yaml", "compose.override.yaml", ".env", "web.env"}) {
        INFO(file);
        CHECK(has_file(project, file));
    }
    CHECK(container(service(project, "web")).image == "web:1");
    CHECK(service(project, "web").env == Env{{"LEVEL", "debug"}, {"MORE", "1"}});
}

// --- devloop convert ---

TEST_CASE("compose merge: the converted tandem.yaml loads to services with the same fingerprints") {
    TempDir dir;
    dir.write("web/package.json", "{}\n");
    dir.write("web/Dockerfile.dev", "FROM node:20\n");
    dir.write("web.env", "LOG_LEVEL=debug\n");
    dir.write("compose.yaml",
              "name: shop\n"
              "x-tandem:\n"
              "  policy: wip\n"
              "services:\n"
              "  web:\n"
              "    build:\n"
              "      context: ./web\n"
              "      dockerfile: Dockerfile.dev\n"
              "      target: dev\n"
              "      args:\n"
              "        NODE_VERSION:\n"
              "        APP_MODE: dev\n"
              "    command: npm run dev -- --port 8080\n"
              "    entrypoint: [\"/usr/bin/tini\", \"--\"]\n"
              "    environment:\n"
              "      NODE_ENV: development\n"
              "      API_URL: http://api.internal:8000\n"
              "    env_file: web.env\n"
              "    ports:\n"
              "      - 3000:8080\n"
              "    volumes:\n"
              "      - node_modules:/app/node_modules\n"
              "      - ./web/public:/app/public:ro\n"
              "      - type: tmpfs\n"
              "        target: /tmp/cache\n"
              "    healthcheck:\n"
              "      test: [\"CMD-SHELL\", \"curl -f http://localhost:8080/health || exit 1\"]\n"
              "      interval: 5s\n"
              "      timeout: 2s\n"
              "      retries: 5\n"
              "      start_period: 10s\n"
              "    depends_on:\n"
              "      migrate:\n"
              "        condition: service_completed_successfully\n"
              "      db:\n"
              "        condition: service_healthy\n"
              "    develop:\n"
              "      watch:\n"
              "        - path: ./web/src\n"
              "          action: sync+restart\n"
              "          target: /app/src\n"
              "          ignore:\n"
              "            - node_modules/\n"
              "            - \"*.log\"\n"
              "        - path: ./web/package.json\n"
              "          action: rebuild\n"
              "    labels:\n"
              "      com.example.tier: frontend\n"
              "    networks:\n"
              "      default:\n"
              "        aliases: [frontend, www]\n"
              "    extra_hosts:\n"
              "      - host.docker.internal:host-gateway\n"
              "    user: \"1000:1000\"\n"
              "    working_dir: /app\n"
              "    stop_grace_period: 1m30s\n"
              "    x-tandem:\n"
              "      overrides:\n"
              "        wip:\n"
              "          replicas: 2\n"
              "  db:\n"
              "    image: postgres:16\n"
              "    environment:\n"
              "      POSTGRES_PASSWORD: secret\n"
              "    volumes:\n"
              "      - pgdata:/var/lib/postgresql/data\n"
              "    ports: [\"5432:5432\"]\n"
              "    healthcheck:\n"
              "      test: [\"CMD\", \"pg_isready\", \"-U\", \"postgres\"]\n"
              "      interval: 1s\n"
              "  migrate:\n"
              "    image: shop-migrate:dev\n"
              "    command: [\"./migrate\", \"up\"]\n"
              "    depends_on:\n"
              "      db:\n"
              "        condition: service_healthy\n"
              "volumes:\n"
              "  node_modules: {}\n"
              "  pgdata: {}\n");
    const ProjectOptions options = options_with({{"NODE_VERSION", "20"}});
    const Project compose = load_ok(dir, options);

    // What the compose project is, so that the comparison below compares something.
    const ServiceSpec& web = service(compose, "web");
    CHECK(web.port == 3000);
    CHECK(container(web).port == 8080);
    CHECK(web.replicas == 2);
    CHECK(web.stop_grace.count() == 90'000);
    CHECK(container(web).command == Strings{"npm", "run", "dev", "--", "--port", "8080"});
    CHECK(env(web, "LOG_LEVEL") == "debug");
    REQUIRE(container(web).build.has_value());
    CHECK(container(web).build->target == "dev");
    CHECK(container(web).build->args == Env{{"NODE_VERSION", "20"}, {"APP_MODE", "dev"}});
    REQUIRE(web.health.has_value());
    CHECK(web.health->command == Strings{"/bin/sh", "-c", "curl -f http://localhost:8080/health || exit 1"});
    CHECK(web.health->interval.count() == 5000);
    CHECK(web.health->timeout.count() == 2000);
    CHECK(web.health->failure_threshold == 5);
    CHECK(container(web).aliases == Strings{"frontend", "www"});
    CHECK(container(web).extra_hosts == Strings{"host.docker.internal:host-gateway"});
    CHECK(container(web).working_dir == "/app");
    CHECK(web.user == "1000:1000");
    CHECK(as_set(web.depends_on) == std::set<std::string>{"migrate", "db"});
    CHECK(service(compose, "migrate").job);
    REQUIRE(web.watch.size() == 2);
    CHECK(web.watch[0].paths == Strings{"web/src/**"});
    CHECK(web.watch[0].action == WatchAction::sync);
    CHECK(web.watch[0].restart_after_sync);
    CHECK(web.watch[0].target == "/app/src");
    CHECK(web.watch[0].ignore == Strings{"web/src/**/node_modules", "web/src/**/node_modules/**", "web/src/**/*.log",
                                         "web/src/**/*.log/**"});
    CHECK(web.watch[1].paths == Strings{"web/package.json"});
    CHECK(web.watch[1].action == WatchAction::rebuild);

    auto converted = to_tandem_yaml(disk_reader(dir.path()), options);
    REQUIRE_MESSAGE(converted.ok(), converted.error().to_string());
    INFO(*converted);
    CHECK(converted->rfind("# tandem.yaml converted from compose.yaml", 0) == 0);
    TempDir fresh;
    fresh.write("tandem.yaml", *converted);
    const Project tandem = load_ok(fresh, options);

    CHECK(tandem.spec.project == compose.spec.project);
    CHECK(tandem.policy.name == compose.policy.name);
    REQUIRE(service_names(tandem) == service_names(compose));
    for (const ServiceSpec& original : compose.spec.services) {
        const ServiceSpec& copy = service(tandem, original.name);
        INFO(original.name);
        CHECK(fingerprint(tandem.spec, copy) == fingerprint(compose.spec, original));
        // Left out of the fingerprint, and still the same.
        CHECK(copy.depends_on == original.depends_on);
        CHECK(copy.job == original.job);
        REQUIRE(copy.watch.size() == original.watch.size());
        for (std::size_t i = 0; i < copy.watch.size(); ++i) {
            CHECK(copy.watch[i].paths == original.watch[i].paths);
            CHECK(copy.watch[i].action == original.watch[i].action);
            CHECK(copy.watch[i].target == original.watch[i].target);
            CHECK(copy.watch[i].ignore == original.watch[i].ignore);
            CHECK(copy.watch[i].restart_after_sync == original.watch[i].restart_after_sync);
            CHECK(copy.watch[i].command == original.watch[i].command);
        }
        REQUIRE(copy.container.has_value() == original.container.has_value());
        if (!copy.container) continue;
        CHECK(copy.container->labels == original.container->labels);
        CHECK(copy.container->aliases == original.container->aliases);
        CHECK(copy.container->extra_hosts == original.container->extra_hosts);
        CHECK(copy.container->working_dir == original.container->working_dir);
        CHECK(copy.container->entrypoint == original.container->entrypoint);
    }
}
