// Small pieces the Docker client's files share: query encoding and JSON reading that never throws.
#pragma once

#include "runtime/docker/docker_types.hpp"
#include "runtime/docker/http_exchange.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace tandem::docker {

// Percent-encodes a query value or a path segment.
std::string url_encode(std::string_view text);

// The string at `key` of an object, or "" when it is missing or not a string.
std::string json_string(const nlohmann::json& object, std::string_view key);

// A {"k":"v"} object as Labels (non-strings skipped); null or missing gives none.
Labels json_labels(const nlohmann::json& object);

// The JSON body of a reply, or its error; a body that is not JSON is an error naming `action`.
Result<nlohmann::json> parse_reply(std::string_view action, const Result<HttpResponse>& got);

// A reply handler for calls whose answer carries nothing but success or failure.
std::function<void(Result<HttpResponse>)> status_only(std::function<void(Status)> done);

// The first 12 characters of an ID, as docker prints it.
std::string short_id(std::string_view id);

}  // namespace tandem::docker
