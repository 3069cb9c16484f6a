// Matching a request to its route, and the tokens and roles that let it through.
#include "http/api_router.hpp"

#include "http/refusal_tally.hpp"
#include "http/web_assets.hpp"

#include <algorithm>
#include <cctype>

namespace tandem::http {

namespace {

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') path.remove_prefix(1);
        const auto end = path.find('/');
        out.push_back(path.substr(0, end));
        path = end == std::string_view::npos ? std::string_view{} : path.substr(end);
    }
    return out;
}

// Whether `path` fits `pattern`; the "*" segment's text goes to `service`, decoded.
bool matches(std::string_view pattern, std::string_view path, std::string& service) {
    const auto want = segments(pattern), have = segments(path);
    if (want.size() != have.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (want[i] == "*") service = percent_decode(have[i]);
        else if (want[i] != have[i]) return false;
    }
    return true;
}

// The secret of "Authorization: Bearer SECRET", else of ?access_token=SECRET.
std::string presented_secret(const ApiRequest& request) {
    const std::string authorization = request.header("authorization");
    constexpr std::string_view kScheme = "bearer ";
    if (authorization.size() > kScheme.size() &&
        std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                   [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
        std::string secret = authorization.substr(kScheme.size());
        while (!secret.empty() && secret.front() == ' ') secret.erase(secret.begin());
        return secret;
    }
    const auto it = request.query.find("access_token");
    return it == request.query.end() ? std::string{} : it->second;
}

constexpr std::string_view kWebhookPath = "/api/v1/webhook/git";

// The page runs its own files and nothing else: scripts (modules), styles and requests from
// its origin only, no inline script or eval, images from its origin or data: (the icon), no
// plugins, no <base>, no form submissions, no framing by another page; and no type sniffing.
constexpr std::string_view kPagePolicy =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

ApiReply asset_reply(const WebAsset& asset) {
    return ApiReply{200,
                    std::string(asset.content_type),
                    std::string(asset.content),
                    {{"Cache-Control", "no-cache"},
                     {"Content-Security-Policy", std::string(kPagePolicy)},
                     {"X-Content-Type-Options", "nosniff"}}};
}

}  // namespace

ApiRouter::ApiRouter(HttpApiOptions options, ControlHandler& engine, AccessControl access, Metrics& metrics,
                     Background background, Refused refused)
    : options_(std::move(options)), engine_(engine), access_(std::move(access)), metrics_(metrics),
      background_(std::move(background)), refused_(std::move(refused)),
      hosts_(options_.address, options_.allowed_hosts),
      deliveries_(std::make_shared<RecentDeliveries>(options_.webhook_replay_window, options_.webhook_deliveries_kept)) {}

const std::vector<ApiRouter::Route>& ApiRouter::routes() {
    static const std::vector<Route> table = [] {
        std::vector<Route> routes;
        for (const EngineOperation& operation : engine_operations())
            routes.push_back(Route{http_method(operation), http_pattern(operation), std::string(operation.grant),
                                   nullptr, &operation});
        routes.push_back(Route{"GET", "/api/v1/events", "status", &ApiRouter::events, nullptr});
        routes.push_back(Route{"GET", "/metrics", "", &ApiRouter::metrics, nullptr});
        routes.push_back(Route{"POST", std::string(kWebhookPath), "", &ApiRouter::webhook, nullptr});
        return routes;
    }();
    return table;
}

std::optional<ApiReply> ApiRouter::foreign_site(const ApiRequest& request) const {
    if (request.path == kWebhookPath) return std::nullopt;
    if (auto why = hosts_.misdirected(request)) return refuse(request, 421, "misdirected", *why);
    if (auto why = hosts_.cross_site(request); why && !access_.knows(presented_secret(request)))
        return refuse(request, 403, "cross_site", *why);
    return std::nullopt;
}

Routed ApiRouter::route(const ApiRequest& request) const {
    if (auto refused = foreign_site(request)) return Routed::now(std::move(*refused));
    std::string allowed;  // the methods of routes with this path, for a 405
    for (const Route& route : routes()) {
        std::string service;
        if (!matches(route.pattern, request.path, service)) continue;
        if (route.method == request.method) return authorized(request, route, service);
        allowed += (allowed.empty() ? "" : ", ") + std::string(route.method);
    }
    if (!allowed.empty()) {
        ApiReply reply = error_reply(405, "method_not_allowed", request.method + " is not one of: " + allowed);
        reply.headers.emplace_back("Allow", allowed);
        return Routed::now(std::move(reply));
    }
    // The page's files hold no data, so they need no token: the page asks for one.
    if (request.method == "GET" && request.path.rfind("/api/", 0) != 0)
        if (auto asset = web_asset(request.path)) return Routed::now(asset_reply(*asset));
    return Routed::now(error_reply(404, "not_found", "no " + request.method + " " + request.path + " here"));
}

Routed ApiRouter::authorized(const ApiRequest& request, const Route& route, const std::string& service) const {
    if (route.action.empty()) return (this->*route.handle)(request, Caller{}, service);
    auto caller = access_.identify(presented_secret(request));
    if (!caller) return Routed::now(refuse(request, 401, "unauthorized", caller.error().message));
    if (!caller->may(route.action)) {
        const std::string who = "token '" + caller->token + "' (role '" + caller->role + "')";
        return Routed::now(refuse(request, 403, "policy_denied", who + " may not " + route.action));
    }
    if (route.operation) return perform_operation(request, *caller, service, *route.operation);
    return (this->*route.handle)(request, *caller, service);
}

void ApiRouter::report_denied(const ApiRequest& request, int status, const std::string& why) const {
    constexpr std::size_t kMaxPath = 200;  // the rest of a long path says nothing more about who
    if (refused_)
        refused_(request.remote, std::to_string(status) + " " + cut_text(request.method, 16) + " " +
                                     cut_text(request.path, kMaxPath) + " from " + request.remote + ": " + why);
}

ApiReply ApiRouter::refuse(const ApiRequest& request, int status, std::string_view code, const std::string& why) const {
    report_denied(request, status, why);
    if (status != 401) return error_reply(status, code, why);
    ApiReply reply = error_reply(401, "unauthorized", why + ": send Authorization: Bearer SECRET");
    reply.headers.emplace_back("WWW-Authenticate", "Bearer");
    return reply;
}

}  // namespace tandem::http
