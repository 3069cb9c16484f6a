// A preview's ports, chosen once and kept in its state directory.
#include "preview/preview_ports.hpp"

#include "support/durable_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::detail {

namespace {

// Binds a TCP socket to 127.0.0.1:port (0: the kernel's choice), closes it, and says which port
// it got, or the errno of the socket or bind that failed.
struct LoopbackBind {
    int port = 0;
    int error = 0;
};
LoopbackBind bind_loopback(int port, bool reuse_address) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {0, errno};
    const int one = 1;
    if (reuse_address) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t size = sizeof address;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
    const int saved = errno;
    ::close(fd);
    return ok ? LoopbackBind{static_cast<int>(ntohs(address.sin_port)), 0} : LoopbackBind{0, saved};
}

}  // namespace

Result<int> free_local_port() {
    const LoopbackBind bound = bind_loopback(0, false);
    if (bound.error != 0)
        return make_error(ErrorCode::io, std::string("cannot choose a port: ") + std::strerror(bound.error));
    return bound.port;
}

bool local_port_free(int port) {
    // Only "in use" says it is taken; any other failure is the listener's own bind to report.
    return bind_loopback(port, true).error != EADDRINUSE;
}

Result<std::shared_ptr<PreviewPorts>> PreviewPorts::open(std::filesystem::path file) {
    auto ports = std::make_shared<PreviewPorts>(file);
    std::ifstream in(file);
    if (!in) return ports;  // none chosen yet
    std::stringstream text;
    text << in.rdbuf();
    const auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
        return make_error(ErrorCode::syntax,
                          fmt::format("{}: not the JSON object of a preview's ports (remove it to choose new ones)",
                                      file.string()));
    for (const auto& [key, value] : parsed.items())
        if (value.is_number_integer()) ports->ports_[key] = value.get<int>();
    return ports;
}

Result<int> PreviewPorts::port(const std::string& service, int written) {
    std::lock_guard lock(mutex_);
    const std::string key = fmt::format("{}:{}", service, written);
    if (auto kept = ports_.find(key); kept != ports_.end()) return kept->second;
    auto chosen = free_local_port();
    if (!chosen) return chosen.error();
    ports_[key] = *chosen;
    if (auto saved = save(); !saved) {
        ports_.erase(key);
        return saved.error();
    }
    return *chosen;
}

Result<std::vector<PreviewPorts::Move>> PreviewPorts::replace_taken() {
    std::lock_guard lock(mutex_);
    std::vector<Move> moves;
    const auto before = ports_;
    for (auto& [key, port] : ports_) {
        if (local_port_free(port)) continue;
        auto chosen = free_local_port();
        if (!chosen) {
            ports_ = before;
            return chosen.error();
        }
        const auto colon = key.rfind(':');
        moves.push_back(Move{key.substr(0, colon), std::atoi(key.c_str() + colon + 1), port, *chosen});
        port = *chosen;
    }
    if (moves.empty()) return moves;
    if (auto saved = save(); !saved) {
        ports_ = before;
        return saved.error();
    }
    return moves;
}

Status PreviewPorts::save() { return replace_file_durably(file_, nlohmann::json(ports_).dump(2) + "\n"); }

}  // namespace tandem::detail
