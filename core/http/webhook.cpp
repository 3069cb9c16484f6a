// Webhook signatures: HMAC-SHA256 of the body, compared in constant time.
#include "http/webhook.hpp"

#include "support/hmac_sha256.hpp"

#include <tandem/http_api.hpp>

#include <cctype>

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

std::string webhook_delivery_id(const ApiRequest& request) {
    std::string id = request.header("x-github-delivery");
    if (id.empty()) id = request.header("x-gitea-delivery");
    if (id.empty()) id = request.header("x-gogs-delivery");
    std::string kept;
    for (char c : id) {
        if (kept.size() == 100) break;
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') kept += c;
    }
    return kept;
}

}  // namespace http

}  // namespace tandem
