// A blocking HTTP/1.0 GET for tests, so that they talk to services the way a client would.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace tandem::test {

struct HttpReply {
    int status = 0;
    std::string body;
};

// nullopt when the connection fails or no complete reply arrives within `timeout`.
std::optional<HttpReply> http_get(int port, const std::string& path,
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace tandem::test
