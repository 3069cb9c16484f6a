// Host and Origin checks of the HTTP API.
#include "http/allowed_hosts.hpp"

#include <algorithm>
#include <cctype>

namespace tandem::http {

namespace {

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// "Example.com:8080" -> "example.com", "[::1]:80" -> "[::1]".
std::string host_name(const std::string& authority) {
    std::string host = lowercase(authority);
    if (!host.empty() && host.front() == '[') {
        const auto end = host.find(']');
        return end == std::string::npos ? host : host.substr(0, end + 1);
    }
    const auto colon = host.find(':');
    return colon == std::string::npos ? host : host.substr(0, colon);
}

// "http://localhost:10350" -> "localhost:10350"; "" for "null" or no scheme.
std::string origin_authority(const std::string& origin) {
    const auto scheme = origin.find("://");
    if (scheme == std::string::npos) return {};
    std::string authority = origin.substr(scheme + 3);
    if (const auto slash = authority.find('/'); slash != std::string::npos) authority.resize(slash);
    return lowercase(authority);
}

bool is_unsafe(const std::string& method) { return method != "GET" && method != "HEAD" && method != "OPTIONS"; }

}  // namespace

AllowedHosts::AllowedHosts(const std::string& listen_address, const std::vector<std::string>& extra)
    : names_{"localhost", "127.0.0.1", "[::1]"} {
    std::vector<std::string> more = extra;
    const bool ipv6 = listen_address.find(':') != std::string::npos;
    if (!listen_address.empty()) more.push_back(ipv6 ? "[" + listen_address + "]" : listen_address);
    for (const std::string& name : more) {
        std::string lower = lowercase(name);
        if (!lower.empty() && std::find(names_.begin(), names_.end(), lower) == names_.end()) names_.push_back(lower);
    }
}

std::string AllowedHosts::names() const {
    std::string out;
    for (const auto& name : names_) out += (out.empty() ? "" : ", ") + name;
    return out;
}

std::optional<std::string> AllowedHosts::misdirected(const ApiRequest& request) const {
    const std::string host = request.header("host");
    if (host.empty()) return std::nullopt;
    if (std::find(names_.begin(), names_.end(), host_name(host)) != names_.end()) return std::nullopt;
    return "this engine does not answer to host '" + host + "' (it answers to " + names() +
           "; add a name with --http-allowed-host NAME)";
}

std::optional<std::string> AllowedHosts::cross_site(const ApiRequest& request) const {
    if (!is_unsafe(request.method)) return std::nullopt;
    const std::string fetch_site = lowercase(request.header("sec-fetch-site"));
    if (fetch_site == "cross-site" || fetch_site == "same-site")
        return "a " + request.method + " from another site (Sec-Fetch-Site: " + fetch_site +
               ") is refused: use the engine's own page, or send a token";
    const std::string origin = request.header("origin");
    if (origin.empty()) return std::nullopt;
    const std::string host = lowercase(request.header("host"));
    if (!host.empty() && origin_authority(origin) == host) return std::nullopt;
    return "a " + request.method + " from origin '" + origin + "' is refused: only the engine's own page (" +
           (host.empty() ? std::string("no Host") : "http://" + host) + ") may change things without a token";
}

}  // namespace tandem::http
