// Real-world shapes (issue 16): compose projects written after the shapes of public sample
// applications (tests/fixtures/compose/<shape>/), each loaded as a tandem project and planned
// from nothing. Each case asserts the spec the compose file translates to, the warnings it gets
// (key and file:line:col) and that the plan starts every service; the refused shapes assert the
// error's code, file, line, column and message.
#include <doctest/doctest.h>

#include <tandem/observed.hpp>
#include <tandem/plan.hpp>
#include <tandem/project.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

// Lists, pairs and optionals shown by value when a check fails.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
    static String convert(const std::vector<std::string>& values) {
        std::string text = "[";
        for (const std::string& value : values) text += (text.size() > 1 ? ", \"" : "\"") + value + "\"";
        return (text + "]").c_str();
    }
};
template <>
struct StringMaker<std::vector<std::pair<std::string, std::string>>> {
    static String convert(const std::vector<std::pair<std::string, std::string>>& values) {
        std::string text = "{";
        for (const auto& [key, value] : values) text += (text.size() > 1 ? ", " : "") + key + "=" + value;
        return (text + "}").c_str();
    }
};
template <>
struct StringMaker<std::optional<std::string>> {
    static String convert(const std::optional<std::string>& value) {
        return value ? ("\"" + *value + "\"").c_str() : "(unset)";
    }
};
template <>
struct StringMaker<std::optional<std::vector<std::string>>> {
    static String convert(const std::optional<std::vector<std::string>>& value) {
        return value ? StringMaker<std::vector<std::string>>::convert(*value) : String("(unset)");
    }
};
}  // namespace doctest

using namespace tandem;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;

using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using Variables = std::map<std::string, std::string>;

fs::path fixture(const std::string& shape) { return fs::path(TANDEM_SOURCE_DIR) / "tests/fixtures/compose" / shape; }

// The options devloop passes (wip unless told), with the variables interpolation sees given here
// rather than taken from this process's environment.
ProjectOptions options_for(Variables environment = {}, Strings profiles = {}, std::string default_policy = "wip") {
    ProjectOptions options;
    options.default_policy = std::move(default_policy);
    options.environment = std::move(environment);
    options.profiles = std::move(profiles);
    return options;
}

ProjectOptions harness_options(Variables environment = {}) { return options_for(std::move(environment), {}, "harness"); }

Project load_shape(const std::string& shape, const ProjectOptions& options = options_for()) {
    auto project = load_project(fixture(shape), options);
    REQUIRE_MESSAGE(project.ok(), shape << ": " << project.error().to_string());
    return std::move(*project);
}

Error load_shape_error(const std::string& shape, const ProjectOptions& options = options_for()) {
    auto project = load_project(fixture(shape), options);
    REQUIRE_MESSAGE(!project.ok(), shape << " loaded, though it should be refused");
    return project.error();
}

Strings service_names(const Project& project) {
    Strings names;
    for (const ServiceSpec& spec : project.spec.services) names.push_back(spec.name);
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

const ImageBuildSpec& image_build(const ServiceSpec& spec) {
    const ContainerSpec& box = container(spec);
    REQUIRE_MESSAGE(box.build.has_value(), "'" << spec.name << "' has no image build");
    return *box.build;
}

// The value a container gets for `key` (the last one written wins), if any.
std::optional<std::string> env(const ServiceSpec& spec, const std::string& key) {
    std::optional<std::string> value;
    for (const auto& [name, text] : spec.env)
        if (name == key) value = text;
    return value;
}

std::set<std::string> env_keys(const ServiceSpec& spec) {
    std::set<std::string> keys;
    for (const auto& entry : spec.env) keys.insert(entry.first);
    return keys;
}

// The mount at `target` in the container.
const VolumeSpec& mount(const ServiceSpec& spec, const std::string& target) {
    const auto& volumes = container(spec).volumes;
    const auto found =
        std::find_if(volumes.begin(), volumes.end(), [&](const VolumeSpec& volume) { return volume.target == target; });
    REQUIRE_MESSAGE(found != volumes.end(), "'" << spec.name << "' mounts nothing at " << target);
    return *found;
}

void check_mount(const ServiceSpec& spec, const std::string& target, VolumeSpec::Kind kind, const std::string& source,
                 bool read_only = false) {
    const VolumeSpec& volume = mount(spec, target);
    INFO(spec.name << " mounts '" << volume.text << "' at " << target);
    CHECK(volume.kind == kind);
    CHECK(volume.source == source);
    CHECK(volume.read_only == read_only);
}

const HealthSpec& health(const ServiceSpec& spec) {
    REQUIRE_MESSAGE(spec.health.has_value(), "'" << spec.name << "' has no health check");
    return *spec.health;
}

void check_exec_health(const ServiceSpec& spec, const Strings& command, Duration interval, int failure_threshold) {
    const HealthSpec& check = health(spec);
    INFO(spec.name << "'s health check");
    CHECK(check.kind == ProbeKind::exec);
    CHECK(check.command == command);
    CHECK(check.interval == interval);
    CHECK(check.failure_threshold == failure_threshold);
}

Strings shell(const std::string& text) { return {"/bin/sh", "-c", text}; }

std::string files_read(const Project& project) {
    std::string all = "files read:";
    for (const std::string& name : project.files) all += " " + name;
    return all;
}

bool has_file(const Project& project, const std::string& file) {
    return std::find(project.files.begin(), project.files.end(), file) != project.files.end();
}

std::string listing(const std::vector<Error>& errors) {
    std::string text;
    for (const Error& error : errors) text += std::string("\n  ") + to_string(error.code) + " " + error.to_string();
    return text.empty() ? " none" : text;
}

// The codes of warnings (compose-decisions.md, docs/compose.md): a key tandem ignores is
// `unknown_key`; a value taken otherwise than written (a port published on 127.0.0.1 only, a
// second port, `restart: "no"`, an anonymous volume, a mount option) is `invalid_value`.
constexpr ErrorCode kIgnoredKey = ErrorCode::unknown_key;
constexpr ErrorCode kOtherwise = ErrorCode::invalid_value;
// What the warning of a port written without an address says (docs/compose.md, ports).
const std::string kLocalOnly = "published on 127.0.0.1 only (compose publishes on every interface)";

// A warning expected at `where` ("compose.yaml:9:3"), with `code`, whose message holds `says`.
struct Expected {
    std::string where;
    ErrorCode code;
    std::string says;
};

// The project has exactly these warnings (in any order).
void check_warnings(const Project& project, const std::vector<Expected>& expected) {
    INFO("warnings:" << listing(project.warnings));
    CHECK(project.warnings.size() == expected.size());
    for (const Expected& want : expected) {
        const bool found = std::any_of(project.warnings.begin(), project.warnings.end(), [&](const Error& warning) {
            return warning.location.to_string() == want.where && warning.code == want.code &&
                   warning.message.find(want.says) != std::string::npos;
        });
        CHECK_MESSAGE(found, "expected a warning " << std::string(to_string(want.code)) << " at " << want.where << " saying '"
                                                   << want.says << "'");
    }
}

void check_error(const Error& error, ErrorCode code, const std::string& where, const std::string& says) {
    INFO("error: " << std::string(to_string(error.code)) << " " << error.to_string());
    CHECK(error.code == code);
    CHECK(error.location.to_string() == where);
    CHECK(error.message.find(says) != std::string::npos);
}

Result<Plan> plan_from_nothing(const Project& project, bool bootstrap = false) {
    PlanRequest request;
    request.bootstrap = bootstrap;
    return make_plan(project.spec, Observed{}, project.policy, request);
}

// The wave (0-based) whose steps start `name`; -1 when no wave does.
int start_wave(const Plan& plan, const std::string& name) {
    for (std::size_t wave = 0; wave < plan.waves.size(); ++wave)
        for (const Step& step : plan.waves[wave].steps)
            for (const Action& action : step.actions)
                if (action.kind == ActionKind::start && action.service == name) return static_cast<int>(wave);
    return -1;
}

const Action& start_action(const Plan& plan, const std::string& name) {
    const Action* found = nullptr;
    for (const Wave& wave : plan.waves)
        for (const Step& step : wave.steps)
            for (const Action& action : step.actions)
                if (action.kind == ActionKind::start && action.service == name) found = &action;
    REQUIRE_MESSAGE(found != nullptr, "the plan does not start '" << name << "'");
    return *found;
}

// Planning the project from nothing starts every service of its spec once, after what it depends on.
Plan check_starts_everything(const Project& project, bool bootstrap = false) {
    auto plan = plan_from_nothing(project, bootstrap);
    REQUIRE_MESSAGE(plan.ok(), plan.error().to_string());
    CHECK(plan->bootstrap);
    CHECK(plan->waiting.empty());
    std::multiset<std::string> started;
    for (const Wave& wave : plan->waves)
        for (const Step& step : wave.steps)
            for (const Action& action : step.actions)
                if (action.kind == ActionKind::start) started.insert(action.service);
    const Strings names = service_names(project);
    CHECK(started == std::multiset<std::string>(names.begin(), names.end()));
    for (const ServiceSpec& spec : project.spec.services) {
        for (const std::string& dependency : spec.depends_on) {
            INFO(spec.name << " depends on " << dependency);
            CHECK(start_wave(*plan, dependency) < start_wave(*plan, spec.name));
        }
    }
    return std::move(*plan);
}

const WatchRule& rule(const ServiceSpec& spec, std::size_t index) {
    REQUIRE_MESSAGE(spec.watch.size() > index, "'" << spec.name << "' has " << spec.watch.size() << " watch rules");
    return spec.watch[index];
}

}  // namespace

TEST_CASE("compose shape: django with celery worker and beat from one x- anchor and a migrate job") {
    const Project project = load_shape("django-celery");
    CHECK(project.spec.project == "django-celery");
    CHECK(service_names(project) == Strings{"web", "worker", "beat", "migrate", "db", "redis"});
    check_warnings(project, {{"docker-compose.yml:26:9", kOtherwise, "'services.web.ports.0': " + kLocalOnly}});
    CHECK_MESSAGE(has_file(project, "docker-compose.yml"), files_read(project));
    CHECK_MESSAGE(has_file(project, ".env.django"), files_read(project));

    const ServiceSpec& web = service(project, "web");
    const ImageBuildSpec& build = image_build(web);
    CHECK(container(web).image.empty());
    CHECK(build.context == ".");
    CHECK(build.dockerfile == "compose/Dockerfile");
    CHECK(build.target == "dev");
    CHECK(build.args == Pairs{{"PYTHON_VERSION", "3.12"}, {"REQUIREMENTS", "requirements/dev.txt"}});
    CHECK(container(web).command == Strings{"python", "manage.py", "runserver", "0.0.0.0:8000"});
    CHECK(web.port == 8000);
    CHECK(web.listen_port() == 8000);
    // environment wins over env_file; env_file fills in the rest.
    CHECK(env(web, "DJANGO_SETTINGS_MODULE") == "shop.settings.local");
    CHECK(env(web, "CELERY_BROKER_URL") == "redis://redis:6379/0");
    CHECK(env(web, "DATABASE_URL") == "postgres://shop:shop-dev-only@db:5432/shop");
    CHECK(env(web, "DJANGO_DEBUG") == "1");
    CHECK(web.depends_on == Strings{"redis", "migrate"});
    CHECK_FALSE(web.job);
    check_mount(web, "/srv/shop", VolumeSpec::Kind::bind, ".");  // `.:/srv/shop`: the project directory
    CHECK(container(service(project, "worker")).volumes.empty());

    const ServiceSpec& worker = service(project, "worker");
    CHECK(image_build(worker).target == "dev");
    CHECK(container(worker).command == Strings{"celery", "--app", "shop", "worker", "--loglevel", "INFO", "--concurrency", "2"});
    CHECK(worker.port == 0);
    CHECK(worker.depends_on == Strings{"redis", "migrate"});
    CHECK(env(worker, "DATABASE_URL") == "postgres://shop:shop-dev-only@db:5432/shop");

    const ServiceSpec& beat = service(project, "beat");
    CHECK(container(beat).command == Strings{"celery", "--app", "shop", "beat", "--schedule", "/tmp/celerybeat-schedule"});

    const ServiceSpec& migrate = service(project, "migrate");
    CHECK(migrate.job);  // web waits for it to complete
    CHECK(migrate.port == 0);
    CHECK(image_build(migrate).args.empty());
    CHECK(container(migrate).command == Strings{"python", "manage.py", "migrate", "--noinput"});
    CHECK(migrate.depends_on == Strings{"db"});
    CHECK(env(migrate, "DJANGO_SETTINGS_MODULE") == "shop.settings.base");  // from the env_file alone

    const ServiceSpec& db = service(project, "db");
    CHECK(container(db).image == "postgres:16-alpine");
    CHECK_FALSE(container(db).build.has_value());
    check_mount(db, "/var/lib/postgresql/data", VolumeSpec::Kind::named, "pgdata");
    // `$$` is a literal `$`: the shell in the container expands the variables.
    check_exec_health(db, shell("pg_isready --username=${POSTGRES_USER} --dbname=${POSTGRES_DB}"), 2s, 15);
    CHECK(health(db).timeout == 3s);
    CHECK(env(db, "POSTGRES_PASSWORD") == "shop-dev-only");

    const ServiceSpec& redis = service(project, "redis");
    CHECK(container(redis).image == "redis:7-alpine");
    CHECK(container(redis).command.empty());
    CHECK(redis.port == 0);
    CHECK_FALSE(redis.health.has_value());

    const Plan plan = check_starts_everything(project);
    CHECK(start_wave(plan, "db") < start_wave(plan, "migrate"));
    CHECK(start_wave(plan, "migrate") < start_wave(plan, "worker"));
}

TEST_CASE("compose shape: rails and sidekiq share an anchor whose tty and stdin_open are warned for each") {
    const Project project = load_shape("rails-sidekiq");
    CHECK(project.spec.project == "storefront");
    CHECK(service_names(project) == Strings{"rails", "sidekiq", "postgres", "redis"});
    // Keys written once in the anchor are warned for each service that merges it, at the anchor.
    check_warnings(project, {
                                {"compose.yaml:9:3", kIgnoredKey, "'services.rails.tty'"},
                                {"compose.yaml:10:3", kIgnoredKey, "'services.rails.stdin_open'"},
                                {"compose.yaml:9:3", kIgnoredKey, "'services.sidekiq.tty'"},
                                {"compose.yaml:10:3", kIgnoredKey, "'services.sidekiq.stdin_open'"},
                            });

    const ServiceSpec& rails = service(project, "rails");
    CHECK(image_build(rails).context == ".");
    CHECK(image_build(rails).dockerfile == "Dockerfile");
    CHECK(image_build(rails).target.empty());
    CHECK(image_build(rails).args == Pairs{{"RUBY_VERSION", "3.3.0"}, {"BUNDLE_WITHOUT", ""}});
    CHECK(container(rails).entrypoint == std::optional<Strings>(Strings{"./bin/docker-entrypoint"}));
    CHECK(container(rails).command == Strings{"bin/rails", "server", "--binding", "0.0.0.0", "--port", "3000"});
    CHECK(rails.port == 3000);
    CHECK(rails.listen_port() == 3000);
    CHECK(rails.depends_on == Strings{"postgres", "redis"});
    CHECK(env(rails, "RAILS_ENV") == "development");
    CHECK(env(rails, "REDIS_URL") == "redis://redis:6379/1");
    check_mount(rails, "/usr/local/bundle", VolumeSpec::Kind::named, "bundle");

    const ServiceSpec& sidekiq = service(project, "sidekiq");
    CHECK(container(sidekiq).command == Strings{"bundle", "exec", "sidekiq", "--config", "config/sidekiq.yml"});
    CHECK_FALSE(container(sidekiq).entrypoint.has_value());
    CHECK(sidekiq.port == 0);
    CHECK(env_keys(sidekiq) == std::set<std::string>{"RAILS_ENV", "DATABASE_URL", "REDIS_URL", "SIDEKIQ_CONCURRENCY"});
    CHECK(env(sidekiq, "SIDEKIQ_CONCURRENCY") == "5");

    const ServiceSpec& postgres = service(project, "postgres");
    check_exec_health(postgres, shell("pg_isready -U postgres"), 5s, 3);
    check_mount(postgres, "/var/lib/postgresql/data", VolumeSpec::Kind::named, "postgres");

    const ServiceSpec& redis = service(project, "redis");
    CHECK(container(redis).command == Strings{"redis-server", "--appendonly", "yes"});
    check_mount(redis, "/data", VolumeSpec::Kind::named, "redis");

    check_starts_everything(project);
}

TEST_CASE("compose shape: node api and mongo with develop.watch sync and rebuild and a debug profile") {
    const Project project = load_shape("node-mongo-watch");
    CHECK(service_names(project) == Strings{"api", "mongo"});
    check_warnings(project, {{"compose.yaml:14:9", kOtherwise, "'services.api.ports.0': " + kLocalOnly}});

    const ServiceSpec& api = service(project, "api");
    CHECK(image_build(api).context == "api");
    CHECK(image_build(api).target == "dev");
    CHECK(image_build(api).args == Pairs{{"NODE_VERSION", "20"}});
    CHECK(container(api).command == Strings{"npm", "run", "dev"});
    CHECK(api.port == 3000);  // `3000:3000` unquoted is a string to compose, not a base-60 number
    CHECK(api.listen_port() == 3000);
    CHECK(env(api, "MONGO_URL") == "mongodb://mongo:27017/notes");
    CHECK(env(api, "PORT") == "3000");
    CHECK(api.depends_on == Strings{"mongo"});
    REQUIRE(api.watch.size() == 2);
    CHECK(rule(api, 0).paths == Strings{"api/src/**"});
    CHECK(rule(api, 0).action == WatchAction::sync);
    CHECK(rule(api, 0).target == "/usr/src/app/src");
    // Under the rule's path; a pattern covers what is below what it matches too.
    CHECK(rule(api, 0).ignore == Strings{"api/src/**/*.test.js", "api/src/**/*.test.js/**"});
    CHECK_FALSE(rule(api, 0).restart_after_sync);
    CHECK(rule(api, 1).paths == Strings{"api/package.json"});
    CHECK(rule(api, 1).action == WatchAction::rebuild);
    CHECK(rule(api, 1).target.empty());

    const ServiceSpec& mongo = service(project, "mongo");
    check_mount(mongo, "/data/db", VolumeSpec::Kind::named, "mongo-data");
    check_exec_health(mongo, Strings{"mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"}, 3s, 10);
    CHECK(health(mongo).timeout == 2s);
    check_starts_everything(project);

    const Project debug = load_shape("node-mongo-watch", options_for({}, {"debug"}));
    CHECK(service_names(debug) == Strings{"api", "mongo", "mongo-express"});
    const ServiceSpec& express = service(debug, "mongo-express");
    CHECK(express.port == 8081);
    CHECK(env(express, "ME_CONFIG_BASICAUTH") == "false");
    CHECK(express.depends_on == Strings{"mongo"});
    check_starts_everything(debug);
}

TEST_CASE("compose shape: react and flask with every watch action and ignore patterns") {
    const Project project = load_shape("react-flask-watch");
    CHECK(service_names(project) == Strings{"frontend", "backend"});
    check_warnings(project, {
                                {"compose.yaml:7:9", kOtherwise, "'services.frontend.ports.0': " + kLocalOnly},
                                {"compose.yaml:19:11", kIgnoredKey, "'services.frontend.develop.watch.1.initial_sync'"},
                                {"compose.yaml:29:9", kOtherwise, "'services.backend.ports.0': " + kLocalOnly},
                            });

    const ServiceSpec& frontend = service(project, "frontend");
    CHECK(image_build(frontend).context == "frontend");
    CHECK(image_build(frontend).target == "development");
    CHECK(container(frontend).command == Strings{"npm", "run", "dev", "--", "--host", "0.0.0.0"});
    CHECK(frontend.port == 5173);
    CHECK(frontend.depends_on == Strings{"backend"});
    REQUIRE(frontend.watch.size() == 3);
    CHECK(rule(frontend, 0).paths == Strings{"frontend/src/**"});
    CHECK(rule(frontend, 0).action == WatchAction::sync);
    CHECK(rule(frontend, 0).target == "/app/src");
    CHECK(rule(frontend, 1).paths == Strings{"frontend/public/**"});
    CHECK(rule(frontend, 1).target == "/app/public");
    CHECK(rule(frontend, 2).paths == Strings{"frontend/package.json"});
    CHECK(rule(frontend, 2).action == WatchAction::rebuild);

    const ServiceSpec& backend = service(project, "backend");
    CHECK(image_build(backend).context == "backend");
    CHECK(image_build(backend).dockerfile == "Dockerfile");
    CHECK(container(backend).command == Strings{"flask", "run", "--host", "0.0.0.0", "--port", "5000"});
    CHECK(container(backend).working_dir == "/srv/backend");
    CHECK(backend.port == 5000);
    CHECK(env(backend, "FLASK_DEBUG") == "1");
    REQUIRE(backend.watch.size() == 5);
    // sync of a directory, with gitignore-like patterns relative to the rule's path: one without
    // a '/' inside matches at any depth, and each covers what is below what it matches.
    CHECK(rule(backend, 0).paths == Strings{"backend/app/**"});
    CHECK(rule(backend, 0).action == WatchAction::sync);
    CHECK(rule(backend, 0).target == "/srv/backend/app");
    CHECK(rule(backend, 0).ignore == Strings{"backend/app/**/__pycache__", "backend/app/**/__pycache__/**",
                                             "backend/app/**/*.pyc", "backend/app/**/*.pyc/**"});
    // sync+restart of one file: the target is the directory the file lands in
    CHECK(rule(backend, 1).paths == Strings{"backend/config/settings.toml"});
    CHECK(rule(backend, 1).action == WatchAction::sync);
    CHECK(rule(backend, 1).restart_after_sync);
    CHECK(rule(backend, 1).target == "/srv/backend/config");
    // sync+exec: the files, then the command in the container
    CHECK(rule(backend, 2).paths == Strings{"backend/migrations/**"});
    CHECK(rule(backend, 2).action == WatchAction::sync);
    CHECK(rule(backend, 2).target == "/srv/backend/migrations");
    CHECK(rule(backend, 2).command == "flask db upgrade");
    CHECK_FALSE(rule(backend, 2).restart_after_sync);
    CHECK(rule(backend, 3).paths == Strings{"backend/requirements.txt"});
    CHECK(rule(backend, 3).action == WatchAction::rebuild);
    CHECK(rule(backend, 4).paths == Strings{"backend/gunicorn.conf.py"});
    CHECK(rule(backend, 4).action == WatchAction::restart);

    check_starts_everything(project);
}

TEST_CASE("compose shape: wordpress and mysql with .env values and long volume syntax") {
    const Project project = load_shape("wordpress-mysql");
    CHECK(service_names(project) == Strings{"db", "wordpress"});
    // `version:` is ignored silently.
    check_warnings(project, {{"docker-compose.yml:30:9", kOtherwise, "'services.wordpress.ports.0': " + kLocalOnly}});
    CHECK_MESSAGE(has_file(project, ".env"), files_read(project));

    const ServiceSpec& db = service(project, "db");
    CHECK(container(db).image == "mysql:8.0");
    CHECK(container(db).command == Strings{"--default-authentication-plugin=mysql_native_password"});
    CHECK(env(db, "MYSQL_ROOT_PASSWORD") == "root-local-only");
    CHECK(env(db, "MYSQL_DATABASE") == "wordpress");  // the default: unset in both
    CHECK(env(db, "MYSQL_USER") == "blog");           // from .env
    CHECK(env(db, "MYSQL_PASSWORD") == "blog pass # not a comment");
    CHECK(env(db, "WORDPRESS_PORT") == "8088");  // `env_file: .env`: the same file, read as an env file too
    check_mount(db, "/var/lib/mysql", VolumeSpec::Kind::named, "db_data");
    check_exec_health(db, Strings{"mysqladmin", "ping", "--host=127.0.0.1", "--silent"}, 10s, 5);
    CHECK(health(db).timeout == 5s);

    const ServiceSpec& wordpress = service(project, "wordpress");
    CHECK(container(wordpress).image == "wordpress:6.5-apache");
    CHECK(wordpress.port == 8088);  // WORDPRESS_PORT from .env
    CHECK(wordpress.listen_port() == 80);
    CHECK(container(wordpress).port == 80);
    CHECK(wordpress.depends_on == Strings{"db"});
    CHECK(env(wordpress, "WORDPRESS_DB_HOST") == "db:3306");
    CHECK(env(wordpress, "WORDPRESS_DB_USER") == "blog");
    CHECK(env(wordpress, "WORDPRESS_TABLE_PREFIX") == "wp_");
    check_mount(wordpress, "/var/www/html", VolumeSpec::Kind::named, "wordpress");
    check_mount(wordpress, "/var/www/html/wp-content/themes", VolumeSpec::Kind::bind, "wp-content/themes", true);
    check_mount(wordpress, "/run/lock/apache2", VolumeSpec::Kind::tmpfs, "");
    check_starts_everything(project);

    // The environment wins over .env.
    const Project moved = load_shape("wordpress-mysql", options_for({{"WORDPRESS_PORT", "9090"}, {"WORDPRESS_DB_USER", "ops"}}));
    CHECK(service(moved, "wordpress").port == 9090);
    CHECK(env(service(moved, "db"), "MYSQL_USER") == "ops");
    CHECK(env(service(moved, "db"), "WORDPRESS_PORT") == "8088");  // an env file's values are its own

    // harness refuses the bind mount of the theme directory when it plans.
    const Project harness = load_shape("wordpress-mysql", harness_options());
    CHECK(harness.policy.name == "harness");
    auto refused = plan_from_nothing(harness, true);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::policy_denied);
    CHECK(refused.error().message.find("wp-content/themes") != std::string::npos);
}

TEST_CASE("compose shape: flask and postgres with file secrets and configs on two networks") {
    const Project project = load_shape("flask-postgres-secrets");
    CHECK(service_names(project) == Strings{"backend", "db", "proxy"});
    // Every service is on the one project network: said once.
    check_warnings(project, {
                                {"compose.yaml:45:9", kOtherwise, "'services.proxy.ports.0': " + kLocalOnly},
                                {"compose.yaml:65:3", kOtherwise, "services on different networks here can reach each other"},
                            });

    const ServiceSpec& backend = service(project, "backend");
    CHECK(image_build(backend).context == "backend");
    CHECK(image_build(backend).target == "builder");
    CHECK(backend.port == 0);  // `expose:` publishes nothing
    CHECK(backend.depends_on == Strings{"db"});
    check_mount(backend, "/run/secrets/db-password", VolumeSpec::Kind::bind, "db/password.txt", true);
    CHECK(env(backend, "DB_PASSWORD_FILE") == "/run/secrets/db-password");

    const ServiceSpec& db = service(project, "db");
    check_mount(db, "/run/secrets/postgres_password", VolumeSpec::Kind::bind, "db/password.txt", true);
    check_mount(db, "/var/lib/postgresql/data", VolumeSpec::Kind::named, "db-data");
    check_exec_health(db, shell("PGPASSWORD=$(cat /run/secrets/postgres_password) pg_isready -h 127.0.0.1 -U postgres"),
                      3s, 5);

    const ServiceSpec& proxy = service(project, "proxy");
    CHECK(proxy.port == 8443);
    CHECK(container(proxy).port == 443);
    check_mount(proxy, "/etc/nginx/conf.d/default.conf", VolumeSpec::Kind::bind, "proxy/default.conf", true);
    check_mount(proxy, "/mime-extra", VolumeSpec::Kind::bind, "proxy/mime.types", true);
    check_starts_everything(project);

    // Secrets are bind mounts: harness, which allows none, refuses the plan.
    const Project harness = load_shape("flask-postgres-secrets", harness_options());
    auto refused = plan_from_nothing(harness, true);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::policy_denied);
    CHECK(refused.error().message.find("db/password.txt") != std::string::npos);
}

TEST_CASE("compose shape: kafka and zookeeper with a topics one-shot that becomes a job only with the ui profile") {
    const Project project = load_shape("kafka-zookeeper");
    CHECK(service_names(project) == Strings{"zookeeper", "kafka", "topics"});
    check_warnings(project, {
                                {"docker-compose.yaml:4:5", kIgnoredKey, "'services.zookeeper.hostname'"},
                                {"docker-compose.yaml:6:9", kOtherwise, "'services.zookeeper.ports.0': published on 127.0.0.1:2181"},
                                {"docker-compose.yaml:18:5", kIgnoredKey, "'services.kafka.container_name'"},
                                {"docker-compose.yaml:23:9", kOtherwise, "'services.kafka.ports.0': " + kLocalOnly},
                                {"docker-compose.yaml:24:9", kOtherwise, "'services.kafka.ports.1': published on 127.0.0.1 only"},
                                {"docker-compose.yaml:38:7", kIgnoredKey, "'services.kafka.healthcheck.start_interval'"},
                                {"docker-compose.yaml:49:5", kOtherwise, "'services.topics.restart'"},
                            });

    const ServiceSpec& zookeeper = service(project, "zookeeper");
    CHECK(env(zookeeper, "ZOOKEEPER_CLIENT_PORT") == "2181");
    CHECK(zookeeper.port == 2181);  // `"2181"` alone: published at the same number
    CHECK(zookeeper.listen_port() == 2181);
    check_exec_health(zookeeper, shell("echo ruok | nc -w 2 127.0.0.1 2181 | grep -q imok"), 5s, 12);

    const ServiceSpec& kafka = service(project, "kafka");
    CHECK(kafka.port == 9092);
    CHECK(kafka.listen_port() == 9092);
    CHECK(kafka.depends_on == Strings{"zookeeper"});
    CHECK(env(kafka, "KAFKA_ADVERTISED_LISTENERS") == "PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092");
    CHECK(env(kafka, "KAFKA_BROKER_ID") == "1");
    check_exec_health(kafka, Strings{"kafka-topics", "--bootstrap-server", "localhost:9092", "--list"}, 10s, 6);
    CHECK(health(kafka).timeout == 10s);

    const ServiceSpec& topics = service(project, "topics");
    CHECK_FALSE(topics.job);
    CHECK(container(topics).entrypoint == std::optional<Strings>(Strings{"/bin/bash", "-c"}));
    // One quoted word across the block's two lines, as a shell splits it.
    CHECK(container(topics).command ==
          Strings{"kafka-topics --bootstrap-server kafka:29092 --create --if-not-exists --topic orders --partitions 3 "
                  "--replication-factor 1\n kafka-topics --bootstrap-server kafka:29092 --create --if-not-exists "
                  "--topic payments --partitions 3 --replication-factor 1"});
    check_starts_everything(project);

    // COMPOSE_PROFILES turns the ui on: kafka-ui waits for topics to complete, so topics is a job
    // and its `restart: "no"` is what a job does anyway.
    const Project ui = load_shape("kafka-zookeeper", options_for({{"COMPOSE_PROFILES", "ui"}}));
    CHECK(service_names(ui) == Strings{"zookeeper", "kafka", "topics", "kafka-ui"});
    CHECK(service(ui, "topics").job);
    CHECK(service(ui, "kafka-ui").depends_on == Strings{"topics"});
    CHECK(service(ui, "kafka-ui").port == 8080);
    check_warnings(ui, {
                           {"docker-compose.yaml:4:5", kIgnoredKey, "'services.zookeeper.hostname'"},
                           {"docker-compose.yaml:6:9", kOtherwise, "'services.zookeeper.ports.0': published on 127.0.0.1:2181"},
                           {"docker-compose.yaml:18:5", kIgnoredKey, "'services.kafka.container_name'"},
                           {"docker-compose.yaml:23:9", kOtherwise, "'services.kafka.ports.0': " + kLocalOnly},
                           {"docker-compose.yaml:24:9", kOtherwise, "'services.kafka.ports.1': published on 127.0.0.1 only"},
                           {"docker-compose.yaml:38:7", kIgnoredKey, "'services.kafka.healthcheck.start_interval'"},
                           {"docker-compose.yaml:55:9", kOtherwise, "'services.kafka-ui.ports.0': " + kLocalOnly},
                       });
    const Plan plan = check_starts_everything(ui);
    CHECK(start_wave(plan, "topics") < start_wave(plan, "kafka-ui"));
}

TEST_CASE("compose shape: elasticsearch and kibana with resource keys that are warned") {
    const Project project = load_shape("elastic-kibana");
    CHECK(project.spec.project == "search-stack");
    CHECK_MESSAGE(has_file(project, "compose.yml"), files_read(project));
    CHECK(service_names(project) == Strings{"elasticsearch", "kibana"});
    check_warnings(project, {
                                {"compose.yml:20:9", kOtherwise, "'services.elasticsearch.ports.0': " + kLocalOnly},
                                {"compose.yml:39:9", kOtherwise, "'services.kibana.ports.0': " + kLocalOnly},
                                {"compose.yml:11:5", kIgnoredKey, "'services.elasticsearch.ulimits'"},
                                {"compose.yml:16:5", kIgnoredKey, "'services.elasticsearch.mem_limit'"},
                                {"compose.yml:27:7", kIgnoredKey, "'services.elasticsearch.deploy.resources'"},
                                {"compose.yml:43:5", kIgnoredKey, "'services.kibana.logging'"},
                                {"compose.yml:51:5", kIgnoredKey, "'volumes.esdata.driver'"},
                            });

    const ServiceSpec& elastic = service(project, "elasticsearch");
    CHECK(env(elastic, "discovery.type") == "single-node");
    CHECK(env(elastic, "xpack.security.enabled") == "false");
    CHECK(env(elastic, "ES_JAVA_OPTS") == "-Xms512m -Xmx512m");
    CHECK(elastic.port == 9200);
    check_mount(elastic, "/usr/share/elasticsearch/data", VolumeSpec::Kind::named, "esdata");
    check_exec_health(elastic, shell("curl --silent --fail http://localhost:9200/_cluster/health?wait_for_status=yellow || exit 1"),
                      10s, 30);
    CHECK(health(elastic).timeout == 10s);

    const ServiceSpec& kibana = service(project, "kibana");
    CHECK(env(kibana, "ELASTICSEARCH_HOSTS") == "[\"http://elasticsearch:9200\"]");
    CHECK(env(kibana, "SERVER_PUBLICBASEURL") == "http://localhost:5601");
    CHECK(kibana.port == 5601);
    CHECK(kibana.depends_on == Strings{"elasticsearch"});
    check_mount(kibana, "/usr/share/kibana/config/kibana.yml", VolumeSpec::Kind::bind, "kibana/kibana.yml", true);
    check_starts_everything(project);

    const Project moved = load_shape("elastic-kibana", options_for({{"KIBANA_PORT", "5602"}}));
    CHECK(service(moved, "kibana").port == 5602);
    CHECK(service(moved, "kibana").listen_port() == 5601);
    CHECK(env(service(moved, "kibana"), "SERVER_PUBLICBASEURL") == "http://localhost:5602");
}

TEST_CASE("compose shape: minio with a bucket-creating one-shot that the uploader waits on") {
    const Project project = load_shape("minio-buckets");
    CHECK(service_names(project) == Strings{"minio", "create-buckets", "uploader"});
    check_warnings(project, {
                                {"compose.yaml:9:9", kOtherwise, "'services.minio.ports.0': " + kLocalOnly},
                                {"compose.yaml:10:9", kOtherwise, "'services.minio.ports.1': published on 127.0.0.1 only"},
                            });

    const ServiceSpec& minio = service(project, "minio");
    CHECK(container(minio).command == Strings{"server", "/data", "--console-address", ":9001"});
    CHECK(minio.port == 9000);
    CHECK(env(minio, "MINIO_ROOT_USER") == "minioadmin");
    check_mount(minio, "/data", VolumeSpec::Kind::named, "minio-data");
    check_exec_health(minio, Strings{"mc", "ready", "local"}, 2s, 20);

    const ServiceSpec& buckets = service(project, "create-buckets");
    CHECK(buckets.job);  // no warning for its `restart: "no"`
    CHECK(buckets.port == 0);
    CHECK(buckets.depends_on == Strings{"minio"});
    CHECK(container(buckets).entrypoint ==
          std::optional<Strings>(Strings{"/bin/sh", "-c",
                                         " mc alias set local http://minio:9000 $MINIO_ROOT_USER $MINIO_ROOT_PASSWORD && "
                                         "mc mb --ignore-existing local/uploads && mc anonymous set download local/uploads "}));
    CHECK(container(buckets).command.empty());

    const ServiceSpec& uploader = service(project, "uploader");
    CHECK(image_build(uploader).context == "uploader");
    CHECK(uploader.port == 8000);
    CHECK(uploader.depends_on == Strings{"create-buckets"});
    const Plan plan = check_starts_everything(project);
    CHECK(start_wave(plan, "minio") < start_wave(plan, "create-buckets"));

    const Project custom = load_shape("minio-buckets", options_for({{"MINIO_ROOT_USER", "admin"}, {"MINIO_ROOT_PASSWORD", "s3cret-pass"}}));
    CHECK(env(service(custom, "create-buckets"), "MINIO_ROOT_PASSWORD") == "s3cret-pass");
}

TEST_CASE("compose shape: rabbitmq workers with shallow merge keys and replicas from deploy and scale") {
    const Project project = load_shape("rabbitmq-workers");
    CHECK(service_names(project) == Strings{"rabbitmq", "producer", "consumer", "audit"});
    // The management page's port is routed beside the broker's.
    CHECK(service(project, "rabbitmq").port == 5672);
    CHECK(service(project, "rabbitmq").container->extra_ports == std::vector<std::pair<int, int>>{{15672, 15672}});
    check_warnings(project, {
                                {"compose.yaml:19:5", kIgnoredKey, "'services.rabbitmq.hostname'"},
                                {"compose.yaml:21:9", kOtherwise, "'services.rabbitmq.ports.0': " + kLocalOnly},
                                {"compose.yaml:22:9", kOtherwise, "'services.rabbitmq.ports.1': published on 127.0.0.1 only"},
                                {"compose.yaml:13:7", kOtherwise, "'services.producer.depends_on.rabbitmq.restart'"},
                                {"compose.yaml:13:7", kOtherwise, "'services.consumer.depends_on.rabbitmq.restart'"},
                                {"compose.yaml:13:7", kOtherwise, "'services.audit.depends_on.rabbitmq.restart'"},
                                {"compose.yaml:44:7", kIgnoredKey, "'services.consumer.deploy.restart_policy'"},
                                {"compose.yaml:47:7", kIgnoredKey, "'services.consumer.deploy.resources'"},
                            });

    const ServiceSpec& rabbitmq = service(project, "rabbitmq");
    CHECK(rabbitmq.port == 5672);
    check_exec_health(rabbitmq, shell("rabbitmq-diagnostics -q ping"), 5s, 12);
    CHECK(health(rabbitmq).timeout == 10s);

    // `<<` is shallow: the producer's own build replaces the anchor's as a whole.
    const ServiceSpec& producer = service(project, "producer");
    CHECK(image_build(producer).context == "workers");
    CHECK(image_build(producer).args == Pairs{{"ROLE", "producer"}});
    CHECK(container(producer).command == Strings{"python", "-m", "workers.produce", "--rate", "10"});
    CHECK(producer.depends_on == Strings{"rabbitmq"});
    CHECK(env(producer, "AMQP_URL") == "amqp://guest:guest@rabbitmq:5672/");
    CHECK(producer.replicas == 1);

    const ServiceSpec& consumer = service(project, "consumer");
    CHECK(image_build(consumer).args == Pairs{{"ROLE", "consumer"}, {"APP_VERSION", "0.0.0-dev"}});
    CHECK(container(consumer).command ==
          Strings{"python", "-m", "workers.consume", "--queue", "orders", "--prefetch", "20"});
    CHECK(consumer.replicas == 3);
    CHECK(service(project, "audit").replicas == 2);
    const Plan plan = check_starts_everything(project);
    CHECK(start_action(plan, "consumer").replicas == 3);

    const Project versioned = load_shape("rabbitmq-workers", options_for({{"APP_VERSION", "1.4.2"}}));
    CHECK(image_build(service(versioned, "consumer")).args == Pairs{{"ROLE", "consumer"}, {"APP_VERSION", "1.4.2"}});
}

TEST_CASE("compose shape: nextcloud fpm with env files and shared named volumes plans under harness") {
    const Project project = load_shape("nextcloud-fpm");
    CHECK(service_names(project) == Strings{"db", "redis", "app", "web", "cron"});
    check_warnings(project, {
                                {"docker-compose.yml:35:9", kOtherwise, "'services.web.ports.0': " + kLocalOnly},
                                {"docker-compose.yml:40:5", kIgnoredKey, "'services.web.links'"},
                            });
    CHECK_MESSAGE(has_file(project, "db.env"), files_read(project));

    const ServiceSpec& db = service(project, "db");
    CHECK(container(db).command ==
          Strings{"--transaction-isolation=READ-COMMITTED", "--log-bin=binlog", "--binlog-format=ROW"});
    CHECK(env(db, "MYSQL_PASSWORD") == "nextcloud-local");
    CHECK(env(db, "MARIADB_AUTO_UPGRADE") == "1");

    const ServiceSpec& app = service(project, "app");
    CHECK(env(app, "MYSQL_HOST") == "db");
    CHECK(env(app, "MYSQL_DATABASE") == "nextcloud");
    CHECK(app.depends_on == Strings{"db", "redis"});
    check_mount(app, "/var/www/html", VolumeSpec::Kind::named, "nextcloud");

    const ServiceSpec& web = service(project, "web");
    CHECK(image_build(web).context == "web");
    CHECK(web.port == 8080);
    CHECK(web.listen_port() == 80);
    check_mount(web, "/var/www/html", VolumeSpec::Kind::named, "nextcloud", true);

    const ServiceSpec& cron = service(project, "cron");
    CHECK(container(cron).entrypoint == std::optional<Strings>(Strings{"/cron.sh"}));
    CHECK(container(cron).command.empty());
    CHECK(cron.depends_on == Strings{"db", "redis"});
    check_starts_everything(project);

    // No bind mounts: harness plans it too, with --bootstrap, and redacts the passwords it shows.
    const Project harness = load_shape("nextcloud-fpm", harness_options());
    CHECK(harness.policy.name == "harness");
    auto unflagged = plan_from_nothing(harness);
    REQUIRE_FALSE(unflagged.ok());
    CHECK(unflagged.error().code == ErrorCode::bootstrap_required);
    const Plan plan = check_starts_everything(harness, true);
    CHECK(plan.incident);
    const Action& start = start_action(plan, "db");
    const auto password = std::find_if(start.env.begin(), start.env.end(),
                                       [](const auto& entry) { return entry.first == "MYSQL_PASSWORD"; });
    REQUIRE(password != start.env.end());
    CHECK(password->second == "<redacted>");
    CHECK(start.pin_digest);
}

TEST_CASE("compose shape: gitea and postgres on a network declared external false with host bind mounts") {
    const Project project = load_shape("gitea-postgres");
    CHECK(service_names(project) == Strings{"server", "db"});
    // `external: false` (compose's default) is not refused: warned as ignored. One network
    // declared: nothing to say about networks.
    check_warnings(project, {
                                {"docker-compose.yml:3:5", kIgnoredKey, "'networks.gitea.external'"},
                                {"docker-compose.yml:8:5", kIgnoredKey, "'services.server.container_name'"},
                                {"docker-compose.yml:25:9", kOtherwise, "'services.server.ports.0': " + kLocalOnly},
                                {"docker-compose.yml:26:9", kOtherwise, "'services.server.ports.1': published on 127.0.0.1 only"},
                            });

    const ServiceSpec& server = service(project, "server");
    CHECK(container(server).image == "gitea/gitea:1.21.11");
    CHECK(server.port == 3000);
    CHECK(env(server, "GITEA__database__PASSWD") == "gitea");
    CHECK(env(server, "USER_UID") == "1000");
    check_mount(server, "/data", VolumeSpec::Kind::bind, "gitea");
    check_mount(server, "/etc/timezone", VolumeSpec::Kind::bind, "/etc/timezone", true);
    check_mount(server, "/etc/localtime", VolumeSpec::Kind::bind, "/etc/localtime", true);
    CHECK(server.depends_on == Strings{"db"});

    const ServiceSpec& db = service(project, "db");
    check_mount(db, "/var/lib/postgresql/data", VolumeSpec::Kind::bind, "postgres");
    CHECK(env(db, "POSTGRES_PASSWORD") == "gitea");
    check_starts_everything(project);

    const Project secret = load_shape("gitea-postgres", options_for({{"GITEA_DB_PASSWORD", "hunter22"}}));
    CHECK(env(service(secret, "server"), "GITEA__database__PASSWD") == "hunter22");
    CHECK(env(service(secret, "db"), "POSTGRES_PASSWORD") == "hunter22");
}

TEST_CASE("compose shape: traefik and whoami with labels and a port bound on all interfaces") {
    const Project project = load_shape("traefik-whoami");
    CHECK(service_names(project) == Strings{"traefik", "whoami"});
    check_warnings(project, {
                                {"compose.yaml:10:9", kOtherwise, "'services.traefik.ports.0': published on 127.0.0.1 only, not on 0.0.0.0"},
                                {"compose.yaml:11:9", kOtherwise, "'services.traefik.ports.1': published on 127.0.0.1 only"},
                                {"compose.yaml:25:7", kIgnoredKey, "'services.whoami.deploy.labels': ignored: not applied"},
                            });

    const ServiceSpec& traefik = service(project, "traefik");
    CHECK(container(traefik).command == Strings{"--api.insecure=true", "--providers.docker=true",
                                                "--providers.docker.exposedbydefault=false",
                                                "--entrypoints.web.address=:80"});
    CHECK(traefik.port == 80);
    CHECK(traefik.listen_port() == 80);
    check_mount(traefik, "/var/run/docker.sock", VolumeSpec::Kind::bind, "/var/run/docker.sock", true);

    const ServiceSpec& whoami = service(project, "whoami");
    CHECK(container(whoami).command == Strings{"--port=8081", "--name=whoami"});
    CHECK(container(whoami).labels == Pairs{{"traefik.enable", "true"},
                                            {"traefik.http.routers.whoami.rule", "Host(`whoami.localhost`) && PathPrefix(`/`)"},
                                            {"traefik.http.routers.whoami.entrypoints", "web"},
                                            {"traefik.http.services.whoami.loadbalancer.server.port", "8081"}});
    CHECK(whoami.replicas == 2);
    CHECK(whoami.port == 0);
    check_starts_everything(project);
}

TEST_CASE("compose shape: compose.override.yaml merged over compose.yaml with override and reset tags") {
    const Project project = load_shape("override-dev");
    CHECK_MESSAGE(has_file(project, "compose.yaml"), files_read(project));
    CHECK_MESSAGE(has_file(project, "compose.override.yaml"), files_read(project));
    CHECK_FALSE_MESSAGE(has_file(project, "compose.prod.yaml"), files_read(project));
    CHECK(service_names(project) == Strings{"web", "cache"});
    check_warnings(project, {
                                {"compose.yaml:3:5", kOtherwise, "'services.web.image': the image is built from 'build:'"},
                                {"compose.override.yaml:17:5", kIgnoredKey, "'services.web.container_name'"},
                                {"compose.override.yaml:22:9", kOtherwise, "'services.cache.ports.0': " + kLocalOnly},
                            });

    const ServiceSpec& web = service(project, "web");
    // image and build both: the build wins (tandem tags what it builds).
    CHECK(container(web).image.empty());
    CHECK(image_build(web).context == ".");
    CHECK(image_build(web).target == "dev");
    CHECK(container(web).command == Strings{"python", "-m", "acme", "runserver", "0.0.0.0:8000"});
    CHECK(env(web, "LOG_LEVEL") == "debug");
    CHECK(env(web, "CACHE_URL") == "redis://cache:6379/0");
    CHECK(env(web, "DEBUGPY") == "1");
    CHECK(web.port == 8001);  // `!override`: the override's ports alone
    CHECK(web.listen_port() == 8000);
    check_mount(web, "/srv/static", VolumeSpec::Kind::named, "static");
    check_mount(web, "/srv/app/src", VolumeSpec::Kind::bind, "src");
    CHECK(container(web).labels == Pairs{{"com.acme.team", "storefront"}, {"com.acme.env", "local"}});
    CHECK(web.depends_on == Strings{"cache"});

    const ServiceSpec& cache = service(project, "cache");
    CHECK_FALSE(cache.health.has_value());  // `!reset`
    CHECK(cache.port == 6379);
    check_starts_everything(project);

    // -f compose.yaml -f compose.prod.yaml: no compose.override.yaml then.
    ProjectOptions prod = options_for();
    prod.config_path = "compose.yaml";
    prod.more_files = {"compose.prod.yaml"};
    const Project production = load_shape("override-dev", prod);
    CHECK_MESSAGE(has_file(production, "compose.prod.yaml"), files_read(production));
    CHECK_FALSE_MESSAGE(has_file(production, "compose.override.yaml"), files_read(production));
    check_warnings(production, {{"compose.yaml:9:9", kOtherwise, "'services.web.ports.0': " + kLocalOnly}});
    const ServiceSpec& published = service(production, "web");
    CHECK(container(published).image == "registry.example.com/acme/web:1.4.2");
    CHECK_FALSE(container(published).build.has_value());
    CHECK(container(published).command ==
          Strings{"gunicorn", "acme.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4"});
    CHECK(env(published, "LOG_LEVEL") == "warning");
    CHECK(published.replicas == 2);
    CHECK(published.port == 8000);
    check_exec_health(service(production, "cache"), Strings{"redis-cli", "ping"}, 5s, 3);
    check_starts_everything(production);
}

TEST_CASE("compose shape: docker-compose.override.yml of the same family is merged and compose.override.yaml is not") {
    const Project project = load_shape("spring-mysql-override");
    CHECK_MESSAGE(has_file(project, "docker-compose.yml"), files_read(project));
    CHECK_MESSAGE(has_file(project, "docker-compose.override.yml"), files_read(project));
    CHECK_FALSE_MESSAGE(has_file(project, "compose.override.yaml"), files_read(project));  // it would be refused: privileged
    CHECK(service_names(project) == Strings{"orders", "mysql"});
    check_warnings(project, {
                                {"docker-compose.yml:13:9", kOtherwise, "'services.orders.ports.0': " + kLocalOnly},
                                {"docker-compose.override.yml:7:9", kOtherwise, "'services.orders.ports.1': published on 127.0.0.1 only"},
                            });

    const ServiceSpec& orders = service(project, "orders");
    CHECK(image_build(orders).dockerfile == "docker/Dockerfile");
    CHECK(image_build(orders).target == "runtime");
    CHECK(orders.port == 8080);  // ports are appended: the base's stays first
    CHECK(env(orders, "SPRING_PROFILES_ACTIVE") == "docker,dev");
    CHECK(env(orders, "JAVA_TOOL_OPTIONS") == "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005");
    CHECK(env(orders, "SPRING_DATASOURCE_URL") == "jdbc:mysql://mysql:3306/orders");
    check_exec_health(orders, Strings{"wget", "-qO-", "http://127.0.0.1:8080/actuator/health"}, 15s, 8);
    CHECK(orders.stop_grace == 45s);
    CHECK(orders.depends_on == Strings{"mysql"});

    const ServiceSpec& mysql = service(project, "mysql");
    check_exec_health(mysql, shell("mysqladmin ping -h 127.0.0.1 -u orders --password=orders-local"), 5s, 20);
    check_mount(mysql, "/var/lib/mysql", VolumeSpec::Kind::named, "mysql-data");
    check_starts_everything(project);

    const Project harness = load_shape("spring-mysql-override", harness_options());
    const Plan plan = check_starts_everything(harness, true);
    const Action& start = start_action(plan, "orders");
    const auto password = std::find_if(start.env.begin(), start.env.end(),
                                       [](const auto& entry) { return entry.first == "SPRING_DATASOURCE_PASSWORD"; });
    REQUIRE(password != start.env.end());
    CHECK(password->second == "<redacted>");
}

TEST_CASE("compose shape: env files required and optional and every interpolation form") {
    const Variables environment = {{"HOME", "/home/dev"},
                                   {"AWS_REGION", "eu-west-1"},
                                   {"DEBUG", ""},
                                   {"SENTRY_DSN", "https://key@sentry.example/1"},
                                   {"API_PORT", "8100"}};
    const Project project = load_shape("env-interpolation", options_for(environment));
    CHECK(project.spec.project == "billing");
    CHECK(service_names(project) == Strings{"api", "worker"});
    check_warnings(project, {{"compose.yaml:23:9", kOtherwise, "'services.api.ports.0': " + kLocalOnly}});
    CHECK_MESSAGE(has_file(project, ".env"), files_read(project));
    CHECK_MESSAGE(has_file(project, "env/common.env"), files_read(project));
    CHECK_MESSAGE(has_file(project, "env/api.env"), files_read(project));
    CHECK_FALSE_MESSAGE(has_file(project, "env/local.env"), files_read(project));  // optional, and absent

    const ServiceSpec& api = service(project, "api");
    CHECK(container(api).image == "ghcr.io/acme/billing-api:2024.05.1");
    CHECK(api.port == 8100);
    CHECK(api.listen_port() == 8000);
    CHECK(env(api, "TZ") == "UTC");
    CHECK(env(api, "FROM_COMMON") == "overridden-by-environment");
    CHECK(env(api, "API_WORKERS") == "4");
    CHECK(env(api, "QUOTED") == "single $NOT_EXPANDED");
    CHECK(env(api, "LOG_LEVEL") == "debug");           // ${VAR:-d}: from .env
    CHECK(env(api, "FEATURE_FLAGS") == "");            // ${VAR-d}: set, though empty
    CHECK(env(api, "SENTRY_DSN") == "configured");     // ${VAR:+x}: set and not empty
    CHECK(env(api, "TRACING") == "enabled");           // ${VAR+x}: set, though empty
    CHECK(env(api, "HOME_DIR") == "/home/dev");        // $VAR
    CHECK(env(api, "PRICE_TEMPLATE") == "$5 per invoice");
    CHECK(env(api, "NESTED") == "deep-default");
    CHECK(env(api, "EMPTY_VALUE") == "");

    const ServiceSpec& worker = service(project, "worker");
    CHECK(container(worker).image == "ghcr.io/acme/billing-worker:2024.05.1");
    CHECK(env(worker, "FROM_COMMON") == "common");
    CHECK(env(worker, "QUEUE") == "billing-local");  // `export` in .env
    CHECK(env(worker, "AWS_REGION") == "eu-west-1");  // `KEY` alone: from the environment
    CHECK(env(worker, "DEBUG") == "");
    CHECK(env(worker, "SENTRY_ENVIRONMENT") == "");  // `KEY=`: set, empty
    CHECK_FALSE(env(worker, "UNSET_PASSTHROUGH").has_value());  // unset: skipped
    CHECK(worker.user == "1000:1000");
    CHECK(worker.port == 0);
    check_starts_everything(project);

    const Project other = load_shape("env-interpolation", options_for({{"API_TAG", "2.0.0"}, {"LOG_LEVEL", "warn"},
                                                                        {"PROJECT_NAME", "billing-ci"}, {"WORKER_UID", "2000"}}));
    CHECK(other.spec.project == "billing-ci");
    CHECK(container(service(other, "api")).image == "ghcr.io/acme/billing-api:2.0.0");
    CHECK(env(service(other, "api"), "LOG_LEVEL") == "warn");
    CHECK(env(service(other, "api"), "SENTRY_DSN") == "");
    CHECK(env(service(other, "api"), "HOME_DIR") == "");
    CHECK(service(other, "api").port == 8000);
    CHECK(service(other, "worker").user == "2000:1000");
}

TEST_CASE("compose shape: a required variable that is set nowhere stops the load at its value") {
    const Error error = load_shape_error("required-variable-missing");
    check_error(error, ErrorCode::invalid_value, "compose.yaml:6:23", "set STRIPE_API_KEY in your shell or .env");

    const Project project = load_shape("required-variable-missing", options_for({{"STRIPE_API_KEY", "sk_test_local"}}));
    const ServiceSpec& payments = service(project, "payments");
    CHECK(container(payments).image == "ghcr.io/acme/payments:1.8.1");
    CHECK(env(payments, "STRIPE_API_KEY") == "sk_test_local");
    CHECK(env(payments, "STRIPE_PUBLISHABLE_KEY") == "pk_test_placeholder");
    CHECK(payments.port == 4242);
    check_starts_everything(project);
}

TEST_CASE("compose shape: a required env_file that does not exist stops the load at its entry") {
    const Error error = load_shape_error("env-file-missing");
    check_error(error, ErrorCode::io, "compose.yaml:8:9", "'services.mailer.env_file.1': cannot read env file 'secrets.env'");
}

TEST_CASE("compose shape: profiles turn tools on and a dependency that is not required is skipped") {
    const Project plain = load_shape("profiles-tools");
    CHECK(service_names(plain) == Strings{"app", "db"});
    check_warnings(plain, {{"compose.yaml:5:9", kOtherwise, "'services.app.ports.0': " + kLocalOnly}});
    CHECK(service(plain, "app").depends_on == Strings{"db"});  // mailpit: off, and not required
    check_mount(service(plain, "db"), "/var/lib/postgresql/data", VolumeSpec::Kind::named, "pgdata");
    check_exec_health(service(plain, "db"), Strings{"pg_isready", "-U", "inventory"}, 2s, 3);
    check_starts_everything(plain);

    const Project dev = load_shape("profiles-tools", options_for({}, {"dev"}));
    CHECK(service_names(dev) == Strings{"app", "db", "mailpit"});
    CHECK(service(dev, "app").depends_on == Strings{"db", "mailpit"});
    CHECK(service(dev, "mailpit").port == 8025);
    check_starts_everything(dev);

    const Project debug = load_shape("profiles-tools", options_for({}, {"debug"}));
    CHECK(service_names(debug) == Strings{"app", "db", "adminer"});
    CHECK(service(debug, "adminer").port == 8081);
    CHECK(service(debug, "adminer").listen_port() == 8080);

    // COMPOSE_PROFILES adds to --profile.
    const Project tools = load_shape("profiles-tools", options_for({{"COMPOSE_PROFILES", "tools,seed"}}));
    CHECK(service_names(tools) == Strings{"app", "db", "adminer", "seed"});
    const ServiceSpec& seed = service(tools, "seed");
    CHECK_FALSE(seed.job);  // nothing waits for it to complete here
    CHECK(container(seed).command == Strings{"psql", "-h", "db", "-U", "inventory", "-f", "/seed/demo.sql"});
    check_mount(seed, "/seed", VolumeSpec::Kind::bind, "seed", true);
    check_starts_everything(tools);

    const Project test = load_shape("profiles-tools", options_for({}, {"test", "seed"}));
    CHECK(service_names(test) == Strings{"app", "db", "seed", "smoke"});
    CHECK(service(test, "seed").job);
    CHECK(service(test, "smoke").depends_on == Strings{"app", "seed"});
    CHECK(container(service(test, "smoke")).command ==
          Strings{"curl", "--fail", "--retry", "10", "--retry-connrefused", "http://app:8000/healthz"});
    check_starts_everything(test);

    // smoke needs seed, whose profile is off.
    const Error error = load_shape_error("profiles-tools", options_for({}, {"test"}));
    check_error(error, ErrorCode::invalid_value, "compose.yaml:60:7",
                "'services.smoke.depends_on': 'seed' is only in profile(s) seed, which are not active: pass --profile seed");
}

TEST_CASE("compose shape: a dependency whose profile is off is an error naming the profile") {
    const Error error = load_shape_error("profile-dependency-off");
    check_error(error, ErrorCode::invalid_value, "compose.yaml:7:9",
                "'services.web.depends_on': 'search' is only in profile(s) search, which are not active: pass --profile search");

    const Project project = load_shape("profile-dependency-off", options_for({}, {"search"}));
    CHECK(service_names(project) == Strings{"web", "search"});
    CHECK(service(project, "web").depends_on == Strings{"search"});
    check_mount(service(project, "search"), "/meili_data", VolumeSpec::Kind::named, "meili");
    check_starts_everything(project);
}

TEST_CASE("compose shape: healthcheck test forms CMD and CMD-SHELL and string and NONE and disable") {
    const Project project = load_shape("healthcheck-forms");
    CHECK(service_names(project) == Strings{"api", "cache", "search", "legacy", "batch", "gateway", "reporter"});
    // service_healthy on a dependency with no health check (legacy's is NONE): warned.
    check_warnings(project, {
                                {"compose.yaml:7:9", kOtherwise, "'services.api.ports.0': " + kLocalOnly},
                                {"compose.yaml:44:9", kOtherwise, "'services.gateway.ports.0': " + kLocalOnly},
                                {"compose.yaml:57:9", kOtherwise, "'services.reporter.depends_on.legacy.condition'"},
                            });

    const ServiceSpec& api = service(project, "api");
    CHECK(image_build(api).dockerfile == "docker/api.Dockerfile");
    check_exec_health(api, Strings{"/usr/local/bin/healthcheck.sh", "http://127.0.0.1:8080/ready"}, 90s, 4);
    CHECK(health(api).timeout == 500ms);

    check_exec_health(service(project, "cache"), shell("valkey-cli ping | grep -q PONG"), 1s, 3);
    const ServiceSpec& search = service(project, "search");
    check_exec_health(search, shell("curl -fsS http://127.0.0.1:9200/_cluster/health >/dev/null"), 15s, 3);
    CHECK(health(search).timeout == 5s);
    CHECK(env(search, "discovery.type") == "single-node");
    CHECK_FALSE(service(project, "legacy").health.has_value());
    CHECK_FALSE(service(project, "batch").health.has_value());

    const ServiceSpec& gateway = service(project, "gateway");
    CHECK(gateway.depends_on == Strings{"api", "cache", "search"});
    CHECK(gateway.port == 10000);
    CHECK(service(project, "reporter").depends_on == Strings{"legacy"});
    check_starts_everything(project);
}

TEST_CASE("compose shape: named and bind and tmpfs and anonymous volumes in short and long syntax") {
    const Project project = load_shape("volume-kinds");
    CHECK(service_names(project) == Strings{"app", "clamav"});
    check_warnings(project, {
                                {"compose.yaml:7:9", kOtherwise, "'services.app.volumes.2': the mount option 'cached' is not applied"},
                                {"compose.yaml:8:9", kOtherwise, "'services.app.volumes.3': an anonymous volume"},
                                {"compose.yaml:13:11", kIgnoredKey, "'services.app.volumes.4.volume.nocopy'"},
                                {"compose.yaml:18:11", kIgnoredKey, "'services.app.volumes.5.bind.create_host_path'"},
                                {"compose.yaml:22:11", kIgnoredKey, "'services.app.volumes.6.tmpfs.size'"},
                                {"compose.yaml:35:9", kOtherwise, "'services.clamav.volumes.1': an anonymous volume"},
                                {"compose.yaml:40:5", kIgnoredKey, "'volumes.thumbs.labels'"},
                                {"compose.yaml:43:5", kIgnoredKey, "'volumes.signatures.driver_opts'"},
                            });

    const ServiceSpec& app = service(project, "app");
    CHECK(container(app).volumes.size() == 9);
    check_mount(app, "/srv/media/uploads", VolumeSpec::Kind::named, "uploads");
    check_mount(app, "/etc/media", VolumeSpec::Kind::bind, "conf", true);
    check_mount(app, "/srv/media/src", VolumeSpec::Kind::bind, "src");
    check_mount(app, "/var/cache/media", VolumeSpec::Kind::named, "app-anonymous-1");  // anonymous: a named volume of its own
    check_mount(app, "/srv/media/thumbs", VolumeSpec::Kind::named, "thumbs");
    check_mount(app, "/srv/media/data", VolumeSpec::Kind::bind, "data");
    check_mount(app, "/srv/media/scratch", VolumeSpec::Kind::tmpfs, "");
    check_mount(app, "/tmp", VolumeSpec::Kind::tmpfs, "");
    check_mount(app, "/run/media", VolumeSpec::Kind::tmpfs, "");

    const ServiceSpec& clamav = service(project, "clamav");
    CHECK(container(clamav).volumes.size() == 3);
    check_mount(clamav, "/var/lib/clamav/tmp", VolumeSpec::Kind::tmpfs, "");
    check_mount(clamav, "/var/lib/clamav", VolumeSpec::Kind::named, "signatures");
    check_mount(clamav, "/var/log/clamav", VolumeSpec::Kind::named, "clamav-anonymous-1");
    check_starts_everything(project);
}

TEST_CASE("compose shape: networks with aliases and extra_hosts on the one project network") {
    const Project project = load_shape("networks-aliases");
    CHECK(service_names(project) == Strings{"edge", "api", "ledger-db"});
    check_warnings(project, {
                                {"compose.yaml:23:9", kIgnoredKey, "'services.api.networks.private.ipv4_address'"},
                                {"compose.yaml:38:3", kOtherwise, "services on different networks here can reach each other"},
                                {"compose.yaml:39:5", kIgnoredKey, "'networks.public.driver'"},
                                {"compose.yaml:41:5", kIgnoredKey, "'networks.private.internal'"},
                                {"compose.yaml:42:5", kIgnoredKey, "'networks.private.ipam'"},
                            });

    const ServiceSpec& edge = service(project, "edge");
    CHECK(container(edge).command == Strings{"caddy", "reverse-proxy", "--from", ":8443", "--to", "api.internal:9000"});
    CHECK(edge.port == 8443);
    CHECK(container(edge).extra_hosts == Strings{"host.docker.internal:host-gateway", "metrics.local:10.0.0.7"});
    CHECK(container(edge).aliases.empty());

    const ServiceSpec& api = service(project, "api");
    CHECK(container(api).aliases == Strings{"api.internal", "ledger", "ledger-api.private"});
    CHECK(api.depends_on == Strings{"ledger-db"});

    const ServiceSpec& db = service(project, "ledger-db");
    CHECK(container(db).aliases.empty());
    check_mount(db, "/var/lib/postgresql/data", VolumeSpec::Kind::named, "ledger");
    check_starts_everything(project);
}

TEST_CASE("compose shape: deploy replicas and restart policies and user and working_dir and labels") {
    const Project project = load_shape("deploy-restart");
    CHECK(service_names(project) == Strings{"api", "indexer", "sitemap"});
    check_warnings(project, {
                                {"compose.yaml:23:5", kIgnoredKey, "'services.api.init'"},
                                {"compose.yaml:24:5", kIgnoredKey, "'services.api.logging'"},
                                {"compose.yaml:27:7", kIgnoredKey, "'services.api.deploy.update_config'"},
                                {"compose.yaml:30:7", kIgnoredKey, "'services.api.deploy.resources'"},
                                {"compose.yaml:39:5", kOtherwise, "'services.indexer.restart'"},
                                {"compose.yaml:48:5", kOtherwise, "'services.sitemap.restart'"},
                                {"compose.yaml:41:5", kIgnoredKey, "'services.indexer.logging'"},
                                {"compose.yaml:42:5", kIgnoredKey, "'services.indexer.stop_signal'"},
                            });

    const ServiceSpec& api = service(project, "api");
    CHECK(api.user == "10001");
    CHECK(container(api).working_dir == "/opt/catalog");
    CHECK(container(api).command == Strings{"./catalog", "serve", "--addr", ":7000"});
    CHECK(api.port == 7070);  // long syntax: published on host_ip 127.0.0.1
    CHECK(container(api).port == 7000);
    CHECK(container(api).labels == Pairs{{"com.acme.service", "catalog"}, {"com.acme.owner", "team-search"}});
    CHECK(api.replicas == 4);
    CHECK(api.stop_grace == 60s);

    const ServiceSpec& indexer = service(project, "indexer");
    CHECK(indexer.user == "indexer");
    CHECK(container(indexer).command == Strings{"./indexer", "--interval", "30s"});
    CHECK(indexer.stop_grace == 90s);
    CHECK(indexer.depends_on == Strings{"api"});
    CHECK_FALSE(indexer.job);

    const ServiceSpec& sitemap = service(project, "sitemap");
    CHECK(container(sitemap).entrypoint == std::optional<Strings>(Strings{}));  // `[]` clears the image's
    CHECK(container(sitemap).command == Strings{"/bin/sitemap", "--once"});
    CHECK(sitemap.replicas == 1);
    const Plan plan = check_starts_everything(project);
    CHECK(start_action(plan, "api").replicas == 4);
}

TEST_CASE("compose shape: x-tandem policies and per-service health and overrides and reset") {
    const Project project = load_shape("x-tandem-go-api");
    CHECK(project.spec.project == "links");
    CHECK(service_names(project) == Strings{"api", "migrate", "db"});
    check_warnings(project, {{"compose.yaml:28:9", kOtherwise, "'services.api.ports.0': " + kLocalOnly}});
    CHECK(project.policy.name == "wip");
    CHECK(project.catalog.names() == Strings{"wip", "harness", "staging"});

    const ServiceSpec& api = service(project, "api");
    CHECK(image_build(api).target == "release");
    CHECK(image_build(api).args == Pairs{{"GO_VERSION", "1.22"}, {"LDFLAGS", "-s -w"}});
    CHECK(container(api).entrypoint == std::optional<Strings>(Strings{}));  // `""` clears the image's
    CHECK(container(api).command == Strings{"/usr/local/bin/links-api", "--listen", ":8080"});
    CHECK(env(api, "LINKS_DB_DSN") == "postgres://links:links@db:5432/links?sslmode=disable");
    CHECK(env(api, "LINKS_LOG_FORMAT") == "json");
    CHECK(env(api, "LINKS_PUBLIC_URL") == "http://localhost:8080");
    CHECK(api.port == 8080);
    // x-tandem's health replaces the compose healthcheck.
    CHECK(health(api).kind == ProbeKind::http);
    CHECK(health(api).path == "/healthz");
    CHECK(health(api).interval == 500ms);
    CHECK(api.replicas == 1);
    CHECK(api.depends_on == Strings{"migrate"});

    const ServiceSpec& migrate = service(project, "migrate");
    CHECK(migrate.job);
    CHECK(image_build(migrate).target == "migrate");
    CHECK(container(migrate).command == Strings{"migrate", "-path", "/migrations", "-database",
                                                "postgres://links:links@db:5432/links?sslmode=disable", "up"});

    const ServiceSpec& db = service(project, "db");
    REQUIRE(db.reset.has_value());
    CHECK(db.reset->command == "psql -U links -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;'");
    check_exec_health(db, Strings{"pg_isready", "-U", "links"}, 1s, 30);
    const Plan plan = check_starts_everything(project);
    CHECK(start_wave(plan, "db") < start_wave(plan, "migrate"));

    // Under harness its overrides apply.
    const Project harness = load_shape("x-tandem-go-api", harness_options());
    CHECK(service(harness, "api").replicas == 3);
    CHECK(env(service(harness, "api"), "LINKS_LOG_FORMAT") == "logfmt");
    CHECK(env(service(harness, "api"), "LINKS_PUBLIC_URL") == "http://localhost:8080");
    const Plan harness_plan = check_starts_everything(harness, true);
    CHECK(start_action(harness_plan, "api").replicas == 3);

    // staging starts from harness: harness's overrides apply, and its database may be reset.
    ProjectOptions staging = options_for();
    staging.policy = "staging";
    const Project staged = load_shape("x-tandem-go-api", staging);
    CHECK(staged.policy.name == "staging");
    CHECK(staged.policy.database.reset == Permission::allow);
    CHECK(service(staged, "api").replicas == 3);
}

TEST_CASE("compose shape: docker-in-docker privileged is refused at the key") {
    const Error error = load_shape_error("refused-privileged");
    check_error(error, ErrorCode::invalid_value, "compose.yaml:18:5", "'services.dind.privileged'");
}

TEST_CASE("compose shape: network_mode host is refused at the key") {
    const Error error = load_shape_error("refused-host-network");
    check_error(error, ErrorCode::invalid_value, "docker-compose.yml:9:5", "'services.homeassistant.network_mode'");
}

TEST_CASE("compose shape: extends from a common file is refused at the key") {
    const Error error = load_shape_error("refused-extends");
    check_error(error, ErrorCode::invalid_value, "compose.yaml:3:5", "'services.web.extends'");
}

TEST_CASE("compose shape: an external volume is refused at the key") {
    const Error error = load_shape_error("refused-external-volume");
    check_error(error, ErrorCode::invalid_value, "compose.yaml:22:5", "'volumes.pgdata.external'");
}

TEST_CASE("compose shape: a GPU reservation under deploy.resources is refused at the key") {
    const Error error = load_shape_error("refused-gpu-devices");
    check_error(error, ErrorCode::invalid_value, "compose.yaml:12:11", "'services.ollama.deploy.resources.reservations.devices'");
}

TEST_CASE("compose shape: an unknown depends_on condition is refused at its value") {
    const Error error = load_shape_error("refused-unknown-condition");
    check_error(error, ErrorCode::invalid_value, "compose.yaml:8:20", "service_health");
    CHECK(error.message.find("service_healthy") != std::string::npos);  // the suggestion
}

TEST_CASE("compose shape: each loadable shape converts to a tandem.yaml that loads to the same fingerprints") {
    struct Shape {
        std::string name;
        Variables environment;
        Strings profiles;
    };
    const std::vector<Shape> shapes = {
        {"django-celery", {}, {}},
        {"rails-sidekiq", {}, {}},
        {"node-mongo-watch", {}, {"debug"}},
        {"react-flask-watch", {}, {}},
        {"wordpress-mysql", {}, {}},
        {"flask-postgres-secrets", {}, {}},
        {"kafka-zookeeper", {}, {"ui"}},
        {"elastic-kibana", {}, {}},
        {"minio-buckets", {}, {}},
        {"rabbitmq-workers", {}, {}},
        {"nextcloud-fpm", {}, {}},
        {"gitea-postgres", {}, {}},
        {"traefik-whoami", {}, {}},
        {"override-dev", {}, {}},
        {"spring-mysql-override", {}, {}},
        {"env-interpolation", {{"HOME", "/home/dev"}, {"AWS_REGION", "eu-west-1"}}, {}},
        {"required-variable-missing", {{"STRIPE_API_KEY", "sk_test_local"}}, {}},
        {"profiles-tools", {}, {"test", "seed", "dev", "debug"}},
        {"profile-dependency-off", {}, {"search"}},
        {"healthcheck-forms", {}, {}},
        {"volume-kinds", {}, {}},
        {"networks-aliases", {}, {}},
        {"deploy-restart", {}, {}},
        {"x-tandem-go-api", {}, {}},
    };
    for (const Shape& shape : shapes) {
        CAPTURE(shape.name);
        const ProjectOptions options = options_for(shape.environment, shape.profiles);
        auto loaded = load_project(fixture(shape.name), options);
        CHECK_MESSAGE(loaded.ok(), shape.name << ": " << loaded.error().to_string());
        if (!loaded) continue;  // its own case says why
        const Project& project = *loaded;
        auto yaml = to_tandem_yaml(disk_reader(fixture(shape.name)), options);
        CHECK_MESSAGE(yaml.ok(), yaml.error().to_string());
        if (!yaml) continue;
        const std::string text = *yaml;
        const FileReader only_tandem_yaml = [&text](const std::string& path) -> Result<std::string> {
            if (path == "tandem.yaml") return text;
            return make_error(ErrorCode::io, "no such file");
        };
        ProjectOptions converted_options = options_for();
        converted_options.config_path = "tandem.yaml";
        auto converted = load_project(only_tandem_yaml, converted_options);
        CHECK_MESSAGE(converted.ok(), converted.error().to_string() << "\n" << text);
        if (!converted) continue;
        CHECK(service_names(*converted) == service_names(project));
        for (const ServiceSpec& spec : project.spec.services) {
            const ServiceSpec* again = converted->spec.find(spec.name);
            REQUIRE(again != nullptr);
            INFO(spec.name << " in\n" << text);
            CHECK(fingerprint(converted->spec, *again) == fingerprint(project.spec, spec));
            CHECK(again->job == spec.job);
            CHECK(again->depends_on == spec.depends_on);
        }
    }
}
