// One client connection of the HTTP API (Boost.Beast): reads requests one after the other
// (keep-alive), routes them, runs answers that block in the engine on a background thread,
// writes the replies, and hands the connection over to a stream when one is asked for.
#include "http/server_state.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cctype>

namespace tandem::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::redirect_error;
using asio::use_awaitable;
using error_code = boost::system::error_code;
using Request = bhttp::request<bhttp::string_body>;

namespace {

constexpr std::chrono::seconds kBodyTimeout{30};       // for a request's body, once its header came
constexpr std::chrono::seconds kLingerTimeout{2};      // reading what a refused client still sends
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// A request Beast could not parse (rather than a connection that went away).
bool is_http_error(const error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

ApiRequest api_request(const Request& request, const std::string& remote) {
    ApiRequest out;
    out.method = std::string(view(request.method_string()));
    const std::string_view target = view(request.target());
    const auto question = target.find('?');
    out.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) out.query = parse_query(target.substr(question + 1));
    for (const auto& field : request) out.headers[lowercase(view(field.name_string()))] = std::string(view(field.value()));
    out.body = request.body();
    out.remote = remote;
    return out;
}

asio::awaitable<bool> write_reply(HttpApi::State& state, const Socket& socket, ApiReply reply, unsigned version,
                                  bool keep_alive) {
    bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(reply.status), version};
    response.set(bhttp::field::server, "tandem");
    response.set(bhttp::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response.set(name, value);
    response.body() = std::move(reply.body);
    response.keep_alive(keep_alive);
    response.prepare_payload();
    state.metrics.count_request(reply.status);
    Deadline deadline(socket, kWriteTimeout);
    error_code ec;
    co_await bhttp::async_write(*socket, response, redirect_error(use_awaitable, ec));
    co_return !ec;
}

// Says it will send no more, reads (and drops) what the client still sends, then closes: a
// close with unread bytes would reset the connection and could lose the reply on its way.
asio::awaitable<void> close_gracefully(const Socket& socket) {
    error_code ec;
    socket->shutdown(tcp::socket::shutdown_send, ec);
    Deadline deadline(socket, kLingerTimeout);
    char buffer[4096];
    for (std::size_t total = 0; !ec && total < kMaxLingerBytes;)
        total += co_await socket->async_read_some(asio::buffer(buffer), redirect_error(use_awaitable, ec));
    socket->close(ec);
}

// The reply a blocking answer makes, computed on a background thread; the coroutine waits
// for it without holding up the server's thread.
asio::awaitable<ApiReply> off_thread(HttpApi::State& state, std::function<ApiReply()> work) {
    auto initiate = [&state, work = std::move(work)](auto handler) mutable {
        auto waiting = std::make_shared<decltype(handler)>(std::move(handler));
        auto io = state.io.get_executor();
        auto guard = asio::make_work_guard(state.io);
        auto task = [waiting, io, guard, work = std::move(work)]() mutable {
            ApiReply reply;
            try {
                reply = work();
            } catch (const std::exception& e) {
                reply = error_reply(500, "internal", e.what());
            }
            asio::post(io, [waiting, reply = std::move(reply)]() mutable { (*waiting)(std::move(reply)); });
            guard.reset();
        };
        if (!state.tasks.run(std::move(task)))
            asio::post(io, [waiting] { (*waiting)(error_reply(503, "busy", "too many requests under way: try again")); });
    };
    co_return co_await asio::async_initiate<decltype(use_awaitable), void(ApiReply)>(std::move(initiate), use_awaitable);
}

// The answer to a request: routed, then computed here or on a background thread.
asio::awaitable<Routed> answer(HttpApi::State& state, const ApiRequest& request) {
    Routed routed;
    try {
        routed = state.router.route(request);
    } catch (const std::exception& e) {
        co_return Routed::now(error_reply(500, "internal", e.what()));
    }
    if (routed.deferred) routed.reply = co_await off_thread(state, std::exchange(routed.deferred, {}));
    co_return routed;
}

enum class Next { another, close, stream };

// Waits for the next request's first byte on a kept-alive connection: false when the client
// sent nothing for options.idle_timeout (or went away).
asio::awaitable<bool> next_request_begins(HttpApi::State& state, const Socket& socket, const beast::flat_buffer& buffer) {
    if (buffer.size() > 0) co_return true;
    Deadline deadline(socket, state.options.idle_timeout);
    error_code ec;
    co_await socket->async_wait(tcp::socket::wait_read, redirect_error(use_awaitable, ec));
    co_return !ec && socket->is_open();
}

// Reads one request and answers it; a stream it asks for goes to `stream`. The header must
// come whole within options.header_timeout (a client that trickles it is closed).
asio::awaitable<Next> serve_request(HttpApi::State& state, const Socket& socket, beast::flat_buffer& buffer,
                                    const std::string& remote, std::optional<StreamOrder>& stream) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(state.options.max_body_bytes);
    error_code ec;
    {
        Deadline deadline(socket, state.options.header_timeout);
        co_await bhttp::async_read_header(*socket, buffer, parser, redirect_error(use_awaitable, ec));
    }
    const bool malformed = ec && ec != bhttp::error::end_of_stream && is_http_error(ec);
    if (ec && !malformed && ec != bhttp::error::body_limit) co_return Next::close;  // gone, or too slow
    const auto length = parser.content_length();
    const bool too_large = ec == bhttp::error::body_limit || (!ec && length && *length > state.options.max_body_bytes);
    if (too_large || ec) {
        ApiReply reply = too_large ? error_reply(413, "too_large",
                                                 "the body is over the limit of " +
                                                     std::to_string(state.options.max_body_bytes) + " bytes")
                                   : error_reply(400, "bad_request", "malformed HTTP request: " + ec.message());
        co_await write_reply(state, socket, std::move(reply), 11, false);
        co_return Next::close;
    }
    {
        Deadline deadline(socket, kBodyTimeout);
        if (lowercase(view(parser.get()[bhttp::field::expect])) == "100-continue")
            co_await asio::async_write(*socket, asio::buffer(kContinue), redirect_error(use_awaitable, ec));
        if (!ec) co_await bhttp::async_read(*socket, buffer, parser, redirect_error(use_awaitable, ec));
    }
    if (ec == bhttp::error::body_limit) {
        co_await write_reply(state, socket, error_reply(413, "too_large", "the body is over the limit"), 11, false);
        co_return Next::close;
    }
    if (ec) co_return Next::close;
    const Request& request = parser.get();
    Routed routed = co_await answer(state, api_request(request, remote));
    if (routed.stream && !state.stopping) {
        stream = std::move(routed.stream);
        co_return Next::stream;
    }
    const bool keep_alive = request.keep_alive() && !state.stopping;
    const bool written = co_await write_reply(state, socket, std::move(routed.reply), request.version(), keep_alive);
    co_return written && keep_alive ? Next::another : Next::close;
}

}  // namespace

asio::awaitable<void> serve_connection(HttpApi::State& state, tcp::socket accepted, std::string remote) {
    struct Admitted {  // counted by the accept loop; released however this ends
        HttpApi::State& state;
        const std::string& peer;
        ~Admitted() { state.limits.release(peer); }
    } admitted{state, remote};
    auto socket = std::make_shared<tcp::socket>(std::move(accepted));
    if (state.stopping) co_return;  // accepted as the server shut down: its close() missed this one
    error_code ec;
    socket->set_option(tcp::no_delay(true), ec);
    const int id = state.add_connection([socket] {
        error_code ignored;
        socket->shutdown(tcp::socket::shutdown_both, ignored);
        socket->close(ignored);
    });
    beast::flat_buffer buffer;
    std::optional<StreamOrder> stream;
    Next next = Next::another;
    for (bool first = true; next == Next::another && !state.stopping; first = false) {
        if (!first && !co_await next_request_begins(state, socket, buffer)) break;
        next = co_await serve_request(state, socket, buffer, remote, stream);
    }
    if (next == Next::stream) {
        state.metrics.count_request(200);
        co_await serve_stream(state, socket, std::move(*stream));
    }
    if (socket->is_open() && !state.stopping) co_await close_gracefully(socket);
    state.remove_connection(id);
}

}  // namespace tandem::http
