// The docker tests' shared fixture (see docker_fixture.hpp).
#include "runtime/docker/docker_fixture.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace tandem::test {

namespace {

void skip(const std::string& reason) {
    std::cout << "SKIPPED: " << reason << std::endl;
    std::exit(77);
}

std::string unavailable_reason() {
    std::ifstream in(std::string(TANDEM_DOCKER_STATE_DIR) + "/unavailable");
    std::string reason;
    std::getline(in, reason);
    return reason;
}

}  // namespace

void require_docker() {
    if (!std::filesystem::exists("/bin/busybox")) skip("/bin/busybox is missing (scripts/install-deps.sh installs busybox-static)");
    boost::asio::io_context io;
    dk::DockerClient client(io);
    std::optional<Status> pinged;
    client.ping([&](Status got) { pinged.emplace(std::move(got)); });
    io.run_for(std::chrono::seconds(10));
    if (pinged && pinged->ok()) return;
    const std::string reason = unavailable_reason();
    skip(reason.empty() ? (pinged ? pinged->error().message : std::string("the daemon did not answer /_ping"))
                        : reason);
}

dk::Labels test_labels() { return {{"tandem.test", "1"}}; }

std::string unique_name(const std::string& what) {
    static int counter = 0;
    return "tandem-test-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

DockerTest::DockerTest() {
    require_docker();
    auto negotiated = wait<dk::DaemonVersion>([&](auto done) { client.negotiate(done); });
    REQUIRE_MESSAGE(negotiated.ok(), (negotiated ? "" : negotiated.error().message));
}

DockerTest::~DockerTest() {
    for (const auto& id : containers) (void)wait<Ok>([&](auto done) { client.remove_container(id, done); });
    for (const auto& id : networks) (void)wait<Ok>([&](auto done) { client.remove_network(id, done); });
    for (const auto& name : volumes) (void)wait<Ok>([&](auto done) { client.remove_volume(name, done); });
    // Keeping the parents: the busybox layer is another test's build cache while it builds (the
    // daemon's data goes with it when dockerd.sh stop stops it; a daemon of the user's keeps 2 MB).
    for (const auto& tag : images) (void)wait<Ok>([&](auto done) { client.remove_image(tag, done, false); });
}

std::string DockerTest::build_busybox_image(const std::vector<std::pair<std::string, std::string>>& files,
                                            const std::string& dockerignore) {
    TempDir context;
    dk::BuildOptions options;
    std::filesystem::copy_file("/bin/busybox", context.path() / "busybox");
    context.write("Dockerfile", "FROM scratch\nCOPY busybox /bin/busybox\nCOPY srv /srv\n");
    options.tags = {unique_name("image") + ":dev"};
    context.write("srv/.image", options.tags.front());  // an image of its own, whatever other tests build
    for (const auto& [path, content] : files) context.write("srv/" + path, content);
    if (!dockerignore.empty()) context.write(".dockerignore", dockerignore);
    options.labels = test_labels();
    auto built = wait<std::string>([&](auto done) {
        client.build(context.path(), options, [this](std::string_view line) { build_progress.emplace_back(line); },
                     done);
    });
    REQUIRE_MESSAGE(built.ok(), (built ? "" : built.error().message));
    images.push_back(options.tags.front());  // by tag: another test may have built the same ID
    return *built;
}

std::string DockerTest::run_container(dk::ContainerSpec spec) {
    if (spec.name.empty()) spec.name = unique_name("c");
    for (const auto& [key, value] : test_labels()) spec.labels[key] = value;
    auto created = wait<std::string>([&](auto done) { client.create_container(spec, done); });
    REQUIRE_MESSAGE(created.ok(), (created ? "" : created.error().message));
    containers.push_back(*created);
    auto started = wait<Ok>([&](auto done) { client.start_container(*created, done); });
    REQUIRE_MESSAGE(started.ok(), (started ? "" : started.error().message));
    return *created;
}

std::string DockerTest::make_network() {
    const std::string name = unique_name("net");
    auto created = wait<std::string>([&](auto done) { client.create_network(name, test_labels(), done); });
    REQUIRE_MESSAGE(created.ok(), (created ? "" : created.error().message));
    networks.push_back(*created);
    return name;
}

std::string DockerTest::make_volume() {
    const std::string name = unique_name("vol");
    auto created = wait<dk::VolumeInfo>([&](auto done) { client.create_volume(name, test_labels(), done); });
    REQUIRE_MESSAGE(created.ok(), (created ? "" : created.error().message));
    volumes.push_back(name);
    return name;
}

dk::ExecResult DockerTest::exec(const std::string& id, std::vector<std::string> cmd) {
    dk::ExecSpec spec;
    spec.cmd = std::move(cmd);
    auto ran = wait<dk::ExecResult>([&](auto done) { client.exec(id, spec, done); });
    REQUIRE_MESSAGE(ran.ok(), (ran ? "" : ran.error().message));
    return *ran;
}

}  // namespace tandem::test
