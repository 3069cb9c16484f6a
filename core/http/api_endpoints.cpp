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

// A POST's body: empty, or a JSON object whose "revision" (if any) is a string.
Result<std::string> revision_in_body(const ApiRequest& request) {
    if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string{};
    json body;
    try {
        body = json::parse(request.body);
    } catch (const json::parse_error& e) {
        return make_error(ErrorCode::syntax, std::string("malformed JSON body: ") + e.what());
    }
    if (!body.is_object() || (body.contains("revision") && !body["revision"].is_string()))
        return make_error(ErrorCode::invalid_value, R"(expected a JSON object like {"revision": "1a2b3c"})");
    return body.value("revision", "");
}

// The operation's arguments beyond the service: a GET's from the query, a POST's from the body.
Status read_arguments(const ApiRequest& request, const EngineOperation& operation, ControlRequest& call) {
    if (operation.argument("tail")) {
        const auto tail = tail_parameter(request);
        if (!tail) return tail.error();
        call.tail = *tail;
    }
    if (operation.argument("follow")) {
        const auto follow = follow_parameter(request);
        if (!follow) return follow.error();
        call.follow = *follow;
    }
    if (operation.argument("revision")) {
        if (operation.access == EngineOperation::Access::read) {
            const auto it = request.query.find("revision");
            call.revision = it == request.query.end() ? std::string{} : it->second;
        } else {
            auto revision = revision_in_body(request);
            if (!revision) return revision.error();
            call.revision = std::move(*revision);
        }
    }
    return Ok{};
}

ApiReply operation_reply(const EngineOperation& operation, const ControlRequest& call,
                         const Result<OperationReply>& reply) {
    if (!reply) return error_reply(reply.error());
    if (operation.reply == EngineOperation::Reply::lines)
        return json_reply(200, dump(json{{"service", call.service}, {"lines", reply->lines}}));
    return json_reply(200, reply->document);
}

}  // namespace

Routed ApiRouter::status(const Caller& caller) const {
    return Routed::now(json_reply(200, status_document(engine_status(engine_, options_.tool), caller)));
}

Routed ApiRouter::events(const ApiRequest&, const Caller& caller, const std::string&) const {
    return Routed::streaming(StreamOrder{StreamOrder::Kind::events, "", 0, caller});
}

Routed ApiRouter::perform_operation(const ApiRequest& request, const Caller& caller, const std::string& service,
                                    const EngineOperation& operation) const {
    if (operation.name == "status") return status(caller);  // with the actions this caller may take
    ControlRequest call;
    call.command = std::string(operation.name);
    call.service = service;
    call.actor = caller.actor(request.remote);
    if (auto read = read_arguments(request, operation, call); !read) return Routed::now(error_reply(read.error()));
    if (call.follow) {
        if (auto allowed = admissible(engine_, operation, call); !allowed) return Routed::now(error_reply(allowed.error()));
        if (auto known = control::check_service(engine_, service); !known) return Routed::now(error_reply(known.error()));
        return Routed::streaming(StreamOrder{StreamOrder::Kind::logs, service, call.tail, caller});
    }
    ControlHandler& engine = engine_;
    auto answer = [&engine, &operation, call] { return operation_reply(operation, call, perform(engine, operation, call)); };
    return operation.waits ? Routed::later(answer) : Routed::now(answer());
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
    if (PreviewControl* previews = engine.previews()) previews->pushed("webhook");  // returns at once
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
