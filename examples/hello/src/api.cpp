// api: the example's HTTP service. GET / answers with static/greeting.txt (read on every
// request, so a `sync` watch rule needs no restart) and a visit count kept by the store;
// GET /healthz answers 200 once the store is reachable.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// "host:port", the host a name ("store", as containers call each other) or an address.
int connect_to(const std::string& address) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) return -1;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints, &found) != 0)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

// One request to the store; empty when it cannot be reached.
std::string ask_store(const std::string& request) {
    const char* address = std::getenv("STORE_ADDR");
    const int fd = address ? connect_to(address) : -1;
    if (fd < 0) return {};
    std::string reply;
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
        char c;
        while (read(fd, &c, 1) == 1 && c != '\n') reply += c;
    }
    close(fd);
    return reply;
}

std::string greeting() {
    std::ifstream in("static/greeting.txt");
    std::stringstream text;
    text << in.rdbuf();
    return in ? text.str() : "hello\n";
}

std::string respond(const std::string& path) {
    auto reply = [](int status, const std::string& body) {
        return "HTTP/1.0 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
               "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    if (path == "/healthz") {
        const std::string pong = ask_store("GET visits\n");
        return pong.empty() ? reply(503, "store unreachable\n") : reply(200, "ok\n");
    }
    if (path == "/") {
        const std::string visits = ask_store("INCR visits\n");
        return reply(200, greeting() + "visit " + (visits.empty() ? "?" : visits) + "\n");
    }
    return reply(404, "not found\n");
}

}  // namespace

int main() {
    const char* port_text = std::getenv("PORT");
    const int port = port_text ? std::atoi(port_text) : 7400;
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    const char* bind_env = std::getenv("BIND_ADDR");  // a container's is 0.0.0.0: its port is published
    const char* bind_address = bind_env && *bind_env ? bind_env : "127.0.0.1";
    if (inet_pton(AF_INET, bind_address, &address.sin_addr) != 1 ||
        bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener, 128) != 0) {
        std::perror("api: cannot listen");
        return 1;
    }
    std::printf("api: listening on %s:%d\n", bind_address, port);
    std::fflush(stdout);
    for (;;) {
        const int client = accept(listener, nullptr, nullptr);
        if (client < 0) continue;
        char buffer[2048];
        const ssize_t n = read(client, buffer, sizeof buffer - 1);
        std::string request(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
        const auto start = request.find(' ') + 1;
        const std::string path = request.substr(start, request.find(' ', start) - start);
        const std::string response = respond(path);
        if (write(client, response.data(), response.size()) < 0) std::perror("api: write");
        close(client);
    }
}
