// HTTP/1.1 over the daemon's unix socket with Boost.Beast: connect, write, read the header, then
// the body into a fixed buffer, piece by piece (chunked, sized, or up to EOF for the raw streams
// of exec and attach).
#include "runtime/docker/http_exchange.hpp"

#include "support/asio.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <array>
#include <limits>

namespace tandem::docker {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using local = asio::local::stream_protocol;

class HttpExchange : public std::enable_shared_from_this<HttpExchange> {
public:
    HttpExchange(asio::io_context& io, std::string socket_path, HttpRequest request, BodySink sink, HttpDone done)
        : socket_(io), socket_path_(std::move(socket_path)), sink_(std::move(sink)), done_(std::move(done)) {
        request_.method_string(request.method);
        request_.target(request.target);
        request_.version(11);
        request_.set(http::field::host, "docker");
        request_.set(http::field::user_agent, "tandem");
        if (!request.content_type.empty()) request_.set(http::field::content_type, request.content_type);
        request_.body() = std::move(request.body);
        request_.prepare_payload();
        parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
        parser_.header_limit(1 << 20);
    }

    void start() {
        socket_.async_connect(local::endpoint(socket_path_),
                              [self = shared_from_this()](boost::system::error_code ec) { self->on_connect(ec); });
    }

    void cancel() {
        cancelled_ = true;
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

private:
    void on_connect(boost::system::error_code ec) {
        if (ec) return fail_connect(ec);
        http::async_write(socket_, request_, [self = shared_from_this()](boost::system::error_code e, std::size_t) {
            if (e) return self->fail(e, "sending the request");
            http::async_read_header(self->socket_, self->buffer_, self->parser_,
                                    [self](boost::system::error_code e2, std::size_t) { self->on_header(e2); });
        });
    }

    void on_header(boost::system::error_code ec) {
        if (ec) return fail(ec, "reading the response");
        response_.status = static_cast<int>(parser_.get().result_int());
        streaming_ = sink_ && response_.status >= 200 && response_.status < 300;
        read_body();
    }

    void read_body() {
        if (parser_.is_done()) return finish(Result<HttpResponse>(std::move(response_)));
        parser_.get().body().data = piece_.data();
        parser_.get().body().size = piece_.size();
        http::async_read_some(socket_, buffer_, parser_,
                              [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                                  self->on_body(ec);
                              });
    }

    void on_body(boost::system::error_code ec) {
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = piece_.size() - parser_.get().body().size;
        if (got > 0 && !cancelled_) {
            const std::string_view bytes(piece_.data(), got);
            if (streaming_) sink_(bytes); else response_.body.append(bytes);
        }
        if (ec) return fail(ec, "reading the response");
        read_body();
    }

    void fail_connect(boost::system::error_code ec) {
        const bool denied = ec == asio::error::access_denied;
        finish(make_error(ErrorCode::unavailable,
                          fmt::format("cannot connect to the daemon at {}: {} ({})", socket_path_,
                                      ec.message(),
                                      denied ? "is dockerd running, and may this user use its socket?"
                                             : "is dockerd running?")));
    }

    void fail(boost::system::error_code ec, std::string_view doing) {
        if (cancelled_) return finish(make_error(ErrorCode::cancelled, "cancelled"));
        finish(make_error(ErrorCode::io, fmt::format("the connection to {} broke while {}: {}", socket_path_,
                                                     doing, ec.message())));
    }

    void finish(Result<HttpResponse> result) {
        if (!done_) return;
        auto done = std::move(done_);
        done_ = nullptr;
        sink_ = nullptr;
        boost::system::error_code ignored;
        socket_.close(ignored);
        if (cancelled_ && result.ok()) result = make_error(ErrorCode::cancelled, "cancelled");
        done(std::move(result));
    }

    local::socket socket_;
    std::string socket_path_;
    BodySink sink_;
    HttpDone done_;
    http::request<http::string_body> request_;
    http::response_parser<http::buffer_body> parser_;
    boost::beast::flat_buffer buffer_;
    std::array<char, 16384> piece_{};
    HttpResponse response_;
    bool streaming_ = false;
    bool cancelled_ = false;
};

void StreamHandle::cancel() {
    if (auto exchange = exchange_.lock()) exchange->cancel();
}

StreamHandle send_http(asio::io_context& io, const std::string& socket_path, HttpRequest request, BodySink sink,
                       HttpDone done) {
    auto exchange = std::make_shared<HttpExchange>(io, socket_path, std::move(request), std::move(sink),
                                                   std::move(done));
    exchange->start();
    return StreamHandle(exchange);
}

}  // namespace tandem::docker
