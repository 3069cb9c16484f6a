// Helpers for the process runtime tests: run an io_context until a condition holds, find a free
// port, make a blocking HTTP request, and count the processes of a process group.
#pragma once

#include "support/asio.hpp"
#include "support/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <functional>
#include <string>

namespace tandem::test {

inline std::string test_service() { return TANDEM_TEST_SERVICE; }

// Runs `io` until `done()` is true or `timeout` passes; returns done(). Handlers run meanwhile.
inline bool run_until(process::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    io.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(10));
        if (io.stopped()) io.restart();
    }
    return done();
}

// One blocking GET with Connection: close; returns the whole response ("" if it cannot connect).
inline std::string http_get(int port, const std::string& path) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string response;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
            char buffer[4096];
            ssize_t got;
            while ((got = read(fd, buffer, sizeof buffer)) > 0) response.append(buffer, static_cast<std::size_t>(got));
        }
    }
    close(fd);
    return response;
}

// Processes (zombies included) whose process group is `pgid`, counted from /proc.
inline int count_group_members(pid_t pgid) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;  // it exited while we looked
        // pid (comm) state ppid pgrp ...; comm may hold spaces, so parse after the last ')'.
        const auto close_paren = line.rfind(')');
        if (close_paren == std::string::npos) continue;
        std::istringstream fields(line.substr(close_paren + 1));
        std::string state;
        long ppid = 0, pgrp = 0;
        fields >> state >> ppid >> pgrp;
        if (pgrp == pgid) ++count;
    }
    return count;
}

// The pid a test service wrote to --pid-file, or 0 while the file is not there yet.
inline pid_t read_pid_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
}

}  // namespace tandem::test
