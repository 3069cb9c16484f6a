// What the docker tests share: a client on an io_context the test drives, a wait for one
// asynchronous call, a small FROM scratch image with busybox, and cleanup of everything a test
// made (all of it labelled tandem.test, which tests/support/dockerd.sh stop removes too).
#pragma once

#include "runtime/docker/docker_client.hpp"
#include "support/asio.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tandem::test {

namespace dk = tandem::docker;

// Exits the test with 77 (CTest: skipped), printing why, when no daemon answers or busybox is
// missing.
void require_docker();

// The labels every object a test makes carries.
dk::Labels test_labels();

// A name no other test (or run) uses: "tandem-test-<what>-<pid>-<n>".
std::string unique_name(const std::string& what);

class DockerTest {
public:
    DockerTest();   // requires docker, negotiates the API version
    ~DockerTest();  // removes what the test made: containers, networks, volumes, images

    // Starts a call with a callback and runs the io_context until it answers (or 60 s pass).
    template <class T, class Start>
    Result<T> wait(Start start) {
        std::optional<Result<T>> out;
        start([&out](Result<T> got) { out.emplace(std::move(got)); });
        run_until([&out] { return out.has_value(); });
        if (!out) return make_error(ErrorCode::timed_out, "the docker call did not answer within 60 s");
        return std::move(*out);
    }
    // Runs the io_context until `done()` holds or 60 s pass.
    template <class Predicate>
    void run_until(Predicate done, std::chrono::seconds limit = std::chrono::seconds(60)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        io.restart();
        while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(100));
    }

    // Builds a FROM scratch image with /bin/busybox and `files` (relative path -> content) in
    // /srv; its .dockerignore is `dockerignore`. Returns the image ID; removed at the end.
    std::string build_busybox_image(const std::vector<std::pair<std::string, std::string>>& files,
                                    const std::string& dockerignore = {});
    // Creates and starts a labelled container; removed at the end.
    std::string run_container(dk::ContainerSpec spec);
    std::string make_network();
    std::string make_volume();
    // Runs `cmd` in the container, failing the test when the exec call itself fails.
    dk::ExecResult exec(const std::string& id, std::vector<std::string> cmd);

    boost::asio::io_context io;
    dk::DockerClient client{io};
    std::vector<std::string> build_progress;
    std::vector<std::string> containers, networks, volumes, images;
};

}  // namespace tandem::test
