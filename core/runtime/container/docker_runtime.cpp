// The Docker runtime's replicas: each a container made from the service's image, on the
// project network under the service's name, its port published on 127.0.0.1, its output
// followed into the service's log and its exit heard from the daemon.
#include "runtime/container/docker_runtime.hpp"

#include "runtime/container/blocking_docker.hpp"

#include <fmt/format.h>

#include <future>
#include <thread>

namespace tandem::container {

namespace {

int grace_seconds(Duration grace) {
    const auto ms = grace.count();
    return ms <= 0 ? 0 : static_cast<int>((ms + 999) / 1000);
}

}  // namespace

ExitStatus exit_status_of(int code) {
    if (code > 128 && code < 128 + 65) return ExitStatus{-1, code - 128};
    return ExitStatus{code, 0};
}

DockerRuntime::DockerRuntime(process::AsioEventLoop& loop, DockerRuntimeOptions options)
    : loop_(loop), options_(std::move(options)), names_(options_.project, options_.state_dir, options_.labels),
      client_(loop.io(), options_.socket_path) {}

DockerRuntime::~DockerRuntime() {
    // Every callback still to come sees the runtime gone: flipped on the loop's thread, which
    // runs them, and waited for.
    // The proxies and relays close there too: their handlers run on that thread.
    if (loop_.on_loop_thread() || !emit_) {
        *alive_ = false;
        proxies_.clear();
        extra_proxies_.clear();
        relays_.clear();
    } else {
        std::promise<void> flipped;
        loop_.post([this, &flipped] {
            *alive_ = false;
            proxies_.clear();
            extra_proxies_.clear();
            relays_.clear();
            flipped.set_value();
        });
        if (flipped.get_future().wait_for(std::chrono::seconds(5)) != std::future_status::ready) *alive_ = false;
    }
    if (unreachable_ || !emit_) return;
    // What is left of this run (the executor stops its services first; this is for an embedder
    // that did not, and for creates the daemon answers only now), then the network.
    for (int waited = 0; *creating_ > 0 && waited < 500; ++waited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BlockingDocker docker(options_.socket_path);
    docker::Labels mine = names_.engine_labels();
    mine[run_label] = names_.run();
    auto left = docker.call<std::vector<docker::ContainerSummary>>(
        [&](docker::DockerClient& c, auto done) { c.list_containers(mine, done); });
    if (left)
        for (const auto& container : *left)
            (void)docker.call<Ok>([&](docker::DockerClient& c, auto done) { c.remove_container(container.id, done); });
    if (network_ready_)
        (void)docker.call<Ok>([&](docker::DockerClient& c, auto done) { c.remove_network(names_.network(), done); });
}

void DockerRuntime::emit(RuntimeEventKind kind, const std::string& service, const std::string& text, int replica) {
    if (emit_)
        emit_(RuntimeEvent{kind, service, text, replica, kind == RuntimeEventKind::failure,
                           std::chrono::system_clock::now()});
}

Status DockerRuntime::open(EventSink emit) {
    emit_ = std::move(emit);
    BlockingDocker docker(options_.socket_path);
    auto version = docker.call<docker::DaemonVersion>(
        [](docker::DockerClient& c, auto done) { c.negotiate(done); }, std::chrono::seconds(5));
    if (!version) {
        unreachable_ = version.error();
        return Ok{};
    }
    // The loop's client talks the version negotiated here from the start.
    std::promise<void> negotiated;
    loop_.post([this, &negotiated] {
        client_.negotiate([&negotiated](Result<docker::DaemonVersion>) { negotiated.set_value(); });
    });
    negotiated.get_future().wait_for(std::chrono::seconds(10));
    remove_leftovers();
    return Ok{};
}

// Containers of this state directory that another run of the engine made: it was killed, or
// its daemon lost them. Stopped with the grace a replica gets, then removed.
void DockerRuntime::remove_leftovers() {
    BlockingDocker docker(options_.socket_path);
    auto left = docker.call<std::vector<docker::ContainerSummary>>(
        [&](docker::DockerClient& c, auto done) { c.list_containers(names_.owner_labels(), done); });
    if (!left) {
        emit(RuntimeEventKind::failure, "", "cannot list the containers a previous engine left: " + left.error().message);
        return;
    }
    const int grace = grace_seconds(options_.leftover_grace);
    for (const auto& container : *left) {
        if (container.state == "running")
            (void)docker.call<Ok>([&](docker::DockerClient& c, auto done) { c.stop_container(container.id, grace, done); },
                                  std::chrono::seconds(grace + 30));
        auto removed =
            docker.call<Ok>([&](docker::DockerClient& c, auto done) { c.remove_container(container.id, done); });
        const auto service = container.labels.find(service_label);
        const std::string name = service == container.labels.end() ? "" : service->second;
        if (!removed) emit(RuntimeEventKind::failure, name, removed.error().message);
        else
            emit(RuntimeEventKind::state, name,
                 fmt::format("removed container {} left {} by an engine that did not stop", container.name,
                             container.state == "running" ? "running" : "behind"));
    }
}

void DockerRuntime::use_spec(const Spec& spec) {
    // `project:` names what is made, once known: before anything was (the network first).
    if (!network_ready_ && network_waiters_.empty() && replicas_.empty() && commands_.empty())
        names_.set_project(spec.project);
    for (const ServiceSpec& service : spec.services) {
        if (service.runs_container()) services_[service.name] = service;
        peers_[service.name] = Peer{service.port, service.runs_container()};
    }
}

std::string DockerRuntime::expand_hosts(const std::string& text) {
    constexpr std::string_view open = "${services.";
    constexpr std::string_view close = ".host}";
    std::string out;
    std::size_t at = 0;
    for (std::size_t found = text.find(open); found != std::string::npos; found = text.find(open, at)) {
        const std::size_t end = text.find('}', found);
        if (end == std::string::npos) break;
        out.append(text, at, found - at);
        at = end + 1;
        const std::string variable = text.substr(found, at - found);
        const std::string name = variable.size() > open.size() + close.size() && variable.ends_with(close)
                                     ? variable.substr(open.size(), variable.size() - open.size() - close.size())
                                     : std::string();
        const auto peer = peers_.find(name);
        if (peer == peers_.end()) {
            out += variable;
        } else if (peer->second.container) {
            out += name;
        } else {
            out += gateway_.empty() ? "127.0.0.1" : gateway_;
            const int port = peer->second.port;
            if (port != 0 && !gateway_.empty() && !relays_.count(port)) {
                process::TcpProxy::Options options;
                options.host = gateway_;
                options.port = port;
                auto relay = process::TcpProxy::listen(loop_.io(), options);
                if (!relay) {
                    emit(RuntimeEventKind::failure, name,
                         fmt::format("containers cannot reach '{}': {}", name, relay.error().message));
                } else {
                    (*relay)->add_backend(0, port);
                    relays_[port] = std::move(*relay);
                }
            }
        }
    }
    out.append(text, at);
    return out;
}

Status DockerRuntime::reachable(const std::string& service) const {
    if (!unreachable_) return Ok{};
    return make_error(ErrorCode::unavailable,
                      fmt::format("service '{}' runs in a container, and the Docker daemon does not answer: {}",
                                  service, unreachable_->message));
}

Result<ReplicaInfo> DockerRuntime::start_replica(const ReplicaLaunch& launch, OutputHandler output,
                                                 ExitHandler exited) {
    if (!launch.service.container)
        return make_error(ErrorCode::invalid_value,
                          fmt::format("service '{}' runs no container: the docker runtime cannot start it",
                                      launch.service.name));
    if (auto status = reachable(launch.service.name); !status) return status.error();
    services_.try_emplace(launch.service.name, launch.service);
    auto replica = std::make_shared<Replica>();
    replica->id = launch.id;
    replica->launch = launch;
    replica->output = std::move(output);
    replica->exited = std::move(exited);
    replica->name = names_.container(launch.service.name, launch.id);
    replicas_[launch.id] = replica;
    std::weak_ptr<bool> alive = alive_;
    if (launch.artifact.kind == ArtifactKind::image && !launch.artifact.digest.empty()) {
        // Built or resolved ahead (ImageBuilder): runs by image ID, and so do its one-off commands.
        const ServiceSpec& service = launch.service;
        if (service.container->build) images_[service.name] = launch.artifact.digest;
        else pinned_[service.container->image] = launch.artifact.digest;
        loop_.post([this, alive, replica, image = launch.artifact.digest] {
            if (live(alive)) create_replica(replica, image);
        });
        return ReplicaInfo{"container " + replica->name, launch.service.port};
    }
    auto progress = [replica](LogStream stream, std::string_view line) { replica->output(stream, line); };
    service_image(launch.service, launch.cwd, progress, [this, alive, replica](Result<std::string> image) {
        if (!live(alive)) return;
        if (!image) return replica_failed(replica, image.error());
        create_replica(replica, *image);
    }, launch.pin_image);
    return ReplicaInfo{"container " + replica->name, launch.service.port};
}

void DockerRuntime::create_replica(std::shared_ptr<Replica> replica, const std::string& image) {
    if (replica->stopping) return finish_stop(replica);
    std::weak_ptr<bool> alive = alive_;
    with_network([this, alive, replica, image](Status network) {
        if (!live(alive)) return;
        if (!network) return replica_failed(replica, network.error());
        with_volumes(replica->launch.service, [this, alive, replica, image](Status volumes) {
            if (!live(alive)) return;
            if (!volumes) return replica_failed(replica, volumes.error());
            if (replica->stopping) return finish_stop(replica);
            docker::ContainerSpec spec = container_spec(replica->launch, image, replica->name);
            replica->env = spec.env;
            ++*creating_;
            client_.with_context(fmt::format("for service '{}'", replica->launch.service.name)).create_container(spec,
                                     [this, alive, replica, creating = creating_](Result<std::string> id) {
                                         --*creating;
                                         if (!live(alive)) return;
                                         if (!id) return replica_failed(replica, id.error());
                                         replica->container = *id;
                                         start_created(replica);
                                     });
        });
    });
}

// The files synced since the image was built go in before its command runs.
void DockerRuntime::start_created(std::shared_ptr<Replica> replica) {
    if (replica->stopping) return finish_stop(replica);
    std::weak_ptr<bool> alive = alive_;
    upload_synced(replica->launch.service.name, replica->container, [this, alive, replica](Status uploaded) {
        if (!live(alive)) return;
        if (!uploaded) return replica_failed(replica, uploaded.error());
        if (replica->stopping) return finish_stop(replica);
        client_.with_context(fmt::format("for service '{}'", replica->launch.service.name))
            .start_container(replica->container, [this, alive, replica](Status started) {
            if (!live(alive)) return;
            if (!started) return replica_failed(replica, started.error());
            follow_replica(replica);
        });
    });
}

void DockerRuntime::follow_replica(std::shared_ptr<Replica> replica) {
    std::weak_ptr<bool> alive = alive_;
    docker::LogOptions options;
    options.follow = true;
    replica->logs = client_.logs(
        replica->container, options,
        [replica, alive](docker::OutputStream stream, std::string_view line) {
            if (live(alive)) replica->output(stream == docker::OutputStream::stderr_stream ? LogStream::err : LogStream::out, line);
        },
        [this, replica, alive](Status) {
            if (!live(alive)) return;
            replica->logs_ended = true;
            if (replica->exit_code) replica_ended(replica);
        });
    replica->wait = client_.wait_container(replica->container, [this, replica, alive](Result<int> code) {
        if (!live(alive)) return;
        replica->exit_code = code ? *code : -1;
        if (replica->logs_ended) return replica_ended(replica);
        // The last lines come first, unless the log stream is stuck.
        loop_.after(Duration(1000), [this, replica, alive] {
            if (live(alive) && !replica->logs_ended) {
                replica->logs_ended = true;
                replica_ended(replica);
            }
        });
    });
    client_.inspect_container(replica->container, [this, replica, alive](Result<docker::ContainerInfo> info) {
        if (!live(alive) || !info) return;
        replica->pid = info->pid;
        replica->published = info->published;
        replica->address = info->address;
        const auto published = info->published.find(replica->launch.service.listen_port());
        if (published == info->published.end()) return;
        replica->host_port = published->second;
        if (!replica->route_to.empty() && !replica->stopping) {
            add_backends(replica->route_to, *replica);
            replica->route_to.clear();
        }
    });
}

// It could not be made or started: its output says why, and it counts as having exited
// (125, as `docker run` says it), so the executor restarts it with backoff or fails the gate.
void DockerRuntime::replica_failed(const std::shared_ptr<Replica>& replica, const Error& error) {
    if (replica->stopping) {
        if (!replica->stop_sent) finish_stop(replica);
        return;
    }
    replica->output(LogStream::err, error.message);
    replica->exit_code = 125;
    replica->logs_ended = true;
    replica_ended(replica);
}

// Exited on its own (never after a stop was asked): removed, then the executor hears it.
void DockerRuntime::replica_ended(const std::shared_ptr<Replica>& replica) {
    if (replica->stopping) {
        if (!replica->stop_sent) finish_stop(replica);
        return;
    }
    const auto it = replicas_.find(replica->id);
    if (it == replicas_.end() || it->second != replica) return;
    replicas_.erase(it);
    for (auto& [service, proxy] : proxies_) proxy->drain_backend(replica->id, Duration(0), [] {});
    for (auto& [service, extras] : extra_proxies_)
        for (auto& [port, proxy] : extras) proxy->drain_backend(replica->id, Duration(0), [] {});
    if (!replica->container.empty()) client_.remove_container(replica->container, [](Status) {});
    replica->exited(exit_status_of(replica->exit_code.value_or(-1)));
}

void DockerRuntime::stop_replica(int id, Duration grace, std::function<void()> stopped) {
    const auto it = replicas_.find(id);
    if (it == replicas_.end()) return loop_.post(std::move(stopped));
    const std::shared_ptr<Replica> replica = it->second;
    replica->stopped.push_back(std::move(stopped));
    if (replica->stopping) return;
    replica->stopping = true;
    replica->grace = grace;
    replica->route_to.clear();
    if (replica->container.empty()) return;  // still being made: create_replica ends it
    replica->stop_sent = true;
    std::weak_ptr<bool> alive = alive_;
    client_.stop_container(replica->container, grace_seconds(grace), [this, alive, replica](Status) {
        if (live(alive)) finish_stop(replica);
    });
}

// A replica that was asked to stop: its container removed, then everyone who asked hears it.
void DockerRuntime::finish_stop(const std::shared_ptr<Replica>& replica) {
    if (std::exchange(replica->finishing, true)) return;
    auto done = [this, replica] {
        replica->logs.cancel();
        replica->wait.cancel();
        const auto it = replicas_.find(replica->id);
        if (it != replicas_.end() && it->second == replica) replicas_.erase(it);
        auto waiting = std::move(replica->stopped);
        replica->stopped.clear();
        for (auto& stopped : waiting) stopped();
    };
    if (replica->container.empty()) return loop_.post(done);
    std::weak_ptr<bool> alive = alive_;
    const std::string container = std::exchange(replica->container, std::string());
    client_.remove_container(container, [this, alive, replica, container, done](Status removed) {
        if (!live(alive)) return;
        if (!removed)
            emit(RuntimeEventKind::failure, replica->launch.service.name,
                 fmt::format("cannot remove container {}: {}", replica->name, removed.error().message), replica->id);
        done();
    });
}

void DockerRuntime::kill_all() {
    for (auto& [id, replica] : replicas_)
        if (!replica->container.empty()) client_.kill_container(replica->container, "KILL", [](Status) {});
    for (auto& [id, command] : commands_) kill_command(id);
}

}  // namespace tandem::container
