// Webhook signatures: HMAC-SHA256 of the body, compared in constant time.
#include "http/webhook.hpp"

#include "support/hmac_sha256.hpp"

#include <tandem/http_api.hpp>

namespace tandem {

std::string hub_signature(std::string_view secret, std::string_view body) {
    return "sha256=" + hmac_sha256_hex(secret, body);
}

namespace http {

WebhookVerdict check_webhook(std::string_view secret, const ApiRequest& request) {
    const std::string signature = request.header("x-hub-signature-256");
    if (signature.empty()) return WebhookVerdict::no_signature;
    if (!equal_in_constant_time(signature, hub_signature(secret, request.body))) return WebhookVerdict::bad_signature;
    std::string event = request.header("x-github-event");
    if (event.empty()) event = request.header("x-gitea-event");
    if (event == "ping") return WebhookVerdict::ping;
    // A sender that names no event is taken at its (signed) word: a push.
    if (event.empty() || event == "push") return WebhookVerdict::push;
    return WebhookVerdict::other;
}

}  // namespace http

}  // namespace tandem
