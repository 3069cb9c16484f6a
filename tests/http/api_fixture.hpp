// An HttpApi on a free port over a FakeControlHandler with two services, for the HTTP API's
// tests; requests go over real sockets.
#pragma once

#include "api/fake_control_handler.hpp"
#include "support/http_client.hpp"

#include <tandem/http_api.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::test {

inline ServiceStatus fake_service(const std::string& name, int port) {
    ServiceStatus s;
    s.name = name;
    s.state = ServiceState::ready;
    s.port = port;
    s.replicas.push_back(ReplicaStatus{3, "pid 4242", 27841, Health::healthy, true, {}});
    s.proxy_connections = 12;
    s.errors.crashes = 2;
    return s;
}

// The tokens of the auth tests: one per built-in role.
inline std::vector<ApiToken> role_tokens() {
    return {{"grafana", "viewer", "viewer-secret", ""},
            {"ci", "deployer", "deployer-secret", ""},
            {"alice", "admin", "admin-secret", ""}};
}

inline HttpHeaders bearer(const std::string& secret) { return {{"Authorization", "Bearer " + secret}}; }

class ApiFixture {
public:
    explicit ApiFixture(HttpApiOptions options = {}) {
        engine.services = {fake_service("api", 7400), fake_service("store", 7401)};
        engine.log_lines["api"] = {"line 1", "line 2", "line 3"};
        options.tool = options.tool == "tandem" ? "devloop" : options.tool;
        options.on_denied = [this](const std::string& what) {
            std::lock_guard lock(mutex_);
            denied_.push_back(what);
        };
        auto started = HttpApi::start(options, engine);
        REQUIRE_MESSAGE(started, (started ? "" : started.error().to_string()));
        api = std::move(*started);
        port = api->port();
    }

    std::optional<HttpReply> get(const std::string& path, const HttpHeaders& headers = {}) {
        return http_request(port, "GET", path, {}, headers);
    }
    std::optional<HttpReply> post(const std::string& path, const std::string& body = {}, const HttpHeaders& headers = {}) {
        return http_request(port, "POST", path, body, headers);
    }
    std::vector<std::string> denied() {
        std::lock_guard lock(mutex_);
        return denied_;
    }

private:
    std::mutex mutex_;  // before the API: its thread reports denials until it is gone
    std::vector<std::string> denied_;

public:
    FakeControlHandler engine;  // before the API: it outlives it
    std::unique_ptr<HttpApi> api;
    int port = 0;
};

}  // namespace tandem::test
