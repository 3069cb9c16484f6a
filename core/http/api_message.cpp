// Replies, error statuses and query strings of the HTTP API.
#include "http/api_message.hpp"

#include "api/control_protocol.hpp"

namespace tandem::http {

std::string ApiRequest::header(std::string_view name) const {
    const auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string{} : it->second;
}

ApiReply json_reply(int status, std::string body) {
    return ApiReply{status, "application/json", std::move(body), {{"Cache-Control", "no-store"}}};
}

ApiReply error_reply(int status, std::string_view code, std::string_view message) {
    return json_reply(status, control::error_line(code, message));
}

ApiReply error_reply(const Error& error) { return json_reply(http_status(error.code), control::error_line(error)); }

int http_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::syntax:
        case ErrorCode::unknown_key:
        case ErrorCode::missing_field:
        case ErrorCode::invalid_value:
        case ErrorCode::duplicate:
        case ErrorCode::usage: return 400;
        case ErrorCode::policy_denied: return 403;
        case ErrorCode::unknown_service:
        case ErrorCode::not_found: return 404;
        case ErrorCode::unknown_reference:
        case ErrorCode::bootstrap_required:
        case ErrorCode::cancelled: return 409;
        case ErrorCode::io:
        case ErrorCode::dependency_cycle:
        case ErrorCode::unknown_policy:
        case ErrorCode::source:
        case ErrorCode::build_failed:
        case ErrorCode::rollout_failed:
        case ErrorCode::runtime: return 500;
        case ErrorCode::unavailable: return 503;
        case ErrorCode::timed_out: return 504;
    }
    return 500;
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
    std::map<std::string, std::string> params;
    while (!query.empty()) {
        const auto end = query.find('&');
        const std::string_view pair = query.substr(0, end);
        const auto equals = pair.find('=');
        if (!pair.empty())
            params[percent_decode(pair.substr(0, equals))] =
                equals == std::string_view::npos ? std::string{} : percent_decode(pair.substr(equals + 1));
        query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
    }
    return params;
}

}  // namespace tandem::http
