// The host names the API answers to, and which requests count as coming from its own page:
// a web page elsewhere must not act on the engine, neither by a cross-site request (a form
// or fetch() to 127.0.0.1) nor through DNS rebinding (its own name resolving to 127.0.0.1).
#pragma once

#include "http/api_message.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tandem::http {

class AllowedHosts {
public:
    // localhost, 127.0.0.1, [::1], `listen_address` and `extra` (names, any case).
    AllowedHosts(const std::string& listen_address, const std::vector<std::string>& extra);

    // Why the request's Host header names a host that is not one of these (its port is not
    // checked); nullopt when it is one, or when there is no Host (not a browser).
    std::optional<std::string> misdirected(const ApiRequest& request) const;
    // Why a request that changes something (a method other than GET, HEAD, OPTIONS) comes from
    // another site: its Origin is not its Host (scheme aside), or Sec-Fetch-Site says
    // cross-site or same-site. nullopt for a request from the page itself or from a program
    // (no Origin, no Sec-Fetch-Site).
    std::optional<std::string> cross_site(const ApiRequest& request) const;

    std::string names() const;  // "localhost, 127.0.0.1, [::1]" for messages

private:
    std::vector<std::string> names_;  // lowercase
};

}  // namespace tandem::http
