// The Docker client against a real daemon (tests/support/dockerd.sh starts one when none runs):
// build, run, network, logs, exec, archive upload, volumes, wait, events and the daemon's errors.
#include "runtime/docker/docker_fixture.hpp"
#include "runtime/docker/tar_writer.hpp"
#include "support/http_client.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

using namespace tandem;
using namespace tandem::test;

namespace {

const std::string busybox = "/bin/busybox";

dk::ContainerSpec sleeper(const std::string& image) {
    dk::ContainerSpec spec;
    spec.image = image;
    spec.cmd = {busybox, "sleep", "300"};
    return spec;
}

bool contains(const std::vector<std::string>& lines, const std::string& wanted) {
    return std::find(lines.begin(), lines.end(), wanted) != lines.end();
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
}

}  // namespace

TEST_CASE("the client negotiates the API version with the daemon and pings it") {
    DockerTest t;
    CHECK(t.client.api_version() == "1.41");  // Debian 12's docker.io 20.10 speaks 1.41, our newest
    auto version = t.wait<dk::DaemonVersion>([&](auto done) { t.client.version(done); });
    REQUIRE(version.ok());
    CHECK(!version->version.empty());
    auto pinged = t.wait<Ok>([&](auto done) { t.client.ping(done); });
    CHECK(pinged.ok());
}

TEST_CASE("a FROM scratch build honours .dockerignore and serves HTTP through a published port on a network") {
    DockerTest t;
    const std::string image = t.build_busybox_image(
        {{"www/index.html", "hello from tandem\n"}, {"secret.txt", "s3cret"}, {"notes/a.md", "x"}},
        "# the test's own rules\nsrv/secret.txt\n**/*.md\n");
    CHECK(image.rfind("sha256:", 0) == 0);
    // The builder's output, in whole lines (the daemon sends "Step 1/4 : FROM scratch" and its "\n" apart).
    CHECK_MESSAGE(contains(t.build_progress, "Step 1/4 : FROM scratch"), joined(t.build_progress));
    CHECK(contains(t.build_progress, "Step 2/4 : COPY busybox /bin/busybox"));
    auto inspected = t.wait<dk::ImageInfo>([&](auto done) { t.client.inspect_image(image, done); });
    REQUIRE(inspected.ok());
    CHECK(inspected->id == image);
    CHECK(inspected->labels.at("tandem.test") == "1");

    dk::ContainerSpec spec;
    spec.image = image;
    spec.cmd = {busybox, "httpd", "-f", "-p", "8080", "-h", "/srv/www"};
    spec.port = 8080;
    spec.network = t.make_network();
    spec.aliases = {"web"};
    const std::string id = t.run_container(spec);
    auto info = t.wait<dk::ContainerInfo>([&](auto done) { t.client.inspect_container(id, done); });
    REQUIRE(info.ok());
    CHECK(info->running);
    CHECK(info->status == "running");
    REQUIRE(info->published.count(8080) == 1);
    const int host_port = info->published.at(8080);
    std::optional<HttpReply> reply;
    for (int attempt = 0; attempt < 50 && !(reply && reply->status == 200); ++attempt) {
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        reply = http_get(host_port, "/index.html");
    }
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(reply->body == "hello from tandem\n");

    CHECK(t.exec(id, {busybox, "test", "-e", "/srv/www/index.html"}).exit_code == 0);
    CHECK(t.exec(id, {busybox, "test", "-e", "/srv/secret.txt"}).exit_code == 1);  // ignored
    CHECK(t.exec(id, {busybox, "test", "-e", "/srv/notes/a.md"}).exit_code == 1);  // ignored by **/*.md
}

TEST_CASE("two containers on a labelled network reach each other by name") {
    DockerTest t;
    const std::string image = t.build_busybox_image({{"www/index.html", "by name\n"}});
    const std::string network = t.make_network();
    dk::ContainerSpec api;
    api.image = image;
    api.cmd = {busybox, "httpd", "-f", "-p", "8080", "-h", "/srv/www"};
    api.network = network;
    api.aliases = {"api"};
    t.run_container(api);
    dk::ContainerSpec client;
    client.image = image;
    client.network = network;
    client.cmd = {busybox, "sh", "-c",
                  "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/busybox wget -q -O - http://api:8080/index.html && exit 0; "
                  "/bin/busybox sleep 0.3; done; exit 1"};
    const std::string id = t.run_container(client);
    auto code = t.wait<int>([&](auto done) { t.client.wait_container(id, done); });
    REQUIRE(code.ok());
    std::vector<std::string> out;
    auto logged = t.wait<Ok>([&](auto done) {
        t.client.logs(id, {}, [&](dk::OutputStream, std::string_view line) { out.emplace_back(line); }, done);
    });
    REQUIRE(logged.ok());
    CHECK_MESSAGE(*code == 0, joined(out));
    CHECK(contains(out, "by name"));
}

TEST_CASE("followed logs are demultiplexed: a line written to stderr arrives as stderr") {
    DockerTest t;
    const std::string image = t.build_busybox_image({});
    dk::ContainerSpec spec;
    spec.image = image;
    spec.cmd = {busybox, "sh", "-c", "echo to-out; echo to-err >&2; /bin/busybox sleep 0.5; echo more-out"};
    const std::string id = t.run_container(spec);
    std::vector<std::string> out;
    std::vector<std::string> err;
    dk::LogOptions follow;
    follow.follow = true;  // ends when the container does
    auto logged = t.wait<Ok>([&](auto done) {
        t.client.logs(id, follow,
                      [&](dk::OutputStream stream, std::string_view line) {
                          (stream == dk::OutputStream::stderr_stream ? err : out).emplace_back(line);
                      },
                      done);
    });
    REQUIRE(logged.ok());
    CHECK(out == std::vector<std::string>{"to-out", "more-out"});
    CHECK(err == std::vector<std::string>{"to-err"});
}

TEST_CASE("wait reports the exit code and inspect the exited state") {
    DockerTest t;
    const std::string image = t.build_busybox_image({});
    dk::ContainerSpec spec;
    spec.image = image;
    spec.cmd = {busybox, "sh", "-c", "exit 7"};
    const std::string id = t.run_container(spec);
    auto code = t.wait<int>([&](auto done) { t.client.wait_container(id, done); });
    REQUIRE(code.ok());
    CHECK(*code == 7);
    auto info = t.wait<dk::ContainerInfo>([&](auto done) { t.client.inspect_container(id, done); });
    REQUIRE(info.ok());
    CHECK(!info->running);
    CHECK(info->status == "exited");
    CHECK(info->exit_code == 7);
}

TEST_CASE("exec returns the command's stdout, stderr and exit code, and stop ends the container") {
    DockerTest t;
    const std::string image = t.build_busybox_image({});
    const std::string id = t.run_container(sleeper(image));
    const dk::ExecResult ran = t.exec(id, {busybox, "sh", "-c", "echo hi; echo oops >&2; exit 3"});
    CHECK(ran.exit_code == 3);
    CHECK(ran.out == "hi\n");
    CHECK(ran.err == "oops\n");
    auto stopped = t.wait<Ok>([&](auto done) { t.client.stop_container(id, 1, done); });
    REQUIRE_MESSAGE(stopped.ok(), (stopped ? "" : stopped.error().message));
    auto again = t.wait<Ok>([&](auto done) { t.client.stop_container(id, 1, done); });
    CHECK_MESSAGE(again.ok(), "stopping a stopped container is not an error");
    auto info = t.wait<dk::ContainerInfo>([&](auto done) { t.client.inspect_container(id, done); });
    REQUIRE(info.ok());
    CHECK(!info->running);
}

TEST_CASE("an archive upload changes a file that a later exec reads") {
    DockerTest t;
    const std::string image = t.build_busybox_image({{"greeting.txt", "old\n"}});
    const std::string id = t.run_container(sleeper(image));
    CHECK(t.exec(id, {busybox, "cat", "/srv/greeting.txt"}).out == "old\n");
    dk::TarWriter tar;
    tar.add_file("greeting.txt", "new content\n");
    tar.add_file("sub/added.txt", "added\n");
    auto uploaded = t.wait<Ok>([&](auto done) { t.client.upload_archive(id, "/srv", tar.finish(), done); });
    REQUIRE_MESSAGE(uploaded.ok(), (uploaded ? "" : uploaded.error().message));
    CHECK(t.exec(id, {busybox, "cat", "/srv/greeting.txt"}).out == "new content\n");
    CHECK(t.exec(id, {busybox, "cat", "/srv/sub/added.txt"}).out == "added\n");
}

TEST_CASE("a named volume keeps its files when its container is removed and another mounts it") {
    DockerTest t;
    const std::string image = t.build_busybox_image({});
    const std::string volume = t.make_volume();
    dk::ContainerSpec spec = sleeper(image);
    spec.volumes = {{volume, "/data", false}};
    const std::string first = t.run_container(spec);
    CHECK(t.exec(first, {busybox, "sh", "-c", "echo kept > /data/file"}).exit_code == 0);
    auto killed = t.wait<Ok>([&](auto done) { t.client.kill_container(first, "SIGKILL", done); });
    CHECK(killed.ok());
    auto removed = t.wait<Ok>([&](auto done) { t.client.remove_container(first, done); });
    REQUIRE(removed.ok());
    auto volumes = t.wait<std::vector<dk::VolumeInfo>>([&](auto done) {
        t.client.list_volumes(dk::Labels{{"tandem.test", "1"}}, done);
    });
    REQUIRE(volumes.ok());
    CHECK(std::any_of(volumes->begin(), volumes->end(), [&](const dk::VolumeInfo& v) { return v.name == volume; }));
    const std::string second = t.run_container(spec);
    CHECK(t.exec(second, {busybox, "cat", "/data/file"}).out == "kept\n");
}

TEST_CASE("containers and networks are listed by label, and events filtered by label are streamed") {
    DockerTest t;
    const std::string image = t.build_busybox_image({});
    const std::string run = unique_name("run");
    std::vector<dk::DockerEvent> events;
    Status ended = Ok{};
    bool stream_done = false;
    dk::EventFilter filter;
    filter.labels = {{"tandem.test.run", run}};
    filter.types = {"container"};
    dk::StreamHandle stream = t.client.events(
        filter, [&](const dk::DockerEvent& event) { events.push_back(event); },
        [&](Status got) {
            ended = std::move(got);
            stream_done = true;
        });
    t.run_until([] { return false; }, std::chrono::seconds(1));  // the stream is open before anything happens
    dk::ContainerSpec spec = sleeper(image);
    spec.labels = {{"tandem.test.run", run}};
    const std::string id = t.run_container(spec);
    t.run_container(sleeper(image));  // no run label: neither listed nor reported
    t.run_until([&] {
        return std::any_of(events.begin(), events.end(), [](const dk::DockerEvent& e) { return e.action == "start"; });
    });
    stream.cancel();
    t.run_until([&] { return stream_done; });
    CHECK(stream_done);
    CHECK(!ended.ok());
    CHECK(ended.error().code == ErrorCode::cancelled);
    REQUIRE(!events.empty());
    for (const auto& event : events) {
        CHECK(event.id == id);
        CHECK(event.attributes.at("tandem.test.run") == run);
    }
    auto listed = t.wait<std::vector<dk::ContainerSummary>>([&](auto done) {
        t.client.list_containers(dk::Labels{{"tandem.test.run", run}}, done);
    });
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK(listed->front().id == id);
    CHECK(listed->front().state == "running");
    const std::string network = t.make_network();
    auto networks = t.wait<std::vector<dk::NetworkInfo>>([&](auto done) {
        t.client.list_networks(dk::Labels{{"tandem.test", "1"}}, done);
    });
    REQUIRE(networks.ok());
    CHECK(std::any_of(networks->begin(), networks->end(), [&](const dk::NetworkInfo& n) { return n.name == network; }));
}

TEST_CASE("the daemon's refusal is a typed error naming what was asked, for whom, and the HTTP status") {
    DockerTest t;
    dk::ContainerSpec spec;
    spec.image = "tandem-test-no-such-image:dev";
    spec.name = unique_name("never");
    auto created = t.wait<std::string>([&](auto done) {
        t.client.with_context("for service 'web'").create_container(spec, done);
    });
    REQUIRE(!created.ok());
    CHECK(created.error().code == ErrorCode::not_found);
    CHECK(created.error().message ==
          "docker: create container for service 'web': No such image: tandem-test-no-such-image:dev (HTTP 404)");
    TempDir context;
    context.write("Dockerfile", "FROM scratch\nCOPY missing.txt /\n");
    auto built = t.wait<std::string>([&](auto done) {
        t.client.with_context("for service 'api'").build(context.path(), dk::BuildOptions{}, nullptr, done);
    });
    REQUIRE(!built.ok());
    CHECK(built.error().code == ErrorCode::runtime);
    CHECK_MESSAGE(built.error().message.rfind("docker: build image for service 'api': ", 0) == 0,
                  built.error().message);
    CHECK_MESSAGE(built.error().message.find("missing.txt") != std::string::npos, built.error().message);
}
