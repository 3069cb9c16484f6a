// What the preview tests share: branches made at once (as a push makes them) and requests that
// carry a Host header of their own (http_request sends one of its own).
#pragma once

#include "release/release_fixture.hpp"

#include <optional>
#include <string>

namespace tandem::test {

// A branch from main with version.txt set to `version`: committed on a branch no pattern
// matches, then renamed, so that no fetch sees it at main's commit; the work tree is back on main.
inline std::string make_branch(Upstream& upstream, const std::string& name, const std::string& version) {
    git(upstream.path(), {"checkout", "-q", "-B", "making", "main"});
    const std::string id = upstream.commit({{"version.txt", version + "\n"}}, version);
    git(upstream.path(), {"checkout", "-q", "main"});
    git(upstream.path(), {"branch", "-q", "-M", "making", name});
    return id;
}

// A commit on an existing branch; the work tree is back on main.
inline std::string push_to(Upstream& upstream, const std::string& name, const std::map<std::string, std::string>& files,
                           const std::string& message) {
    git(upstream.path(), {"checkout", "-q", name});
    const std::string id = upstream.commit(files, message);
    git(upstream.path(), {"checkout", "-q", "main"});
    return id;
}

// GET `path` with this Host header, the connection closed after.
inline std::optional<HttpReply> get_by_host(int port, const std::string& host, const std::string& path) {
    RawConnection connection(port);
    if (!connection.connected() || !connection.send("GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n"))
        return std::nullopt;
    (void)connection.closed_by_server(std::chrono::milliseconds(2000));
    return parse_http_reply(connection.received());
}

// The body of GET /version for this Host, trimmed; "" when it does not answer 200.
inline std::string version_by_host(int port, const std::string& host) {
    auto reply = get_by_host(port, host, "/version");
    if (!reply || reply->status != 200) return {};
    std::string body = reply->body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return body;
}

}  // namespace tandem::test
