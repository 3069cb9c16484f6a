// Blocking HTTP requests, raw connections and polling waits for tests.
#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <thread>

namespace tandem::test {

namespace {

int connect_loopback(int port, const std::string& from) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (!from.empty()) {
        sockaddr_in source{};
        source.sin_family = AF_INET;
        if (inet_pton(AF_INET, from.c_str(), &source.sin_addr) != 1 ||
            bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
            ::close(fd);
            return -1;
        }
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace

std::string HttpReply::header(const std::string& name) const {
    const std::string wanted = "\r\n" + lowercase(name) + ":";
    const std::string lower = lowercase(head);
    const auto at = lower.find(wanted);
    if (at == std::string::npos) return {};
    auto start = at + wanted.size();
    while (start < head.size() && head[start] == ' ') ++start;
    const auto end = head.find("\r\n", start);
    return head.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::optional<HttpReply> http_request(int port, const std::string& method, const std::string& path,
                                      const std::string& body, const HttpHeaders& headers,
                                      std::chrono::milliseconds timeout) {
    RawConnection connection(port);
    if (!connection.connected()) return std::nullopt;
    std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    if (!connection.send(request) || !connection.closed_by_server(timeout)) return std::nullopt;
    return parse_http_reply(connection.received());
}

std::optional<HttpReply> parse_http_reply(const std::string& response) {
    const auto head_end = response.find("\r\n\r\n");
    if (response.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || response.size() <= 12) return std::nullopt;
    return HttpReply{std::atoi(response.substr(9, 3).c_str()), response.substr(0, head_end), response.substr(head_end + 4)};
}

std::optional<HttpReply> http_get(int port, const std::string& path, std::chrono::milliseconds timeout) {
    return http_request(port, "GET", path, {}, {}, timeout);
}

RawConnection::RawConnection(int port, const std::string& from) : fd_(connect_loopback(port, from)) {}

RawConnection::~RawConnection() { close(); }

void RawConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool RawConnection::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (fd_ >= 0 && sent < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return fd_ >= 0;
}

bool RawConnection::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (fd_ < 0 || left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buffer[8192];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return received_.find(needle) != std::string::npos;
        received_.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
}

bool RawConnection::closed_by_server(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fd_ >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buffer[8192];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return true;
        received_.append(buffer, static_cast<std::size_t>(n));
    }
    return false;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition();
}

}  // namespace tandem::test
