// Query encoding and tolerant JSON reads for the Docker client.
#include "runtime/docker/docker_json.hpp"

#include <fmt/format.h>

namespace tandem::docker {

std::string url_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", byte);
        }
    }
    return out;
}

std::string json_string(const nlohmann::json& object, std::string_view key) {
    if (!object.is_object()) return {};
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Labels json_labels(const nlohmann::json& object) {
    Labels labels;
    if (!object.is_object()) return labels;
    for (const auto& [key, value] : object.items()) {
        if (value.is_string()) labels[key] = value.get<std::string>();
    }
    return labels;
}

Result<nlohmann::json> parse_reply(std::string_view action, const Result<HttpResponse>& got) {
    if (!got) return got.error();
    nlohmann::json body = nlohmann::json::parse(got->body, nullptr, false);
    if (body.is_discarded()) {
        return make_error(ErrorCode::runtime, fmt::format("docker: {}: the daemon's answer is not JSON: {}", action,
                                                          got->body.substr(0, 200)));
    }
    return body;
}

std::function<void(Result<HttpResponse>)> status_only(std::function<void(Status)> done) {
    return [done = std::move(done)](Result<HttpResponse> got) { got ? done(Ok{}) : done(got.error()); };
}

std::string short_id(std::string_view id) {
    if (id.substr(0, 7) == "sha256:") id.remove_prefix(7);
    return std::string(id.substr(0, 12));
}

}  // namespace tandem::docker
