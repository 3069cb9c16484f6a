// One HTTP/1.1 request to the Docker daemon over its unix socket, on an Asio io_context, on a
// connection of its own (so a streamed response — logs, events, build progress — never blocks
// another request). The body of a successful response can be streamed to a sink as it arrives.
#pragma once

#include <tandem/error.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace tandem::docker {

struct HttpRequest {
    std::string method = "GET";
    std::string target;        // "/v1.41/containers/json?all=1"
    std::string body;
    std::string content_type;  // "application/json", "application/x-tar"; empty without a body
};

struct HttpResponse {
    int status = 0;
    std::string body;  // the whole body, unless it went to a sink
};

// Receives a 2xx response's body piece by piece, in order, on the io_context's thread.
using BodySink = std::function<void(std::string_view piece)>;
using HttpDone = std::function<void(Result<HttpResponse>)>;

class HttpExchange;

// Stops a request (a followed log, an event stream) early: its callback gets ErrorCode::cancelled.
// Safe to call from the io_context's thread at any time, also after the request finished.
class StreamHandle {
public:
    StreamHandle() = default;
    explicit StreamHandle(std::weak_ptr<HttpExchange> exchange) : exchange_(std::move(exchange)) {}
    void cancel();

private:
    std::weak_ptr<HttpExchange> exchange_;
};

// Sends `request` to the daemon listening on `socket_path`; `done` runs once, with the status
// and (unless `sink` took it) the body, or with an error when the socket cannot be reached
// (ErrorCode::unavailable) or the connection breaks (ErrorCode::io). Any HTTP status is a
// response: mapping statuses to errors is the caller's.
StreamHandle send_http(boost::asio::io_context& io, const std::string& socket_path, HttpRequest request,
                       BodySink sink, HttpDone done);

}  // namespace tandem::docker
