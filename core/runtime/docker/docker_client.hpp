// A client of the Docker Engine API over the daemon's unix socket, asynchronous on an Asio
// io_context: every call returns at once and its callback runs later on that io_context's thread,
// exactly once. Calls may overlap; each request has a connection of its own.
//
// negotiate() first: it asks GET /version and talks min(daemon's newest, 1.41) from then on
// ("/v1.41/..."); before it, paths are unversioned (the daemon's newest). Errors are typed: the
// socket missing or refused is ErrorCode::unavailable ("is dockerd running?"); a 404 is
// not_found; any other refusal is runtime, with the daemon's own message and what was asked:
//   "docker: create container for service 'web': No such image: shop-web:dev (HTTP 404)".
#pragma once

#include "runtime/docker/docker_types.hpp"
#include "runtime/docker/docker_stream.hpp"
#include "runtime/docker/http_exchange.hpp"

#include <tandem/error.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::docker {

template <class T>
using Callback = std::function<void(Result<T>)>;
using Done = Callback<Ok>;
using LineCallback = std::function<void(std::string_view line)>;
using LogCallback = std::function<void(OutputStream stream, std::string_view line)>;
using EventCallback = std::function<void(const DockerEvent& event)>;

class DockerClient {
public:
    static constexpr const char* newest_api = "1.41";  // Debian 12's docker.io 20.10
    static constexpr const char* oldest_api = "1.30";  // build targets, mounts, health checks

    // `socket_path` empty: $DOCKER_HOST (unix://PATH) or /var/run/docker.sock.
    explicit DockerClient(boost::asio::io_context& io, std::string socket_path = {});

    // The same connection settings, naming `context` in its errors ("for service 'web'").
    DockerClient with_context(std::string context) const;

    const std::string& socket_path() const;
    const std::string& api_version() const;  // empty until negotiate()

    void negotiate(Callback<DaemonVersion> done);
    void ping(Done done);
    void version(Callback<DaemonVersion> done);

    // Images. build() tars `context_dir` (see build_context.hpp) on the calling thread; progress
    // gets the builder's output line by line; the result is the image ID ("sha256:…").
    void build(const std::filesystem::path& context_dir, const BuildOptions& options, LineCallback progress,
               Callback<std::string> done);
    StreamHandle build_tar(std::string context_tar, const BuildOptions& options, LineCallback progress,
                           Callback<std::string> done);
    void inspect_image(const std::string& name, Callback<ImageInfo> done);
    // Forced; with `prune_parents`, also the untagged parent images nothing else uses.
    void remove_image(const std::string& name, Done done, bool prune_parents = true);

    // Containers.
    void create_container(const ContainerSpec& spec, Callback<std::string> done);  // the ID
    void start_container(const std::string& id, Done done);  // already running: Ok
    void inspect_container(const std::string& id, Callback<ContainerInfo> done);
    void stop_container(const std::string& id, int timeout_seconds, Done done);  // already stopped: Ok
    void kill_container(const std::string& id, const std::string& signal, Done done);
    void remove_container(const std::string& id, Done done);  // forced, keeps its volumes
    void list_containers(const Labels& labels, Callback<std::vector<ContainerSummary>> done);  // also stopped ones
    StreamHandle wait_container(const std::string& id, Callback<int> done);  // the exit code
    // Logs, demultiplexed into lines of stdout and stderr; with follow, until the container stops
    // or the handle cancels. `done` runs after the last line.
    StreamHandle logs(const std::string& id, const LogOptions& options, LogCallback on_line, Done done);
    // Runs `spec.cmd` in the running container and collects its output and exit code.
    void exec(const std::string& id, const ExecSpec& spec, Callback<ExecResult> done);
    // Unpacks `tar` at `path` (a directory that exists) in the container, running or not.
    void upload_archive(const std::string& id, const std::string& path, std::string tar, Done done);

    // Networks (bridge) and named volumes.
    void create_network(const std::string& name, const Labels& labels, Callback<std::string> done);  // the ID
    void connect_network(const std::string& network, const std::string& container,
                         const std::vector<std::string>& aliases, Done done);
    void remove_network(const std::string& network, Done done);
    void list_networks(const Labels& labels, Callback<std::vector<NetworkInfo>> done);
    void create_volume(const std::string& name, const Labels& labels, Callback<VolumeInfo> done);
    void remove_volume(const std::string& name, Done done);
    void list_volumes(const Labels& labels, Callback<std::vector<VolumeInfo>> done);

    // The daemon's events as they happen, until the handle cancels.
    StreamHandle events(const EventFilter& filter, EventCallback on_event, Done done);

    // Registries (docker_swarm.cpp). tag_image names `image` "repository:tag" too. push_image
    // sends "repository:tag" to its registry (no credentials: an open registry); the result is
    // the digest the registry stored it under ("sha256:…").
    void tag_image(const std::string& image, const std::string& repository, const std::string& tag, Done done);
    StreamHandle push_image(const std::string& repository, const std::string& tag, LineCallback progress,
                            Callback<std::string> done);

    // Swarm mode (docker_swarm.cpp): any call of the API by method and path (unversioned, as
    // "/services/create"), with a JSON body or none; the result is the reply's JSON body (null
    // when it has none). What the swarm runtime builds its calls from.
    void request_json(std::string action, std::string method, std::string target, std::string body,
                      Callback<nlohmann::json> done);
    // A swarm service's logs from every node, demultiplexed into lines; with follow, until the
    // service goes or the handle cancels.
    StreamHandle service_logs(const std::string& service, const LogOptions& options, LogCallback on_line, Done done);

private:
    struct Shared;
    using Reply = Callback<HttpResponse>;

    // Sends `request` (its target gets the version prefix); a status >= 400 (or 304 when not
    // `ok_unchanged`) becomes an Error that names `action`.
    StreamHandle call(std::string action, HttpRequest request, BodySink sink, Reply reply) const;
    Error daemon_error(std::string_view action, const HttpResponse& response) const;
    // "docker: <action>[ <context>]: <reason>", for errors that are not the daemon's.
    Error failure(std::string_view action, Error error) const;
    void exec_start(std::string exec_id, Callback<ExecResult> done) const;

    std::shared_ptr<Shared> shared_;
    std::string context_;
};

// The label filter of a list or events call, as the API takes it: {"label":["k=v", ...]}.
std::string label_filters(const Labels& labels);

}  // namespace tandem::docker
