// Calls of the Docker client that wait for their answer: for the runtime's open() and its
// destructor, which may block (they run before and after its loop serves anything). Each has an
// io_context of its own, so the loop's thread is never involved.
#pragma once

#include "runtime/docker/docker_client.hpp"
#include "support/asio.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace tandem::container {

class BlockingDocker {
public:
    explicit BlockingDocker(const std::string& socket_path) : client_(io_, socket_path) {}

    // `start(callback)` starts one call; its answer, or timed_out after `limit`.
    template <class T, class Start>
    Result<T> call(Start start, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
        std::optional<Result<T>> out;
        start(client_, [&out](Result<T> got) { out.emplace(std::move(got)); });
        io_.restart();
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!out && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(50));
        if (!out) return make_error(ErrorCode::timed_out, "docker: the daemon did not answer in time");
        return std::move(*out);
    }

    docker::DockerClient& client() { return client_; }

private:
    boost::asio::io_context io_;
    docker::DockerClient client_;
};

}  // namespace tandem::container
