// Free local ports for replicas: the kernel's pick for port 0 on 127.0.0.1.
#include "runtime/process/service_supervisor.hpp"

namespace tandem::process {

Result<int> free_local_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io);
    boost::system::error_code ec;
    acceptor.open(asio::ip::tcp::v4(), ec);
    if (!ec) acceptor.bind({asio::ip::make_address_v4("127.0.0.1"), 0}, ec);
    if (ec) return make_error(ErrorCode::io, "cannot find a free local port: " + ec.message());
    return static_cast<int>(acceptor.local_endpoint().port());
}

}  // namespace tandem::process
