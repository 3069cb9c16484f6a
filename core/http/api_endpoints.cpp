// The answers of the HTTP API's routes, through the engine's ControlHandler: the same calls
// the control socket makes for the CLI.
#include "http/api_router.hpp"

#include "api/control_protocol.hpp"
#include "http/status_document.hpp"
#include "http/webhook.hpp"
#include "support/sha256.hpp"

#include <tandem/duration.hpp>

#include <nlohmann/json.hpp>

#include <charconv>

namespace tandem::http {

using nlohmann::json;

namespace {

constexpr std::size_t kDefaultTail = 100;
constexpr std::size_t kMaxTail = 100'000;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// ?tail=N: a count from 0 to kMaxTail, kDefaultTail when absent.
Result<std::size_t> tail_parameter(const ApiRequest& request) {
    const auto it = request.query.find("tail");
    if (it == request.query.end()) return kDefaultTail;
    std::size_t tail = 0;
    const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), tail);
    if (it->second.empty() || ec != std::errc{} || end != it->second.data() + it->second.size() || tail > kMaxTail)
        return make_error(ErrorCode::invalid_value, "tail must be a number of lines from 0 to " +
                                                        std::to_string(kMaxTail) + ", not '" + it->second + "'");
    return tail;
}

Result<bool> follow_parameter(const ApiRequest& request) {
    const auto it = request.query.find("follow");
    if (it == request.query.end() || it->second == "0" || it->second == "false") return false;
    if (it->second == "1" || it->second == "true" || it->second.empty()) return true;
    return make_error(ErrorCode::invalid_value, "follow must be 1 or 0, not '" + it->second + "'");
}

ApiReply document_reply(const Result<std::string>& document) {
    return document ? json_reply(200, *document) : error_reply(document.error());
}

ApiReply status_reply(const Status& status, const std::string& service, const std::string& action) {
    if (!status) return error_reply(status.error());
    return json_reply(200, dump(json{{"ok", true}, {"service", service}, {"action", action}, {"outcome", "succeeded"}}));
}

// The last segment of the path: "trigger" of /api/v1/services/api/trigger.
std::string last_segment(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

Routed ApiRouter::status(const ApiRequest&, const Caller& caller, const std::string&) const {
    return Routed::now(json_reply(200, status_document(engine_status(engine_, options_.tool), caller)));
}

Routed ApiRouter::events(const ApiRequest&, const Caller& caller, const std::string&) const {
    return Routed::streaming(StreamOrder{StreamOrder::Kind::events, "", 0, caller});
}

Routed ApiRouter::logs(const ApiRequest& request, const Caller& caller, const std::string& service) const {
    const auto tail = tail_parameter(request);
    if (!tail) return Routed::now(error_reply(tail.error()));
    const auto follow = follow_parameter(request);
    if (!follow) return Routed::now(error_reply(follow.error()));
    if (auto known = control::check_service(engine_, service); !known) return Routed::now(error_reply(known.error()));
    if (*follow) return Routed::streaming(StreamOrder{StreamOrder::Kind::logs, service, *tail, caller});
    return Routed::now(json_reply(200, dump(json{{"service", service}, {"lines", engine_.logs(service, *tail)}})));
}

Routed ApiRouter::history(const ApiRequest&, const Caller&, const std::string&) const {
    auto release = engine_.release_status();
    if (!release) return Routed::now(error_reply(release.error()));
    const json parsed = json::parse(*release, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
        return Routed::now(error_reply(make_error(ErrorCode::io, "the engine's release status is not JSON")));
    return Routed::now(json_reply(200, dump(parsed.value("history", json::object()))));
}

Routed ApiRouter::audit(const ApiRequest& request, const Caller&, const std::string&) const {
    const auto tail = tail_parameter(request);
    if (!tail) return Routed::now(error_reply(tail.error()));
    // The engine reads its audit file for this: off the server's thread.
    ControlHandler& engine = engine_;
    return Routed::later([&engine, count = *tail] { return document_reply(engine.audit_trail(count)); });
}

Routed ApiRouter::service_action(const ApiRequest& request, const Caller& caller, const std::string& service) const {
    const std::string action = last_segment(request.path);
    const std::string actor = caller.actor(request.remote);
    ControlHandler& engine = engine_;
    return Routed::later([&engine, action, service, actor] {
        if (auto known = control::check_service(engine, service); !known) return error_reply(known.error());
        const Status done = action == "reset"     ? engine.reset(service, actor)
                            : action == "restart" ? engine.restart(service, actor)
                                                  : engine.trigger(service, actor);
        return status_reply(done, service, action);
    });
}

Routed ApiRouter::sync(const ApiRequest& request, const Caller& caller, const std::string&) const {
    ControlHandler& engine = engine_;
    return Routed::later([&engine, actor = caller.actor(request.remote)] { return document_reply(engine.sync(actor)); });
}

Routed ApiRouter::rollback(const ApiRequest& request, const Caller& caller, const std::string&) const {
    std::string revision;
    if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
        json body;
        try {
            body = json::parse(request.body);
        } catch (const json::parse_error& e) {
            return Routed::now(error_reply(make_error(ErrorCode::syntax, std::string("malformed JSON body: ") + e.what())));
        }
        if (!body.is_object() || (body.contains("revision") && !body["revision"].is_string()))
            return Routed::now(error_reply(
                make_error(ErrorCode::invalid_value, R"(expected a JSON object like {"revision": "1a2b3c"})")));
        revision = body.value("revision", "");
    }
    ControlHandler& engine = engine_;
    return Routed::later([&engine, revision, actor = caller.actor(request.remote)] {
        return document_reply(engine.rollback(revision, actor));
    });
}

Routed ApiRouter::metrics(const ApiRequest&, const Caller&, const std::string&) const {
    return Routed::now(ApiReply{200, "text/plain; version=0.0.4; charset=utf-8",
                                metrics_.render(engine_.status(), engine_.counters()), {{"Cache-Control", "no-store"}}});
}

Routed ApiRouter::webhook(const ApiRequest& request, const Caller&, const std::string&) const {
    if (options_.webhook_secret.empty())
        return Routed::now(
            error_reply(404, "not_found", "no webhook here: the engine was started without a webhook secret"));
    const WebhookVerdict verdict = check_webhook(options_.webhook_secret, request);
    if (verdict == WebhookVerdict::no_signature || verdict == WebhookVerdict::bad_signature) {
        const std::string why = verdict == WebhookVerdict::no_signature ? "no X-Hub-Signature-256" : "bad signature";
        report_denied(request, 401, "webhook: " + why);
        return Routed::now(error_reply(401, "unauthorized", "webhook: " + why));
    }
    if (verdict == WebhookVerdict::ping) return Routed::now(json_reply(200, R"({"pong":true})"));
    if (verdict == WebhookVerdict::other) return Routed::now(json_reply(200, R"({"ignored":true})"));
    // The signature covers the body only, so the body's digest is what a replay cannot change.
    const std::string digest = sha256_hex(request.body);
    if (auto replay = deliveries_->admit(webhook_delivery_id(request), digest, RecentDeliveries::Clock::now()))
        return Routed::now(refuse_replay(request, *replay));
    ControlHandler& engine = engine_;
    if (!background_([&engine] { (void)engine.sync("webhook"); })) {
        deliveries_->forget(digest);  // not acted on: the sender's retry is not a replay
        return Routed::now(error_reply(503, "busy", "too many requests under way: try again"));
    }
    return Routed::now(json_reply(202, R"({"accepted":true})"));
}

ApiReply ApiRouter::refuse_replay(const ApiRequest& request, const RecentDeliveries::Replay& replay) const {
    const auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(replay.since_first);
    const std::string what = "webhook: replay of " + (replay.id.empty() ? "a delivery" : "delivery " + replay.id) +
                             " accepted " + format_duration(ago) + " ago";
    // Through the refusal tally like every refusal: a flood of replays is one record per peer and minute.
    report_denied(request, 409, what + " (replay " + std::to_string(replay.replays) + ")");
    return error_reply(409, "replayed", what + ": not acted on again");
}

}  // namespace tandem::http
