// store: the example's stateful service. A line protocol over TCP ("GET key", "INCR key"),
// each key kept in a file under the data directory, so that a reset has something to wipe.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

std::string data_dir = "data/store";

long read_value(const std::string& key) {
    std::ifstream in(data_dir + "/" + key);
    long value = 0;
    in >> value;
    return value;
}

std::string answer(const std::string& line) {
    const auto space = line.find(' ');
    const std::string verb = line.substr(0, space);
    const std::string key = space == std::string::npos ? "" : line.substr(space + 1);
    if (key.empty() || key.find('/') != std::string::npos || key[0] == '.') return "ERR bad key\n";
    if (verb == "GET") return std::to_string(read_value(key)) + "\n";
    if (verb == "INCR") {
        const long value = read_value(key) + 1;
        std::ofstream(data_dir + "/" + key) << value;
        return std::to_string(value) + "\n";
    }
    return "ERR unknown verb\n";
}

void serve(int client) {
    std::string buffer;
    char chunk[512];
    for (ssize_t n; (n = read(client, chunk, sizeof chunk)) > 0;) {
        buffer.append(chunk, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
            std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            const std::string reply = answer(line);
            if (write(client, reply.data(), reply.size()) < 0) return;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    int port = 7401;
    const char* bind_address = "127.0.0.1";  // a container listens on 0.0.0.0: its port is published
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
        if (std::strcmp(argv[i], "--data") == 0) data_dir = argv[i + 1];
        if (std::strcmp(argv[i], "--bind") == 0) bind_address = argv[i + 1];
    }
    std::filesystem::create_directories(data_dir);
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    const int yes = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, bind_address, &address.sin_addr) != 1 ||
        bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(listener, 64) != 0) {
        std::perror("store: cannot listen");
        return 1;
    }
    std::printf("store: listening on %s:%d, data in %s\n", bind_address, port, data_dir.c_str());
    std::fflush(stdout);
    for (;;) {
        const int client = accept(listener, nullptr, nullptr);
        if (client < 0) continue;
        serve(client);
        close(client);
    }
}
