// Registries and swarm mode: tagging and pushing images, any JSON call of the swarm API, and a
// service's logs across nodes.
#include "runtime/docker/docker_client.hpp"

#include "runtime/docker/docker_json.hpp"

#include <fmt/format.h>

namespace tandem::docker {

using nlohmann::json;

void DockerClient::tag_image(const std::string& image, const std::string& repository, const std::string& tag,
                             Done done) {
    call(fmt::format("tag image {} as {}:{}", short_id(image), repository, tag),
         {"POST", fmt::format("/images/{}/tag?repo={}&tag={}", url_encode(image), url_encode(repository), url_encode(tag)),
          {}, {}},
         nullptr, status_only(std::move(done)));
}

StreamHandle DockerClient::push_image(const std::string& repository, const std::string& tag, LineCallback progress,
                                      Callback<std::string> done) {
    struct Push {
        std::string digest;
        std::string error;
        LineSplitter messages{nullptr};
    };
    auto state = std::make_shared<Push>();
    Push* raw = state.get();
    state->messages = LineSplitter([raw, progress](std::string_view line) {
        const json message = json::parse(line, nullptr, false);
        if (message.is_discarded() || !message.is_object()) return;
        if (message.contains("aux") && message["aux"].is_object()) raw->digest = json_string(message["aux"], "Digest");
        const std::string status = json_string(message, "status");
        if (!status.empty() && progress) progress(status);
        if (message.contains("error")) raw->error = json_string(message, "error");
    });
    const std::string action = fmt::format("push image {}:{}", repository, tag);
    // No X-Registry-Auth header: the daemon then reads the credentials from the body, here none.
    HttpRequest request{"POST", fmt::format("/images/{}/push?tag={}", url_encode(repository), url_encode(tag)), "{}",
                        "application/json"};
    return call(action, std::move(request), [state](std::string_view piece) { state->messages.feed(piece); },
                [self = *this, state, action, done](Result<HttpResponse> got) {
                    if (!got) return done(got.error());
                    state->messages.finish();
                    if (!state->error.empty())
                        return done(self.failure(action, make_error(ErrorCode::runtime, state->error)));
                    if (state->digest.empty())
                        return done(self.failure(action, make_error(ErrorCode::runtime, "the registry named no digest")));
                    done(state->digest);
                });
}

void DockerClient::request_json(std::string action, std::string method, std::string target, std::string body,
                                Callback<json> done) {
    HttpRequest request{std::move(method), std::move(target), std::move(body), {}};
    if (!request.body.empty()) request.content_type = "application/json";
    call(action, std::move(request), nullptr, [action, done](Result<HttpResponse> got) {
        if (got && got->body.empty()) return done(json());
        auto parsed = parse_reply(action, got);
        if (!parsed) return done(parsed.error());
        done(std::move(*parsed));
    });
}

StreamHandle DockerClient::service_logs(const std::string& service, const LogOptions& options, LogCallback on_line,
                                        Done done) {
    const std::string target =
        fmt::format("/services/{}/logs?stdout=1&stderr=1&follow={}&since={}&tail={}", url_encode(service),
                    options.follow ? 1 : 0, options.since, url_encode(options.tail));
    auto lines = std::make_shared<DemuxedLines>(std::move(on_line));
    return call("logs of service " + service, {"GET", target, {}, {}},
                [lines](std::string_view piece) { lines->feed(piece); },
                [lines, done](Result<HttpResponse> got) {
                    lines->finish();
                    got ? done(Ok{}) : done(got.error());
                });
}

}  // namespace tandem::docker
