// Who an API request comes from and what it may do: bearer tokens, the built-in roles
// (viewer, deployer, admin) and the project's `access.roles`.
#pragma once

#include <tandem/http_api.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::http {

struct Caller {
    std::string token;                 // the token's name; "" when no token is required
    std::string role;                  // "admin" when no token is required
    std::vector<std::string> actions;  // what the role grants; "*" grants everything
    std::string user;                  // the local user the token acts for (ApiToken::user), or ""

    bool may(std::string_view action) const;
    // The actor of audit records: "http alice from 127.0.0.1", "http anonymous from ::1", or for
    // a token that acts for a local user "user ada (local CLI, http from 127.0.0.1)".
    std::string actor(std::string_view remote) const;
};

class AccessControl {
public:
    // Refuses (policy_denied) a role granting "*" under deny_wildcards, and (unknown_reference)
    // a token naming a role that is neither built in nor a project role.
    static Result<AccessControl> make(const HttpApiOptions& options);

    bool required() const { return required_; }
    // The caller that sent `secret` ("" when it sent none). Without require_token, an admin
    // whatever it sent (named after its token when it sent a known one). The error (policy_denied) says why: "no token", "unknown token".
    Result<Caller> identify(std::string_view secret) const;
    // Whether `secret` is one of the tokens' (compared in constant time).
    bool knows(std::string_view secret) const;

private:
    bool required_ = false;
    std::vector<ApiToken> tokens_;
    std::map<std::string, std::vector<std::string>, std::less<>> roles_;
};

}  // namespace tandem::http
