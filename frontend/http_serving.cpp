// The front-ends' start-up of the HTTP API.
#include "frontend/http_serving.hpp"

#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace tandem::cli {

namespace {

Result<std::string> read_secret(const std::string& file) {
    std::ifstream in(file);
    if (!in) return make_error(ErrorCode::io, "--webhook-secret-file: cannot read " + file);
    std::stringstream text;
    text << in.rdbuf();
    std::string secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
    if (secret.empty()) return make_error(ErrorCode::invalid_value, "--webhook-secret-file: " + file + " is empty");
    return secret;
}

// 32 random bytes as hex.
Result<std::string> random_token() {
    std::ifstream in("/dev/urandom", std::ios::binary);
    unsigned char bytes[32];
    if (!in.read(reinterpret_cast<char*>(bytes), sizeof bytes))
        return make_error(ErrorCode::io, "cannot read /dev/urandom for the local API token");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token;
    for (unsigned char b : bytes) {
        token += kHex[b >> 4];
        token += kHex[b & 15];
    }
    return token;
}

// The engine's own user: the owner of api.json, the only user (with root) who can read the
// local token in it.
std::string engine_user() {
    passwd entry{};
    passwd* found = nullptr;
    char buffer[1024];
    const uid_t uid = ::geteuid();
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) return found->pw_name;
    return "uid " + std::to_string(uid);
}

}  // namespace

Result<ServedApi> serve_http(const Options& options, const ToolDefaults& tool, ControlHandler& engine,
                                            const HttpServing& serving) {
    if (options.http_port == -1) return ServedApi{};
    const bool git = engine.source() == SourceKind::git;  // run's engine, not the tool's default
    HttpApiOptions http;
    // --http-port, then tandem.yaml's access.port, then the tool's default.
    const std::optional<int> chosen = options.http_port ? options.http_port : serving.port;
    http.port = chosen.value_or(git ? 10351 : 10350);
    http.tool = tool.program;
    http.require_token = serving.policy && serving.policy->security.strict;
    http.deny_wildcards = serving.policy && serving.policy->security.deny_wildcards;
    http.roles = serving.roles;
    http.on_denied = serving.on_denied;
    if (options.http_max_connections) http.max_connections = *options.http_max_connections;
    if (options.http_max_connections_per_peer) http.max_connections_per_peer = *options.http_max_connections_per_peer;
    if (options.http_header_timeout) http.header_timeout = *options.http_header_timeout;
    if (options.http_idle_timeout) http.idle_timeout = *options.http_idle_timeout;
    http.allowed_hosts = options.http_allowed_hosts;
    if (options.api_tokens) {
        auto tokens = load_api_tokens(*options.api_tokens);
        if (!tokens) return tokens.error();
        http.tokens = std::move(*tokens);
    }
    if (options.webhook_secret_file) {
        auto secret = read_secret(*options.webhook_secret_file);
        if (!secret) return secret.error();
        http.webhook_secret = std::move(*secret);
    }
    auto local = random_token();
    if (!local) return local.error();
    const bool no_tokens = http.tokens.empty();
    http.tokens.push_back(ApiToken{"local-cli", "admin", *local, engine_user()});
    auto api = HttpApi::start(http, engine);
    if (!api && !chosen) {
        if (serving.say)
            serving.say("no HTTP API: " + api.error().to_string() + " (pick another port with --http-port N, or 0)");
        return ServedApi{};
    }
    if (!api) return api.error();
    if (serving.say) {
        serving.say("web page and API on http://127.0.0.1:" + std::to_string((*api)->port()) + "/");
        if (http.require_token && no_tokens)
            serving.say("policy '" + serving.policy->name +
                        "' requires API tokens (security.strict): the page and other clients need one from "
                        "--api-tokens FILE (this machine's CLI has its own)");
    }
    return ServedApi{std::move(*api), *local};
}

}  // namespace tandem::cli
