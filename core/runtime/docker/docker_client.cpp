// The Docker client's core: the socket and API version it talks, how a request becomes a typed
// result, version negotiation, and images (build, inspect, remove).
#include "runtime/docker/docker_client.hpp"

#include "runtime/docker/build_context.hpp"
#include "runtime/docker/docker_json.hpp"
#include "support/asio.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace tandem::docker {

using nlohmann::json;

struct DockerClient::Shared {
    boost::asio::io_context* io = nullptr;
    std::string socket_path;
    std::string api_version;  // set by negotiate(), on the io_context's thread
};

namespace {

std::string default_socket_path() {
    const char* host = std::getenv("DOCKER_HOST");
    const std::string_view scheme = "unix://";
    if (host != nullptr && std::string_view(host).substr(0, scheme.size()) == scheme) return host + scheme.size();
    return "/var/run/docker.sock";
}

// "1.41" -> 141, for comparing versions; 0 when it is not one.
int api_number(std::string_view version) {
    int major = 0;
    int minor = 0;
    if (std::sscanf(std::string(version).c_str(), "%d.%d", &major, &minor) != 2) return 0;
    return major * 100 + minor;
}

DaemonVersion to_version(const json& body) {
    return DaemonVersion{json_string(body, "Version"), json_string(body, "ApiVersion"),
                         json_string(body, "MinAPIVersion"), json_string(body, "Os"), json_string(body, "Arch")};
}

std::string build_query(const BuildOptions& options) {
    std::string query = "/build?rm=1&forcerm=1&dockerfile=" + url_encode(options.dockerfile);
    for (const std::string& tag : options.tags) query += "&t=" + url_encode(tag);
    if (!options.target.empty()) query += "&target=" + url_encode(options.target);
    if (!options.args.empty()) query += "&buildargs=" + url_encode(json(options.args).dump());
    if (!options.labels.empty()) query += "&labels=" + url_encode(json(options.labels).dump());
    query += options.pull ? "&pull=1" : "&pull=0";
    return query;
}

}  // namespace

DockerClient::DockerClient(boost::asio::io_context& io, std::string socket_path)
    : shared_(std::make_shared<Shared>()) {
    shared_->io = &io;
    shared_->socket_path = socket_path.empty() ? default_socket_path() : std::move(socket_path);
}

DockerClient DockerClient::with_context(std::string context) const {
    DockerClient copy = *this;
    copy.context_ = std::move(context);
    return copy;
}

const std::string& DockerClient::socket_path() const { return shared_->socket_path; }
const std::string& DockerClient::api_version() const { return shared_->api_version; }

Error DockerClient::failure(std::string_view action, Error error) const {
    error.message = context_.empty() ? fmt::format("docker: {}: {}", action, error.message)
                                     : fmt::format("docker: {} {}: {}", action, context_, error.message);
    return error;
}

Error DockerClient::daemon_error(std::string_view action, const HttpResponse& response) const {
    std::string message = json_string(json::parse(response.body, nullptr, false), "message");
    if (message.empty()) message = response.body.empty() ? std::string("no message") : response.body;
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    const std::string what = context_.empty() ? std::string(action) : fmt::format("{} {}", action, context_);
    return make_error(response.status == 404 ? ErrorCode::not_found : ErrorCode::runtime,
                      fmt::format("docker: {}: {} (HTTP {})", what, message, response.status));
}

StreamHandle DockerClient::call(std::string action, HttpRequest request, BodySink sink, Reply reply) const {
    if (!shared_->api_version.empty()) request.target = "/v" + shared_->api_version + request.target;
    auto self = *this;
    return send_http(*shared_->io, shared_->socket_path, std::move(request), std::move(sink),
                     [self, action = std::move(action), reply = std::move(reply)](Result<HttpResponse> got) {
                         if (!got) return reply(self.failure(action, got.error()));
                         if (got->status >= 400) return reply(self.daemon_error(action, *got));
                         reply(std::move(got));
                     });
}

void DockerClient::version(Callback<DaemonVersion> done) {
    call("version", {"GET", "/version", {}, {}}, nullptr, [done](Result<HttpResponse> got) {
        auto body = parse_reply("version", got);
        if (!body) return done(body.error());
        done(to_version(*body));
    });
}

void DockerClient::negotiate(Callback<DaemonVersion> done) {
    auto shared = shared_;
    // Unversioned: asked before the version is known.
    send_http(*shared->io, shared->socket_path, {"GET", "/version", {}, {}}, nullptr,
              [self = *this, shared, done](Result<HttpResponse> got) {
                  if (!got) return done(self.failure("version", got.error()));
                  if (got->status >= 400) return done(self.daemon_error("version", *got));
                  auto body = parse_reply("version", got);
                  if (!body) return done(body.error());
                  DaemonVersion daemon = to_version(*body);
                  const int theirs = api_number(daemon.api_version);
                  if (theirs < api_number(oldest_api)) {
                      return done(make_error(ErrorCode::runtime,
                                             fmt::format("docker: the daemon speaks API {} and tandem needs {} or newer",
                                                         daemon.api_version, oldest_api)));
                  }
                  shared->api_version = theirs < api_number(newest_api) ? daemon.api_version : newest_api;
                  done(std::move(daemon));
              });
}

void DockerClient::ping(Done done) {
    call("ping", {"GET", "/_ping", {}, {}}, nullptr, [done](Result<HttpResponse> got) {
        if (!got) return done(got.error());
        done(Ok{});
    });
}

void DockerClient::build(const std::filesystem::path& context_dir, const BuildOptions& options,
                         LineCallback progress, Callback<std::string> done) {
    auto tar = make_build_context(context_dir, options.dockerfile);
    if (!tar) {
        boost::asio::post(*shared_->io, [done, error = failure("build image", tar.error())] { done(error); });
        return;
    }
    build_tar(std::move(*tar), options, std::move(progress), std::move(done));
}

StreamHandle DockerClient::build_tar(std::string context_tar, const BuildOptions& options, LineCallback progress,
                                     Callback<std::string> done) {
    struct Build {
        std::string image_id;
        std::string error;
        LineSplitter output;  // the builder's text, which comes in pieces that need not end lines
        LineSplitter messages;
    };
    auto state = std::make_shared<Build>(Build{{}, {}, LineSplitter([progress](std::string_view line) {
                                                   if (progress) progress(line);
                                               }),
                                               LineSplitter(nullptr)});
    Build* raw = state.get();
    state->messages = LineSplitter([raw, progress](std::string_view line) {
        const json message = json::parse(line, nullptr, false);
        if (message.is_discarded()) return;
        if (message.contains("aux") && message["aux"].contains("ID")) raw->image_id = json_string(message["aux"], "ID");
        raw->output.feed(json_string(message, "stream"));
        const std::string status = json_string(message, "status");
        if (!status.empty() && progress) progress(status);
        if (message.contains("error")) {
            raw->error = json_string(message, "error");
            if (progress) progress(raw->error);
        }
    });
    HttpRequest request{"POST", build_query(options), std::move(context_tar), "application/x-tar"};
    return call("build image", std::move(request), [state](std::string_view piece) { state->messages.feed(piece); },
                [self = *this, state, done](Result<HttpResponse> got) {
                    if (!got) return done(got.error());
                    state->messages.finish();
                    state->output.finish();
                    if (!state->error.empty()) {
                        return done(self.failure("build image", make_error(ErrorCode::runtime, state->error)));
                    }
                    if (state->image_id.empty()) {
                        return done(self.failure("build image",
                                                 make_error(ErrorCode::runtime, "the daemon named no image ID")));
                    }
                    done(state->image_id);
                });
}

void DockerClient::inspect_image(const std::string& name, Callback<ImageInfo> done) {
    call("inspect image " + name, {"GET", "/images/" + url_encode(name) + "/json", {}, {}}, nullptr,
         [done](Result<HttpResponse> got) {
             auto body = parse_reply("inspect image", got);
             if (!body) return done(body.error());
             ImageInfo info;
             info.id = json_string(*body, "Id");
             for (const auto& tag : body->value("RepoTags", json::array())) info.repo_tags.push_back(tag.get<std::string>());
             for (const auto& d : body->value("RepoDigests", json::array())) info.repo_digests.push_back(d.get<std::string>());
             if (body->contains("Config")) info.labels = json_labels((*body)["Config"].value("Labels", json()));
             done(std::move(info));
         });
}

void DockerClient::remove_image(const std::string& name, Done done, bool prune_parents) {
    const std::string target = "/images/" + url_encode(name) + (prune_parents ? "?force=1" : "?force=1&noprune=1");
    call("remove image " + name, {"DELETE", target, {}, {}}, nullptr,
         status_only(std::move(done)));
}

std::string label_filters(const Labels& labels) {
    json list = json::array();
    for (const auto& [key, value] : labels) list.push_back(value.empty() ? key : key + "=" + value);
    return json{{"label", list}}.dump();
}

}  // namespace tandem::docker
