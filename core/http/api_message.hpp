// An HTTP request and reply as the API's routes see them: plain values, no Beast, so the
// routes compile fast and their tests need no socket.
#pragma once

#include <tandem/error.hpp>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::http {

struct ApiRequest {
    std::string method;                          // "GET", "POST", ...
    std::string path;                            // as sent, without the query: "/api/v1/status"
    std::map<std::string, std::string> query;    // decoded parameters
    std::map<std::string, std::string> headers;  // names in lowercase
    std::string body;
    std::string remote;                          // the peer's address: "127.0.0.1"

    // The header's value, "" when absent; `name` in lowercase.
    std::string header(std::string_view name) const;
};

struct ApiReply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type and Content-Length
};

// A JSON reply; API answers are never cached.
ApiReply json_reply(int status, std::string body);
// {"error": {"code": code, "message": message}} with `status`.
ApiReply error_reply(int status, std::string_view code, std::string_view message);
// The same for an engine's Error, with the status its code stands for (http_status).
ApiReply error_reply(const Error& error);
// 400 a request the engine cannot take, 403 policy_denied, 404 unknown_service, 409 what the
// engine's state does not allow now, 500 a failure.
int http_status(ErrorCode code);

// A query string's part with "%2F" and "+" decoded; a broken escape stays as it is.
std::string percent_decode(std::string_view text);
// "a=1&b=x%20y" as a map (the last of repeated names wins).
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace tandem::http
