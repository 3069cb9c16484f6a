// Encoding and decoding of the control socket's request and reply lines.
#include "api/control_protocol.hpp"

#include <nlohmann/json.hpp>


namespace tandem::control {

using nlohmann::json;

std::string request_line(const ControlRequest& request) {
    json j{{"command", request.command}, {"tail", request.tail}, {"follow", request.follow}};
    if (!request.service.empty()) j["service"] = request.service;
    if (!request.revision.empty()) j["revision"] = request.revision;
    return j.dump() + "\n";
}

namespace {

Error bad_request(const std::string& why) { return make_error(ErrorCode::usage, "malformed request: " + why); }

}  // namespace

Result<ControlRequest> parse_request(std::string_view line) {
    json j = json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded()) return bad_request("not JSON: '" + std::string(line.substr(0, 80)) + "'");
    if (!j.is_object()) return bad_request("expected a JSON object");
    ControlRequest request;
    const auto command = j.find("command");
    if (command == j.end() || !command->is_string()) return bad_request("\"command\" (a string) is missing");
    request.command = command->get<std::string>();
    if (auto it = j.find("service"); it != j.end()) {
        if (!it->is_string()) return bad_request("\"service\" must be a string");
        request.service = it->get<std::string>();
    }
    if (auto it = j.find("revision"); it != j.end()) {
        if (!it->is_string()) return bad_request("\"revision\" must be a string");
        request.revision = it->get<std::string>();
    }
    if (auto it = j.find("tail"); it != j.end()) {
        if (!it->is_number_unsigned()) return bad_request("\"tail\" must be a number of lines, 0 or more");
        request.tail = it->get<std::size_t>();
    }
    if (auto it = j.find("follow"); it != j.end()) {
        if (!it->is_boolean()) return bad_request("\"follow\" must be true or false");
        request.follow = it->get<bool>();
    }
    return request;
}

std::string ok_line() { return "{\"ok\":true}\n"; }

std::string error_line(const Error& error) { return error_line(to_string(error.code), error.to_string()); }

std::string error_line(std::string_view code, std::string_view message) {
    json details{{"code", code}, {"message", message}};
    return json{{"error", details}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string log_line(const std::string& text) {
    return json{{"line", text}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<Error> reply_error(std::string_view line) {
    json j = json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    auto it = j.find("error");
    if (it == j.end() || !it->is_object()) return std::nullopt;
    const std::string code = it->value("code", "io");
    return make_error(error_code_from_name(code), it->value("message", "the engine reported an error"));
}

ErrorCode error_code_from_name(std::string_view name) {
    // Walks the enum until to_string() no longer knows the value, so new codes need no list here.
    for (int value = 0; value < 256; ++value) {
        const auto code = static_cast<ErrorCode>(value);
        const std::string_view known = to_string(code);
        if (known == "error") break;
        if (known == name) return code;
    }
    return ErrorCode::io;
}

Status check_service(ControlHandler& handler, const std::string& service) {
    std::string names;
    for (const auto& s : handler.status()) {
        if (s.name == service) return Ok{};
        names += (names.empty() ? "" : ", ") + s.name;
    }
    return make_error(ErrorCode::unknown_service,
                      "no service '" + service + "' in this project (services: " + (names.empty() ? "none" : names) + ")");
}

Error no_engine_error(const std::filesystem::path& socket_path) {
    return make_error(ErrorCode::io, "no engine is running for this project (no socket at " + socket_path.string() +
                                         "): start one with `devloop up` or `shipper run`");
}

}  // namespace tandem::control
