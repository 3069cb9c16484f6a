// The engine's HTTP API and web page (Boost.Beast, behind this header): every engine operation
// (tandem/operations.hpp) as a route, through the same ControlHandler and checks as the control
// socket, for browsers and programs; docs/http-api.md lists them.
//
//   GET  /                                  the web page (assets compiled into the library)
//   GET  /api/v1/NAME, /api/v1/services/SERVICE/NAME   a read operation (status, logs, history, diff, audit)
//   POST /api/v1/NAME, /api/v1/services/SERVICE/NAME   a change (down, trigger, restart, reset, sync, rollback)
//   GET  /api/v1/events                     Server-Sent Events: state changes, actions, log lines
//   GET  /metrics                           Prometheus text format
//   POST /api/v1/webhook/git                push webhook, X-Hub-Signature-256 checked: triggers a sync
#pragma once

#include <tandem/control.hpp>
#include <tandem/error.hpp>
#include <tandem/runtime.hpp>
#include <tandem/spec.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tandem {

// A bearer token and the role it acts as.
struct ApiToken {
    std::string name;    // for the audit record: "ci", "alice"
    std::string role;    // "viewer", "deployer", "admin", or a role of the project's `access.roles`
    std::string secret;  // what the client sends: "Authorization: Bearer <secret>"
    // The local user a request bearing this token acts for, when only that user can hold it
    // (the engine's per-run token in STATE/api.json, mode 0600): the audit names the user.
    std::string user;
};

// Reads tokens from a file: one per line, "NAME ROLE SECRET"; blank lines and lines starting
// with '#' are skipped. Errors name the file and line.
Result<std::vector<ApiToken>> load_api_tokens(const std::filesystem::path& file);

struct HttpApiOptions {
    std::string address = "127.0.0.1";
    int port = 0;                        // 0: a free port (HttpApi::port() tells which)
    std::string tool = "tandem";         // shown on the page: "devloop", "shipper"
    bool require_token = false;          // security.strict: every request but /metrics and the webhook
    bool deny_wildcards = false;         // security.deny_wildcards: a role granting "*" refuses start()
    std::vector<ApiToken> tokens;
    // Roles beyond the built-in viewer (status, logs), deployer (+ sync, rollback) and admin
    // (every action): the project's `access.roles`.
    std::vector<AccessRole> roles;
    std::string webhook_secret;          // empty: the webhook answers 404
    // A push delivery accepted within the window (the same body or delivery id) is a replay:
    // 409, no sync. At most `webhook_deliveries_kept` are remembered (the oldest go first).
    Duration webhook_replay_window = std::chrono::hours(24);
    std::size_t webhook_deliveries_kept = 10'000;
    std::size_t max_body_bytes = 64 * 1024;
    // Connections open at once, in all and from one peer address; more are refused at accept
    // (a 503, then closed). The total is further held to half the soft RLIMIT_NOFILE, so that
    // API clients never take the descriptors fetches, builds and replicas need.
    std::size_t max_connections = 256;
    std::size_t max_connections_per_peer = 32;
    // A request's header must arrive whole this long after the connection opens (or after its
    // first byte, on a kept-alive connection), and a kept-alive connection idle this long is closed.
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds idle_timeout{60000};
    // Host names (with or without ":port") the API answers to beyond localhost, 127.0.0.1, [::1]
    // and `address`: a request naming another host gets 421 (DNS rebinding). Also the origins
    // (http://NAME:PORT) a state-changing request may come from.
    std::vector<std::string> allowed_hosts;
    // A request refused for want of a (good) token or role, or for its Host or Origin, for the
    // audit log: "401 GET /api/v1/status from 127.0.0.1: no token". Refusals are aggregated per
    // peer and minute (docs/http-api.md): the first of a peer is reported, the rest counted and
    // reported as one "N more refusals from PEER in the last 60s" when the minute ends or the
    // API stops. Called on the server's thread.
    std::function<void(const std::string& what)> on_denied;
};

class HttpApi {
public:
    // Listens (an error names the address and port when it cannot), and serves on a thread of
    // its own until destroyed. `engine` must outlive the HttpApi.
    static Result<std::unique_ptr<HttpApi>> start(const HttpApiOptions& options, ControlHandler& engine);
    ~HttpApi();  // closes every connection and stream

    int port() const;

    // Feed every runtime event here: streams (/events, followed logs) and metrics use them.
    void publish(const RuntimeEvent& event);

    struct State;

private:
    explicit HttpApi(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// HMAC-SHA256 of `body` with `secret`, as "sha256=<64 hex>" (the X-Hub-Signature-256 form).
std::string hub_signature(std::string_view secret, std::string_view body);

}  // namespace tandem
