// Runs one tandem TcpProxy on a port, forwarding to the given backend ports, until SIGINT or
// SIGTERM: what bench/proxy_overhead.sh measures against haproxy.
#include "runtime/process/tcp_proxy.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

struct Arguments {
    int port = 0;
    std::vector<int> backends;
};

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: tandem_proxy_bench --port N --backend PORT [--backend PORT ...]\n");
    std::exit(2);
}

Arguments parse(int argc, char** argv) {
    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        std::string_view flag = argv[i];
        if (i + 1 >= argc) usage();
        int value = std::atoi(argv[++i]);
        if (flag == "--port") arguments.port = value;
        else if (flag == "--backend") arguments.backends.push_back(value);
        else usage();
    }
    if (arguments.port <= 0 || arguments.backends.empty()) usage();
    return arguments;
}

}  // namespace

int main(int argc, char** argv) {
    namespace process = tandem::process;
    Arguments arguments = parse(argc, argv);
    process::asio::io_context io(1);  // one thread: lets Asio skip some locking

    process::TcpProxy::Options options;
    options.port = arguments.port;
    auto proxy = process::TcpProxy::listen(io, options);
    if (!proxy) {
        std::fprintf(stderr, "tandem_proxy_bench: %s\n", proxy.error().to_string().c_str());
        return 1;
    }
    for (std::size_t i = 0; i < arguments.backends.size(); ++i)
        (*proxy)->add_backend(static_cast<int>(i), arguments.backends[i]);

    process::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    std::printf("tandem_proxy_bench: listening on 127.0.0.1:%d\n", (*proxy)->port());
    std::fflush(stdout);
    io.run();

    process::ProxyStats stats = (*proxy)->stats();
    std::printf("tandem_proxy_bench: accepted %llu, forwarded %llu, backend errors %llu, timed out %llu\n",
                static_cast<unsigned long long>(stats.accepted), static_cast<unsigned long long>(stats.forwarded),
                static_cast<unsigned long long>(stats.backend_errors),
                static_cast<unsigned long long>(stats.timed_out));
    return 0;
}
