// The web page's files, compiled into the library from web/ (see core/CMakeLists.txt).
#pragma once

#include <optional>
#include <string_view>

namespace tandem::http {

struct WebAsset {
    std::string_view content;
    std::string_view content_type;
};

// The file a GET of `path` asks for ("/" is index.html); nullopt when there is none.
std::optional<WebAsset> web_asset(std::string_view path);

}  // namespace tandem::http
