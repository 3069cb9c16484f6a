// The CLI's side of the engine's HTTP API: when an engine serves one (it records its address in
// `<state dir>/api.json`), the commands that ask the engine go through it, the same API the web
// page uses; otherwise through the control socket.
#pragma once

#include "frontend/options.hpp"

#include <tandem/error.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace tandem::cli {

struct ApiReply {
    int status = 0;
    std::string body;
};

class ApiClient {
public:
    // The API of the engine whose control socket is `socket_path` (api.json beside it), if that
    // engine is alive and serves one. The token comes from --token, $TANDEM_API_TOKEN, or the
    // engine's local token in api.json.
    static std::optional<ApiClient> find(const std::filesystem::path& socket_path, const Options& options);

    // One request; a reply with an {"error": ...} body becomes the Error it carries.
    Result<ApiReply> get(const std::string& target) const;
    Result<ApiReply> post(const std::string& target, const std::string& json_body = {}) const;
    // A text/event-stream: `on_event(event, data)` for each event until the stream ends.
    Status stream(const std::string& target,
                  const std::function<void(const std::string& event, const std::string& data)>& on_event) const;

private:
    ApiClient(int port, std::string token) : port_(port), token_(std::move(token)) {}
    Result<ApiReply> request(const std::string& method, const std::string& target, const std::string& body) const;
    Result<int> open_request(const std::string& method, const std::string& target, const std::string& body) const;

    int port_ = 0;
    std::string token_;
};

// Records / forgets the engine's API address and local token for the CLI (`<dir>/api.json`, 0600).
void record_api_address(const std::filesystem::path& dir, int port, const std::string& token);
void forget_api_address(const std::filesystem::path& dir);

}  // namespace tandem::cli
