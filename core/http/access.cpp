// Roles and tokens of the HTTP API.
#include "http/access.hpp"

#include "support/hmac_sha256.hpp"

#include <algorithm>

namespace tandem::http {

namespace {

const std::map<std::string, std::vector<std::string>, std::less<>>& builtin_roles() {
    static const std::map<std::string, std::vector<std::string>, std::less<>> roles = {
        {"viewer", {"status", "logs"}},
        {"deployer", {"status", "logs", "sync", "rollback"}},
        {"admin", {"*"}},
    };
    return roles;
}

std::string role_names(const std::map<std::string, std::vector<std::string>, std::less<>>& roles) {
    std::string names;
    for (const auto& [name, actions] : roles) names += (names.empty() ? "" : ", ") + name;
    return names;
}

}  // namespace

bool Caller::may(std::string_view action) const {
    return std::any_of(actions.begin(), actions.end(), [&](const std::string& a) { return a == "*" || a == action; });
}

std::string Caller::actor(std::string_view remote) const {
    if (!user.empty()) return "user " + user + " (local CLI, http from " + std::string(remote) + ")";
    return "http " + (token.empty() ? std::string("anonymous") : token) + " from " + std::string(remote);
}

Result<AccessControl> AccessControl::make(const HttpApiOptions& options) {
    AccessControl access;
    access.required_ = options.require_token;
    access.tokens_ = options.tokens;
    access.roles_ = builtin_roles();
    // A project role of a built-in role's name replaces it.
    for (const AccessRole& role : options.roles) {
        const bool wildcard = std::find(role.actions.begin(), role.actions.end(), "*") != role.actions.end();
        if (wildcard && options.deny_wildcards)
            return make_error(ErrorCode::policy_denied,
                              "access role '" + role.name +
                                  "' grants \"*\", which the policy refuses (security.deny_wildcards): list its actions",
                              role.location);
        access.roles_[role.name] = role.actions;
    }
    for (const ApiToken& token : options.tokens) {
        if (access.roles_.find(token.role) == access.roles_.end())
            return make_error(ErrorCode::unknown_reference, "API token '" + token.name + "' names role '" + token.role +
                                                                "', which is not defined (roles: " +
                                                                role_names(access.roles_) + ")");
    }
    return access;
}

namespace {

// Every token is compared, each in constant time, so the time says nothing about which matched.
const ApiToken* find_token(const std::vector<ApiToken>& tokens, std::string_view secret) {
    const ApiToken* found = nullptr;
    for (const ApiToken& token : tokens)
        if (!secret.empty() && equal_in_constant_time(secret, token.secret) && !found) found = &token;
    return found;
}

}  // namespace

bool AccessControl::knows(std::string_view secret) const { return find_token(tokens_, secret) != nullptr; }

Result<Caller> AccessControl::identify(std::string_view secret) const {
    const ApiToken* found = find_token(tokens_, secret);
    if (!required_) {
        if (!found) return Caller{"", "admin", {"*"}, ""};
        return Caller{found->name, "admin", {"*"}, found->user};
    }
    if (secret.empty()) return make_error(ErrorCode::policy_denied, "no token");
    if (!found) return make_error(ErrorCode::policy_denied, "unknown token");
    return Caller{found->name, found->role, roles_.find(found->role)->second, found->user};
}

}  // namespace tandem::http
