// The control socket's wire format, shared by its server and client (and the HTTP API):
// requests, the error line, and the limits both sides keep.
#pragma once

#include <tandem/control.hpp>
#include <tandem/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace tandem::control {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

// {"command": ..., "service": ..., "tail": N, "follow": bool} and a newline.
std::string request_line(const ControlRequest& request);
// Errors name what is wrong with the line (ErrorCode::usage).
Result<ControlRequest> parse_request(std::string_view line);

// {"ok":true} and {"error":{"code":...,"message":...}}, each with a newline.
std::string ok_line();
std::string error_line(const Error& error);
std::string error_line(std::string_view code, std::string_view message);
// {"line": text} and a newline.
std::string log_line(const std::string& text);
// The Error of an {"error": {...}} reply line; nothing for any other line.
std::optional<Error> reply_error(std::string_view line);

// The code a name written by to_string(ErrorCode) stands for (io if none).
ErrorCode error_code_from_name(std::string_view name);

// The service exists, or an Error (unknown_service) that lists the ones that do. Shared by
// the control socket and the HTTP API.
Status check_service(ControlHandler& handler, const std::string& service);

// "no engine is running for this project (no socket at PATH): start one with `devloop up`"
Error no_engine_error(const std::filesystem::path& socket_path);

}  // namespace tandem::control
