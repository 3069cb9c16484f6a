// Container services in tandem.yaml: image, image builds, command, volumes, what they exclude,
// image references, and the fingerprint that replaces a container when any of it changes.
#include <doctest/doctest.h>

#include "config/image_reference.hpp"
#include "config/spec_parser.hpp"

#include <tandem/project.hpp>

#include <map>
#include <string>
#include <string_view>

using namespace tandem;

namespace {

Spec parse(std::string_view text) {
    auto parsed = config::parse_spec(text, "tandem.yaml");
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().to_string());
    return parsed->spec;
}

Error parse_error(std::string_view text) {
    auto parsed = config::parse_spec(text, "tandem.yaml");
    REQUIRE_FALSE(parsed.ok());
    return parsed.error();
}

void check_at(const Error& error, ErrorCode code, int line, int column) {
    INFO(error.to_string());
    CHECK(error.code == code);
    CHECK(error.location.line == line);
    CHECK(error.location.column == column);
}

std::string service(std::string_view body) { return "version: 1\nservices:\n  web:\n" + std::string(body); }

}  // namespace

TEST_CASE("a service with image is a container service with its command, env, user, port and volumes") {
    const Spec spec = parse(service("    image: registry.local:5000/team/web:1.2\n"
                                    "    command: [/web, --listen, ':8080']\n"
                                    "    env: {MODE: dev}\n"
                                    "    user: '1000:1000'\n"
                                    "    port: 8080\n"
                                    "    replicas: 2\n"
                                    "    health: {http: /healthz}\n"
                                    "    volumes: [data:/var/lib/web, ./src:/app/src:ro, /etc/web:/etc/web]\n") +
                            "  api:\n    run: ./api\n");
    const ServiceSpec& web = spec.services[0];
    REQUIRE(web.runs_container());
    CHECK_FALSE(spec.services[1].runs_container());
    CHECK(web.container->image == "registry.local:5000/team/web:1.2");
    CHECK_FALSE(web.container->build);
    CHECK(web.container->command == std::vector<std::string>{"/web", "--listen", ":8080"});
    CHECK(web.container->location.line == 4);
    CHECK(web.run.argv.empty());
    CHECK(web.user == "1000:1000");  // a user of the image, not of this machine
    CHECK(web.port == 8080);
    CHECK(web.replicas == 2);
    REQUIRE(web.container->volumes.size() == 3);
    const VolumeSpec& named = web.container->volumes[0];
    CHECK(named.kind == VolumeSpec::Kind::named);
    CHECK(named.source == "data");
    CHECK(named.target == "/var/lib/web");
    CHECK_FALSE(named.read_only);
    const VolumeSpec& bind = web.container->volumes[1];
    CHECK(bind.kind == VolumeSpec::Kind::bind);
    CHECK(bind.source == "src");
    CHECK(bind.target == "/app/src");
    CHECK(bind.read_only);
    CHECK(bind.text == "./src:/app/src:ro");
    CHECK(web.container->volumes[2].source == "/etc/web");
}

TEST_CASE("build with context or dockerfile builds an image, build with command builds files") {
    const Spec spec = parse(service("    build:\n      context: ./web\n      dockerfile: docker/Dockerfile\n"
                                    "      target: release\n      args: {VERSION: '1.2', DEBUG: '0'}\n") +
                            "  api:\n    build: {command: make api, outputs: [api]}\n    run: ./api\n"
                            "  cli:\n    build: make cli\n    run: ./cli\n");
    const ServiceSpec& web = spec.services[0];
    REQUIRE(web.runs_container());
    CHECK_FALSE(web.build);
    CHECK(web.container->image.empty());
    REQUIRE(web.container->build);
    CHECK(web.container->build->context == "web");
    CHECK(web.container->build->dockerfile == "docker/Dockerfile");
    CHECK(web.container->build->target == "release");
    using Args = std::vector<std::pair<std::string, std::string>>;
    CHECK(web.container->build->args == Args{{"VERSION", "1.2"}, {"DEBUG", "0"}});
    CHECK(web.container->command.empty());  // the image's own
    for (std::size_t i = 1; i < 3; ++i) {
        CHECK_FALSE(spec.services[i].runs_container());
        CHECK(spec.services[i].build);
    }
    const Spec minimal = parse(service("    build: {context: .}\n"));
    CHECK(minimal.services[0].container->build->dockerfile == "Dockerfile");
    CHECK(minimal.services[0].container->build->context == ".");
}

TEST_CASE("run and image together is an error naming both") {
    const Error error = parse_error(service("    run: ./web\n    image: busybox\n"));
    check_at(error, ErrorCode::invalid_value, 5, 5);
    CHECK(error.message.find("'run' and 'image' together") != std::string::npos);
    const Error built = parse_error(service("    build: {context: .}\n    run: ./web\n"));
    CHECK(built.message.find("'run' and 'build' together") != std::string::npos);
    const Error both = parse_error(service("    build: {command: make, context: .}\n"));
    check_at(both, ErrorCode::invalid_value, 4, 13);
    CHECK(both.message.find("either 'command'") != std::string::npos);
    const Error image_and_command_build = parse_error(service("    image: busybox\n    build: make\n"));
    check_at(image_and_command_build, ErrorCode::invalid_value, 5, 5);
    const Error neither = parse_error(service("    build: {target: x}\n    run: ./web\n"));
    CHECK(neither.message.find("missing 'command'") != std::string::npos);
}

TEST_CASE("keys of the other kind are refused where they are written") {
    const Error command = parse_error(service("    run: ./web\n    command: [x]\n"));
    check_at(command, ErrorCode::invalid_value, 5, 5);
    CHECK(command.message.find("'services.web.command': applies to container services only") != std::string::npos);
    const Error volumes = parse_error(service("    run: ./web\n    volumes: [data:/data]\n"));
    CHECK(volumes.message.find("'services.web.volumes'") != std::string::npos);
    const Error state = parse_error(service("    image: busybox\n    state: [data]\n"));
    check_at(state, ErrorCode::invalid_value, 5, 12);
    CHECK(state.message.find("named volume") != std::string::npos);
    const Error workdir = parse_error(service("    image: busybox\n    workdir: sub\n"));
    check_at(workdir, ErrorCode::invalid_value, 5, 14);
    const Error user = parse_error(service("    image: busybox\n    user: 'a b'\n"));
    check_at(user, ErrorCode::invalid_value, 5, 11);
}

TEST_CASE("bad image references and volumes are errors at their value") {
    const Error upper = parse_error(service("    image: Busybox:1\n"));
    check_at(upper, ErrorCode::invalid_value, 4, 12);
    CHECK(upper.message == "'services.web.image': 'Busybox:1' is not an image reference: 'Busybox' is not a path "
                           "component (lower-case letters and digits, joined by '.', '_', '__' or '-')");
    const Error digest = parse_error(service("    image: busybox@sha256:abc\n"));
    CHECK(digest.message.find("64 hex digits, this one 3") != std::string::npos);
    const Error relative = parse_error(service("    image: busybox\n    volumes: [data:var/lib]\n"));
    check_at(relative, ErrorCode::invalid_value, 5, 15);
    CHECK(relative.message.find("must be absolute") != std::string::npos);
    const Error leaves = parse_error(service("    image: busybox\n    volumes: ['../up:/up']\n"));
    CHECK(leaves.message.find("leaves the project root") != std::string::npos);
    const Error option = parse_error(service("    image: busybox\n    volumes: ['data:/d:rx']\n"));
    CHECK(option.message.find("unknown option 'rx'") != std::string::npos);
    const Error twice = parse_error(service("    image: busybox\n    volumes: ['a:/d', 'b:/d/']\n"));
    CHECK(twice.message.find("'/d' is mounted twice") != std::string::npos);
}

TEST_CASE("image references follow docker's grammar") {
    const std::map<std::string, bool> cases = {
        {"busybox", true},
        {"busybox:1.36", true},
        {"library/busybox:latest", true},
        {"localhost/web", true},
        {"localhost:5000/web:v1", true},
        {"registry.example.com/a/b-c__d.e:1.0-rc_1", true},
        {"web@sha256:" + std::string(64, 'a'), true},
        {"web:1@sha256:" + std::string(64, '0'), true},
        {"", false},
        {"web:", false},
        {":tag", false},
        {"web-:1", false},
        {"-web", false},
        {"web/", false},
        {"web::1", false},
        {"web:.x", false},
        {"web:" + std::string(129, 'x'), false},
        {"web@sha256:" + std::string(64, 'A'), false},
        {"web@md5:abc", false},
        {"bad_host:5000x/web", false},
        {"a..b", false},
    };
    for (const auto& [text, valid] : cases) {
        CAPTURE(text);
        CHECK(config::parse_image_reference(text).ok() == valid);
    }
    auto parts = config::parse_image_reference("localhost:5000/team/web:1.2@sha256:" + std::string(64, 'f'));
    REQUIRE(parts.ok());
    CHECK(parts->name == "localhost:5000/team/web");
    CHECK(parts->tag == "1.2");
    CHECK(parts->digest == "sha256:" + std::string(64, 'f'));
}

TEST_CASE("a changed image, command, volume or image build changes the fingerprint") {
    const std::string base = service("    image: web:1\n    command: [/web]\n    volumes: [data:/data]\n    port: 80\n");
    const std::string fp = fingerprint(parse(base).services[0]);
    auto changed = [&](std::string_view from, std::string_view to) {
        std::string text = base;
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        text.replace(at, from.size(), to);
        return fingerprint(parse(text).services[0]);
    };
    CHECK(changed("web:1", "web:2") != fp);
    CHECK(changed("[/web]", "[/web, -v]") != fp);
    CHECK(changed("data:/data", "data:/data:ro") != fp);
    CHECK(changed("data:/data", "other:/data") != fp);
    CHECK(changed("data:/data", "./data:/data") != fp);
    CHECK(changed("port: 80", "port: 80\n    replicas: 1") == fp);  // the default, written
    const std::string built = service("    build: {context: ., args: {A: '1'}}\n");
    const std::string built_fp = fingerprint(parse(built).services[0]);
    CHECK(fingerprint(parse(service("    build: {context: ., args: {A: '2'}}\n")).services[0]) != built_fp);
    CHECK(fingerprint(parse(service("    build: {context: ., target: t, args: {A: '1'}}\n")).services[0]) != built_fp);
    CHECK(fingerprint(parse(service("    build: {context: sub, args: {A: '1'}}\n")).services[0]) != built_fp);
}

TEST_CASE("an override switches a service between a process and a container") {
    const std::map<std::string, std::string> files = {
        {"tandem.yaml", "version: 1\npolicy: wip\nservices:\n  web:\n    run: ./web\n    port: 8080\n"
                        "    overrides:\n      wip:\n        image: web:dev\n        volumes: [./src:/src]\n"
                        "  api:\n    image: api:1\n    overrides:\n      wip:\n        run: ./api\n"},
    };
    FileReader read = [&](const std::string& path) -> Result<std::string> {
        auto it = files.find(path);
        if (it == files.end()) return make_error(ErrorCode::io, "no " + path);
        return it->second;
    };
    auto project = load_project(read, ProjectOptions{});
    REQUIRE_MESSAGE(project.ok(), project.error().to_string());
    const ServiceSpec* web = project->spec.find("web");
    REQUIRE(web->runs_container());
    CHECK(web->container->image == "web:dev");
    CHECK(web->run.argv.empty());
    CHECK(web->port == 8080);
    const ServiceSpec* api = project->spec.find("api");
    CHECK_FALSE(api->runs_container());
    CHECK(api->run.argv == std::vector<std::string>{"/bin/sh", "-c", "./api"});
}

TEST_CASE("a sync rule of a container service needs an absolute target, and may run a command in it") {
    const Spec spec = parse("version: 1\nservices:\n  web:\n    image: web:1\n    watch:\n"
                            "      - {paths: [\"site/**\"], action: sync, target: /srv, command: \"kill -HUP 1\"}\n");
    REQUIRE(spec.services[0].watch.size() == 1);
    CHECK(spec.services[0].watch[0].target == "/srv");
    CHECK(spec.services[0].watch[0].command == "kill -HUP 1");

    CHECK(parse_error("version: 1\nservices:\n  web:\n    image: web:1\n    watch:\n"
                      "      - {paths: [\"site/**\"], action: sync}\n")
              .to_string() ==
          "tandem.yaml:6:9: 'services.web.watch.0': a sync rule of a container service needs 'target:', the path "
          "in the container where its files go");
    CHECK(parse_error("version: 1\nservices:\n  web:\n    image: web:1\n    watch:\n"
                      "      - {paths: [\"site/**\"], action: sync, target: srv}\n")
              .to_string()
              .find("'srv' is not an absolute path in the container") != std::string::npos);
    CHECK(parse_error("version: 1\nservices:\n  web:\n    image: web:1\n    watch:\n"
                      "      - {paths: [\"site/**\"], action: restart, target: /srv}\n")
              .to_string()
              .find("'services.web.watch.0.target': a target is only used with 'action: sync'") != std::string::npos);
    CHECK(parse_error("version: 1\nservices:\n  web:\n    run: ./web\n    watch:\n"
                      "      - {paths: [\"site/**\"], action: sync, target: /srv}\n")
              .to_string()
              .find("'services.web.watch.0.target': applies to container services only") != std::string::npos);
    CHECK(parse_error("version: 1\nservices:\n  web:\n    run: ./web\n    watch:\n"
                      "      - {paths: [\"site/**\"], action: sync, command: reload}\n")
              .to_string()
              .find("'services.web.watch.0.command': a sync rule runs a command only in a container") !=
          std::string::npos);
}

TEST_CASE("an image build's inputs are a list of relative paths") {
    const Spec spec = parse("version: 1\nservices:\n  web:\n    build: {context: ., inputs: [src/app.py, \"static/**\"]}\n");
    REQUIRE(spec.services[0].container->build->inputs.has_value());
    CHECK(*spec.services[0].container->build->inputs == std::vector<std::string>{"src/app.py", "static/**"});
    CHECK_FALSE(parse("version: 1\nservices:\n  web:\n    build: {context: .}\n").services[0].container->build->inputs);
    CHECK(parse_error("version: 1\nservices:\n  web:\n    build: {context: ., inputs: src}\n").to_string() ==
          "tandem.yaml:4:33: 'services.web.build.inputs': expected a list of paths or globs");
    CHECK(parse_error("version: 1\nservices:\n  web:\n    build: {context: ., inputs: [../x]}\n")
              .to_string()
              .find("'services.web.build.inputs.0'") != std::string::npos);
}

TEST_CASE("a container service's entrypoint, container_port, working_dir, labels, aliases, extra_hosts and tmpfs") {
    const Spec spec = parse(service("    image: web:1\n    entrypoint: [/init, --]\n    command: [serve]\n"
                                    "    port: 8080\n    container_port: 80\n    working_dir: /app/./src/\n"
                                    "    labels: {team: web, tier: \"1\"}\n    aliases: [www, web.local]\n"
                                    "    extra_hosts: [\"db.local:10.0.0.5\", \"host.docker.internal:host-gateway\"]\n"
                                    "    tmpfs: [/run, /tmp/cache/]\n    volumes: [data:/data]\n"));
    const ServiceSpec& web = spec.services.at(0);
    REQUIRE(web.container);
    const ContainerSpec& c = *web.container;
    CHECK(c.entrypoint == std::vector<std::string>{"/init", "--"});
    CHECK(c.port == 80);
    CHECK(web.listen_port() == 80);
    CHECK(web.port == 8080);
    CHECK(c.working_dir == "/app/src");
    CHECK(c.labels == std::vector<std::pair<std::string, std::string>>{{"team", "web"}, {"tier", "1"}});
    CHECK(c.aliases == std::vector<std::string>{"www", "web.local"});
    CHECK(c.extra_hosts == std::vector<std::string>{"db.local:10.0.0.5", "host.docker.internal:host-gateway"});
    REQUIRE(c.volumes.size() == 3);
    CHECK(c.volumes[0].kind == VolumeSpec::Kind::named);
    CHECK(c.volumes[1].kind == VolumeSpec::Kind::tmpfs);
    CHECK(c.volumes[1].target == "/run");
    CHECK(c.volumes[2].target == "/tmp/cache");

    // `entrypoint: []` runs without the image's entrypoint; unset keeps it.
    CHECK(parse(service("    image: web:1\n    entrypoint: []\n")).services[0].container->entrypoint ==
          std::vector<std::string>{});
    CHECK_FALSE(parse(service("    image: web:1\n")).services[0].container->entrypoint.has_value());
    CHECK(parse(service("    image: web:1\n    port: 8080\n")).services[0].listen_port() == 8080);
}

TEST_CASE("the new container keys are refused for a process and checked where written") {
    check_at(parse_error(service("    run: ./web\n    working_dir: /app\n")), ErrorCode::invalid_value, 5, 5);
    check_at(parse_error(service("    image: web:1\n    working_dir: app\n")), ErrorCode::invalid_value, 5, 18);
    check_at(parse_error(service("    image: web:1\n    container_port: 0\n")), ErrorCode::invalid_value, 5, 21);
    check_at(parse_error(service("    image: web:1\n    labels: {tandem.project: x}\n")), ErrorCode::invalid_value, 5, 14);
    check_at(parse_error(service("    image: web:1\n    aliases: [\"bad name\"]\n")), ErrorCode::invalid_value, 5, 15);
    check_at(parse_error(service("    image: web:1\n    extra_hosts: [nocolon]\n")), ErrorCode::invalid_value, 5, 19);
    check_at(parse_error(service("    image: web:1\n    tmpfs: [/data]\n    volumes: [data:/data]\n")),
             ErrorCode::invalid_value, 6, 15);
    check_at(parse_error(service("    image: web:1\n    volumes: [data:/data]\n    tmpfs: [/data]\n")),
             ErrorCode::invalid_value, 6, 13);
}

TEST_CASE("the new container keys change the fingerprint, and a service without them keeps its fingerprint") {
    const auto print = [](std::string_view more) {
        const Spec spec = parse(service("    image: web:1\n    port: 8080\n" + std::string(more)));
        return fingerprint(spec, spec.services.at(0));
    };
    const std::string base = print("");
    for (std::string_view more : {"    entrypoint: [/x]\n", "    entrypoint: []\n", "    container_port: 80\n",
                                  "    working_dir: /app\n", "    labels: {a: b}\n", "    aliases: [www]\n",
                                  "    extra_hosts: [\"a:1.2.3.4\"]\n", "    tmpfs: [/run]\n"}) {
        INFO(more);
        CHECK(print(more) != base);
    }
    // What a tandem.yaml written before these keys existed fingerprints to (a release of it must not
    // replace the running containers after an upgrade).
    CHECK(base == print("    labels: {}\n"));
}

TEST_CASE("watch rules take ignore and action sync+restart") {
    const Spec spec = parse(service("    image: web:1\n    watch:\n"
                                    "      - {paths: [\"site/**\"], action: sync+restart, target: /srv, ignore: [site/tmp/**]}\n"));
    const WatchRule& rule = spec.services[0].watch.at(0);
    CHECK(rule.action == WatchAction::sync);
    CHECK(rule.restart_after_sync);
    CHECK(rule.ignore == std::vector<std::string>{"site/tmp/**"});
    check_at(parse_error(service("    image: web:1\n    watch:\n      - {paths: [a], action: rebuild, ignore: [/abs]}\n")),
             ErrorCode::invalid_value, 6, 48);
}

TEST_CASE("extra_ports are routed ports beside port, checked for their form, their port and each other") {
    const Spec spec = parse(service("    image: web:1\n    port: 8080\n    container_port: 80\n"
                                    "    extra_ports: [\"15672:15672\", 9000, \"9443:443\"]\n"));
    CHECK(spec.services[0].container->extra_ports ==
          std::vector<std::pair<int, int>>{{15672, 15672}, {9000, 9000}, {9443, 443}});
    check_at(parse_error(service("    image: web:1\n    port: 8080\n    extra_ports: [\"a:1\"]\n")),
             ErrorCode::invalid_value, 6, 19);
    check_at(parse_error(service("    image: web:1\n    port: 8080\n    extra_ports: [\"70000\"]\n")),
             ErrorCode::invalid_value, 6, 19);
    CHECK(parse_error(service("    image: web:1\n    extra_ports: [\"9000\"]\n")).message ==
          "'services.web.extra_ports': extra ports are routed beside the service's 'port', which it does not have "
          "(give it 'port:')");
    CHECK(parse_error(service("    image: web:1\n    port: 8080\n    extra_ports: [\"8080:80\"]\n")).message ==
          "'services.web.extra_ports': port 8080 is already used by service 'web' (twice)");
    CHECK(parse_error("version: 1\nservices:\n  a:\n    run: ./a\n    port: 9000\n  web:\n    image: web:1\n"
                      "    port: 8080\n    extra_ports: [9000]\n")
              .message == "'services.web.extra_ports': port 9000 is already used by service 'a'");
    check_at(parse_error(service("    run: ./web\n    port: 8080\n    extra_ports: [9000]\n")), ErrorCode::invalid_value,
             6, 5);
    const auto print = [](std::string_view more) {
        const Spec one = parse(service("    image: web:1\n    port: 8080\n" + std::string(more)));
        return fingerprint(one, one.services.at(0));
    };
    CHECK(print("") != print("    extra_ports: [9000]\n"));
    CHECK(print("    extra_ports: [9000]\n") != print("    extra_ports: [\"9001:9000\"]\n"));
}
