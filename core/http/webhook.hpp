// The git push webhook's checks: GitHub's and Gitea's X-Hub-Signature-256 and event headers.
#pragma once

#include "http/api_message.hpp"

#include <string_view>

namespace tandem::http {

enum class WebhookVerdict {
    push,           // a push with a good signature: sync
    ping,           // a ping with a good signature: answer it
    other,          // another event with a good signature: nothing to do
    no_signature,   // refused
    bad_signature,  // refused
};

// Checks `request` against `secret` (not empty): the signature first, whatever the event.
WebhookVerdict check_webhook(std::string_view secret, const ApiRequest& request);

}  // namespace tandem::http
