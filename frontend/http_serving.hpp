// Starting the engine's HTTP API for `up` and `run`: the port from --http-port or the tool's
// default, tokens and the webhook secret from files, security from the policy set.
#pragma once

#include "frontend/options.hpp"

#include <tandem/http_api.hpp>
#include <tandem/policy.hpp>

#include <functional>
#include <memory>

namespace tandem::cli {

struct HttpServing {
    const PolicySet* policy = nullptr;
    std::vector<AccessRole> roles;                      // the project's access.roles
    std::optional<int> port;                            // the project's access.port
    std::function<void(const std::string&)> on_denied;  // refused requests (audit them where the policy audits)
    std::function<void(const std::string&)> say;        // a line for the user
};

struct ServedApi {
    std::unique_ptr<HttpApi> api;  // null with --http-port off, or when the default port was taken
    // An admin token made for this run, for the CLI on this machine: recorded with the address
    // in the state directory (mode 0600, like the control socket), so `status`, `sync`... work
    // under security.strict without a token of their own.
    std::string local_token;
};

// Starts the API, or nothing with --http-port off. With the tool's default port taken, the
// engine goes on without the API and says how to pick another; a port given by the flag that
// cannot be used, or unreadable token/secret files, are errors.
Result<ServedApi> serve_http(const Options& options, const ToolDefaults& tool, ControlHandler& engine,
                             const HttpServing& serving);

}  // namespace tandem::cli
