// A small blocking HTTP/1.1 client over a loopback socket, enough for the engine's API.
#include "frontend/api_client.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::cli {

namespace {

Error api_error(const std::string& message) { return make_error(ErrorCode::io, "engine API: " + message); }

// Reads what the socket gives until it closes.
std::string read_to_end(int fd) {
    std::string data;
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
}

// Undoes chunked transfer coding; returns what it could decode.
std::string dechunk(std::string_view body) {
    std::string out;
    while (!body.empty()) {
        const auto line_end = body.find("\r\n");
        if (line_end == std::string_view::npos) break;
        const std::size_t size = std::strtoul(std::string(body.substr(0, line_end)).c_str(), nullptr, 16);
        body.remove_prefix(line_end + 2);
        if (size == 0 || body.size() < size) break;
        out.append(body.substr(0, size));
        body.remove_prefix(std::min(body.size(), size + 2));
    }
    return out;
}

bool chunked(std::string_view headers) {
    std::string lower(headers);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find("transfer-encoding: chunked") != std::string::npos;
}

// The Error of an {"error": {...}} body, when the status is not 2xx.
std::optional<Error> reply_error(int status, const std::string& body) {
    if (status >= 200 && status < 300) return std::nullopt;
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
        const auto& e = j["error"];
        const std::string code = e.value("code", "io");
        ErrorCode mapped = ErrorCode::io;
        for (int value = 0; value < 64; ++value) {
            const auto candidate = static_cast<ErrorCode>(value);
            if (std::string_view(to_string(candidate)) == "error") break;
            if (code == to_string(candidate)) mapped = candidate;
        }
        return make_error(mapped, e.value("message", "HTTP " + std::to_string(status)));
    }
    return api_error("HTTP " + std::to_string(status));
}

}  // namespace

std::optional<ApiClient> ApiClient::find(const std::filesystem::path& socket_path, const Options& options) {
    std::ifstream in(socket_path.parent_path() / "api.json");
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    const auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (!j.is_object()) return std::nullopt;
    const int pid = j.value("pid", 0);
    const int port = j.value("port", 0);
    if (pid <= 0 || port <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return std::nullopt;
    std::string token = options.token.value_or("");
    if (token.empty())
        if (const char* env = std::getenv("TANDEM_API_TOKEN")) token = env;
    if (token.empty()) token = j.value("token", "");
    return ApiClient(port, token);
}

Result<int> ApiClient::open_request(const std::string& method, const std::string& target, const std::string& body) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return api_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        return api_error("cannot connect to 127.0.0.1:" + std::to_string(port_) + ": " + reason);
    }
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!token_.empty()) request += "Authorization: Bearer " + token_ + "\r\n";
    if (method == "POST") request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    for (std::size_t sent = 0; sent < request.size();) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return api_error("the engine closed the connection");
        }
        sent += static_cast<std::size_t>(n);
    }
    return fd;
}

Result<ApiReply> ApiClient::request(const std::string& method, const std::string& target, const std::string& body) const {
    auto fd = open_request(method, target, body);
    if (!fd) return fd.error();
    const std::string data = read_to_end(*fd);
    ::close(*fd);
    const auto head_end = data.find("\r\n\r\n");
    if (data.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return api_error("not an HTTP reply");
    ApiReply reply;
    reply.status = std::atoi(data.c_str() + 9);
    const std::string_view headers(data.data(), head_end);
    const std::string_view rest(data.data() + head_end + 4, data.size() - head_end - 4);
    reply.body = chunked(headers) ? dechunk(rest) : std::string(rest);
    if (auto error = reply_error(reply.status, reply.body)) return *error;
    return reply;
}

Result<ApiReply> ApiClient::get(const std::string& target) const { return request("GET", target, {}); }

Result<ApiReply> ApiClient::post(const std::string& target, const std::string& json_body) const {
    return request("POST", target, json_body);
}

Status ApiClient::stream(const std::string& target,
                         const std::function<void(const std::string& event, const std::string& data)>& on_event) const {
    auto fd = open_request("GET", target, {});
    if (!fd) return fd.error();
    std::string pending, event = "message", data;
    bool in_body = false;
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::recv(*fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buffer, static_cast<std::size_t>(n));
        if (!in_body) {
            const auto head_end = pending.find("\r\n\r\n");
            if (head_end == std::string::npos) continue;
            const int status = std::atoi(pending.c_str() + 9);
            if (status != 200) {
                std::string rest = read_to_end(*fd);
                ::close(*fd);
                const std::string body = pending.substr(head_end + 4) + rest;
                auto error = reply_error(status, chunked(pending.substr(0, head_end)) ? dechunk(body) : body);
                return error ? *error : api_error("HTTP " + std::to_string(status));
            }
            pending.erase(0, head_end + 4);
            in_body = true;
        }
        // Event lines; chunk-size lines of a chunked stream are neither "event:" nor "data:", and are skipped.
        for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
            std::string line = pending.substr(0, end);
            pending.erase(0, end + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.rfind("event:", 0) == 0) event = line.substr(line.find_first_not_of(' ', 6));
            else if (line.rfind("data:", 0) == 0) data += (data.empty() ? "" : "\n") + line.substr(std::min(line.size(), std::size_t(6)));
            else if (line.empty() && !data.empty()) {
                on_event(event, data);
                event = "message";
                data.clear();
            }
        }
    }
    ::close(*fd);
    return Ok{};
}

void record_api_address(const std::filesystem::path& dir, int port, const std::string& token) {
    const auto file = dir / "api.json";
    std::error_code ec;
    std::filesystem::remove(file, ec);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return;  // the CLI then uses the control socket
    const std::string text = nlohmann::json{{"port", port}, {"pid", ::getpid()}, {"token", token}}.dump() + "\n";
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) std::filesystem::remove(file, ec);
}

void forget_api_address(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::remove(dir / "api.json", ec);
}

}  // namespace tandem::cli
