// Private ports for replicas, chosen below the kernel's ephemeral range. A port inside that
// range can be picked as the source port of the proxy's own connect() while the replica is not
// listening yet, and a loopback connect from port P to port P connects the socket to itself
// (TCP simultaneous open): the proxy would then talk to itself instead of the replica.
#include "runtime/process/process_runtime.hpp"

#include <atomic>
#include <fstream>
#include <random>

namespace tandem::process {

namespace {

// The first port of net.ipv4.ip_local_port_range (32768 on a default kernel).
int ephemeral_low() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 32768, high = 60999;
    if (!(range >> low >> high)) return 32768;
    return low;
}

bool can_bind(asio::io_context& io, int port) {
    asio::ip::tcp::acceptor acceptor(io);
    boost::system::error_code ec;
    acceptor.open(asio::ip::tcp::v4(), ec);
    if (!ec) acceptor.bind({asio::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
    return !ec;
}

}  // namespace

Result<int> free_local_port() {
    static const int low = ephemeral_low();
    constexpr int kFirst = 10000;
    asio::io_context io;
    if (low > kFirst + 1000) {
        // Walk the range from a random start (another engine may be handing out ports too).
        static std::atomic<int> next{kFirst + static_cast<int>(std::random_device{}() % static_cast<unsigned>(low - kFirst))};
        const int span = low - kFirst;
        for (int tries = 0; tries < span; ++tries) {
            const int port = kFirst + (next.fetch_add(1) - kFirst) % span;
            if (can_bind(io, port)) return port;
        }
    }
    // A kernel whose ephemeral range leaves no room below it: take its pick.
    asio::ip::tcp::acceptor acceptor(io);
    boost::system::error_code ec;
    acceptor.open(asio::ip::tcp::v4(), ec);
    if (!ec) acceptor.bind({asio::ip::make_address_v4("127.0.0.1"), 0}, ec);
    if (ec) return make_error(ErrorCode::io, "cannot find a free local port: " + ec.message());
    return static_cast<int>(acceptor.local_endpoint().port());
}

}  // namespace tandem::process
