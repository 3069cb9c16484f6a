// Blocking HTTP requests for tests, so that they talk to services the way a client would, and
// a raw connection for reading a stream (Server-Sent Events) as it comes.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tandem::test {

struct HttpReply {
    int status = 0;
    std::string head;  // the status line and the headers
    std::string body;

    // The value of header `name` (any case), "" when absent.
    std::string header(const std::string& name) const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// An HTTP/1.0 request on a connection of its own; nullopt when the connection fails or no
// complete reply arrives within `timeout`.
std::optional<HttpReply> http_request(int port, const std::string& method, const std::string& path,
                                      const std::string& body = {}, const HttpHeaders& headers = {},
                                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// The reply in `response` (a status line, headers, a blank line, the body); nullopt if it is none.
std::optional<HttpReply> parse_http_reply(const std::string& response);

std::optional<HttpReply> http_get(int port, const std::string& path,
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// A connection to 127.0.0.1:port that the test writes raw bytes to and reads as they come;
// `from` another loopback address (127.0.0.2) to come from another peer.
class RawConnection {
public:
    explicit RawConnection(int port, const std::string& from = {});
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return fd_ >= 0; }
    bool send(const std::string& bytes);
    // Reads until everything received holds `needle` (true) or `timeout` passes or the server
    // closes (false). received() keeps it all.
    bool read_until(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Whether the server closes the connection within `timeout`.
    bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    const std::string& received() const { return received_; }
    void close();

private:
    int fd_ = -1;
    std::string received_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace tandem::test
