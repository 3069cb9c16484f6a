// Base64 (RFC 4648, with padding): HTTP basic auth and the Engine API's secret data.
#pragma once

#include <string>
#include <string_view>

namespace tandem {

std::string base64_encode(std::string_view bytes);

}  // namespace tandem
