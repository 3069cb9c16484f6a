// The HTTP API's routes (docs/http-api.md): which method and path do what, who may, and the
// answer. No sockets here: the server (http_server.cpp) turns requests into ApiRequests,
// writes the replies, runs deferred answers off its thread and serves the streams.
#pragma once

#include "http/access.hpp"
#include "http/allowed_hosts.hpp"
#include "http/api_message.hpp"
#include "http/metrics.hpp"
#include "http/webhook_deliveries.hpp"

#include <tandem/control.hpp>
#include <tandem/http_api.hpp>
#include <tandem/operations.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tandem::http {

// A text/event-stream to serve: the engine's events, or a service's log lines.
struct StreamOrder {
    enum class Kind { events, logs };
    Kind kind = Kind::events;
    std::string service;   // logs: whose
    std::size_t tail = 0;  // logs: lines sent before the new ones
    Caller caller;
};

struct Routed {
    ApiReply reply;
    std::function<ApiReply()> deferred;  // set: the answer blocks in the engine (run it off the server's thread)
    std::optional<StreamOrder> stream;   // set: serve this stream instead of a reply

    static Routed now(ApiReply reply) { return Routed{std::move(reply), {}, {}}; }
    static Routed later(std::function<ApiReply()> answer) { return Routed{{}, std::move(answer), {}}; }
    static Routed streaming(StreamOrder order) { return Routed{{}, {}, std::move(order)}; }
};

class ApiRouter {
public:
    // Runs a task on a thread of its own; false when it cannot take more now.
    using Background = std::function<bool(std::function<void()>)>;
    // A refused request: the peer's address and what happened, for the audit (RefusalTally).
    using Refused = std::function<void(const std::string& peer, const std::string& what)>;

    ApiRouter(HttpApiOptions options, ControlHandler& engine, AccessControl access, Metrics& metrics,
              Background background, Refused refused);

    Routed route(const ApiRequest& request) const;

private:
    using Handler = Routed (ApiRouter::*)(const ApiRequest&, const Caller&, const std::string& service) const;
    // A route of an engine operation (engine_operations(): every row is one), or one the HTTP
    // API has of its own (the events stream, metrics, the webhook).
    struct Route {
        std::string method;
        std::string pattern;  // a "*" segment matches the service's name
        std::string action;   // what the caller's role must grant; "" for a route open to all
        Handler handle = nullptr;                      // the API's own route
        const EngineOperation* operation = nullptr;  // an engine operation's
    };
    static const std::vector<Route>& routes();

    Routed authorized(const ApiRequest& request, const Route& route, const std::string& service) const;
    // 401 (with WWW-Authenticate), 403 or 421, reported to `refused_`.
    ApiReply refuse(const ApiRequest& request, int status, std::string_view code, const std::string& why) const;
    // 421 for a Host that is not ours, 403 for a change asked for by another site's page
    // without a token; nullopt for a request that may go on. The webhook is signed: not checked.
    std::optional<ApiReply> foreign_site(const ApiRequest& request) const;
    void report_denied(const ApiRequest& request, int status, const std::string& why) const;

    // An engine operation: its arguments from the path, query or body, then perform().
    Routed perform_operation(const ApiRequest& request, const Caller& caller, const std::string& service,
                             const EngineOperation& operation) const;
    Routed status(const Caller& caller) const;  // the operation's document, and the caller's actions
    Routed events(const ApiRequest&, const Caller&, const std::string&) const;
    Routed metrics(const ApiRequest&, const Caller&, const std::string&) const;
    Routed webhook(const ApiRequest&, const Caller&, const std::string&) const;
    // 409 for a push delivery accepted before, reported as a refusal.
    ApiReply refuse_replay(const ApiRequest& request, const RecentDeliveries::Replay& replay) const;

    HttpApiOptions options_;
    ControlHandler& engine_;
    AccessControl access_;
    Metrics& metrics_;
    Background background_;
    Refused refused_;
    AllowedHosts hosts_;
    std::shared_ptr<RecentDeliveries> deliveries_;
};

}  // namespace tandem::http
