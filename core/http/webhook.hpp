// The git push webhook's checks: GitHub's and Gitea's X-Hub-Signature-256 and event headers.
#pragma once

#include "http/api_message.hpp"

#include <string>
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

// The sender's id of this delivery (X-GitHub-Delivery, X-Gitea-Delivery, X-Gogs-Delivery), kept
// to letters, digits, '-', '_' and '.' and 100 characters; "" when there is none. Not covered by
// the signature: a replayer can change it, so replays are recognised by the body as well.
std::string webhook_delivery_id(const ApiRequest& request);

}  // namespace tandem::http
