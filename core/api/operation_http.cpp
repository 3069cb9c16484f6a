// An engine operation's HTTP form: method, path, and for a client its target and body. The
// API's router (http/api_router.cpp) and the CLI's API client both read them from here.
#include <tandem/operations.hpp>

#include <tandem/control.hpp>

#include <nlohmann/json.hpp>

#include <cctype>

namespace tandem {

namespace {

// Escapes what a path segment or a query value cannot hold as it is.
std::string percent_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') out += c;
        else out += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
    return out;
}

}  // namespace

const char* http_method(const EngineOperation& operation) {
    return operation.access == EngineOperation::Access::read ? "GET" : "POST";
}

std::string http_pattern(const EngineOperation& operation) {
    const std::string name(operation.name);
    return operation.argument("service") ? "/api/v1/services/*/" + name : "/api/v1/" + name;
}

std::string http_target(const EngineOperation& operation, const ControlRequest& request) {
    std::string target = http_pattern(operation);
    if (const auto star = target.find('*'); star != std::string::npos)
        target.replace(star, 1, percent_encode(request.service));
    if (operation.access != EngineOperation::Access::read) return target;
    std::string query;
    for (const auto& argument : operation.arguments) {
        std::string value;
        if (argument.name == "revision") value = request.revision;
        else if (argument.name == "tail") value = std::to_string(request.tail);
        else if (argument.name == "follow" && request.follow) value = "1";
        if (value.empty()) continue;
        query += (query.empty() ? "?" : "&") + std::string(argument.name) + "=" + percent_encode(value);
    }
    return target + query;
}

std::string http_body(const EngineOperation& operation, const ControlRequest& request) {
    if (operation.access == EngineOperation::Access::read || !operation.argument("revision")) return {};
    return nlohmann::json{{"revision", request.revision}}.dump();
}

}  // namespace tandem
