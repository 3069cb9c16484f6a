// The swarm runtime (swarm_runtime.hpp): opening on a manager, and each update of a service
// handed to the cluster: its network, its secrets, its spec created or updated in place. What
// follows an update (tasks, the outcome, traffic, logs) is swarm_watch.cpp's.
#include "runtime/swarm/swarm_runtime.hpp"

#include "runtime/container/blocking_docker.hpp"
#include "runtime/container/container_names.hpp"
#include "runtime/docker/docker_json.hpp"
#include "runtime/process/process_runtime.hpp"
#include "support/base64.hpp"

#include <tandem/per_service_runtime.hpp>

#include <fmt/format.h>

namespace tandem::swarm {

using nlohmann::json;

std::string SwarmNames::service(const std::string& name) const {
    return project + "-" + container::docker_name_part(name);
}
std::string SwarmNames::network() const { return project + "-net"; }
std::string SwarmNames::volume(const std::string& name) const { return project + "_" + name; }
std::string SwarmNames::image(const std::string& service_name, const std::string& digest) const {
    return registry + "/" + service(service_name) + "@" + digest;
}

json SwarmNames::labels(const std::string& service_name) const {
    json out = json::object();
    for (const auto& [key, value] : extra) out[key] = value;
    out[container::project_label] = project;
    out[container::engine_label] = engine;
    if (!service_name.empty()) out[container::service_label] = service_name;
    return out;
}

SwarmRuntime::SwarmRuntime(process::AsioEventLoop& loop, SwarmRuntimeOptions options)
    : loop_(loop), options_(std::move(options)), client_(loop.io(), options_.socket_path) {
    names_.project = container::docker_name_part(!options_.project.empty()
                                                     ? options_.project
                                                     : options_.state_dir.parent_path().filename().string());
    names_.engine = std::filesystem::absolute(options_.state_dir).lexically_normal().string();
    names_.extra = options_.labels;
    names_.registry = options_.registry;
}

SwarmRuntime::~SwarmRuntime() {
    *alive_ = false;
    for (auto& [name, watched] : services_) watched->logs.cancel();
}

void SwarmRuntime::emit(RuntimeEventKind kind, const std::string& service, const std::string& text, bool is_stderr) {
    if (emit_) emit_(RuntimeEvent{kind, service, text, 0, is_stderr, std::chrono::system_clock::now()});
}

Status SwarmRuntime::open(EventSink sink) {
    emit_ = std::move(sink);
    container::BlockingDocker docker(options_.socket_path);
    const std::string where = docker.client().socket_path();
    auto version = docker.call<docker::DaemonVersion>([](docker::DockerClient& c, auto done) { c.negotiate(done); },
                                                      std::chrono::seconds(10));
    if (!version)
        return make_error(ErrorCode::unavailable,
                          fmt::format("swarm: the manager at {} does not answer: {}", where, version.error().message));
    auto info = docker.call<json>(
        [](docker::DockerClient& c, auto done) { c.request_json("read the daemon's info", "GET", "/info", {}, done); });
    if (!info) return info.error();
    const json swarm = info->value("Swarm", json::object());
    if (swarm.value("LocalNodeState", "") != "active" || !swarm.value("ControlAvailable", false))
        return make_error(ErrorCode::unavailable,
                          fmt::format("swarm: the daemon at {} is not a swarm manager (its node is '{}'): run "
                                      "`docker swarm init` there, or point --swarm-host at a manager",
                                      where, swarm.value("LocalNodeState", "inactive")));
    if (auto negotiated = client_.api_version(); negotiated.empty()) {
        // The loop's client talks the same version as the blocking one did.
        client_.negotiate([](Result<docker::DaemonVersion>) {});
    }
    // This engine's services the cluster runs already: watched from now on.
    const std::string filter = docker::label_filters({{container::engine_label, names_.engine}});
    auto listed = docker.call<json>([&](docker::DockerClient& c, auto done) {
        c.request_json("list services", "GET", "/services?filters=" + docker::url_encode(filter), {}, done);
    });
    if (!listed) return listed.error();
    for (const json& service : *listed) {
        const json spec = service.value("Spec", json::object());
        const std::string name = docker::json_labels(spec.value("Labels", json::object()))[container::service_label];
        if (name.empty()) continue;
        Watched& watched = watch(name, docker::json_string(service, "ID"));
        watched.image = spec["TaskTemplate"]["ContainerSpec"].value("Image", "");
        watched.replicas = spec["Mode"].contains("Replicated") ? spec["Mode"]["Replicated"].value("Replicas", 0) : 0;
        emit(RuntimeEventKind::state, name,
             fmt::format("the cluster runs it already, as swarm service {}", spec.value("Name", "")));
    }
    return Ok{};
}

void SwarmRuntime::use_spec(const Spec& spec) {
    if (spec.project.empty()) return;
    const std::string project = container::docker_name_part(spec.project);
    if (project == names_.project) return;
    names_.project = project;
    network_ready_ = false;
}

Result<ReplicaInfo> SwarmRuntime::start_replica(const ReplicaLaunch& launch, OutputHandler, ExitHandler) {
    return make_error(ErrorCode::runtime,
                      fmt::format("swarm: service '{}' is the cluster's to run: replicas are not started one by one",
                                  launch.service.name));
}

void SwarmRuntime::stop_replica(int, Duration, std::function<void()> stopped) { loop_.post(std::move(stopped)); }

Status SwarmRuntime::open_service(const std::string& service, int) {
    return make_error(ErrorCode::runtime, fmt::format("swarm: service '{}' is served by its update", service));
}

void SwarmRuntime::close_service(const std::string&) {}

void SwarmRuntime::unroute(const std::string&, int, Duration, std::function<void()> drained) {
    loop_.post(std::move(drained));
}

Runtime::Traffic SwarmRuntime::traffic(const std::string& service) const {
    const auto it = services_.find(service);
    if (it == services_.end()) return {};
    Traffic out = it->second->closed_traffic;
    if (it->second->proxy) {
        const auto stats = it->second->proxy->stats();
        out.accepted += stats.accepted;
        out.unserved += stats.unserved;
    }
    return out;
}

void SwarmRuntime::probe(int, const HealthSpec&, std::function<void(ProbeOutcome)> done) {
    loop_.post([done = std::move(done)] { done(ProbeOutcome{false, "the cluster probes its own tasks"}); });
}

Result<int> SwarmRuntime::run_command(const CommandLaunch& launch, OutputHandler, CommandHandler) {
    return make_error(ErrorCode::runtime,
                      fmt::format("swarm: service '{}' runs on the cluster, which runs no one-off {} command of it "
                                  "(make it a process service, or run it as a service of its own)",
                                  launch.service, to_string(launch.kind)));
}

void SwarmRuntime::update_service(const ServiceUpdate& update, std::function<void(Status)> done) {
    const std::string name = update.service.name;
    Watched& watched = watch(name, services_.count(name) ? services_[name]->id : std::string());
    if (watched.pending)
        finish(watched, make_error(ErrorCode::cancelled, "a newer update of the service overtook this one"));
    auto spec_or_secrets = secret_files(update.service, update.cwd, names_);
    if (!spec_or_secrets) return loop_.post([done, error = spec_or_secrets.error()] { done(error); });
    const int generation = ++watched.generation;
    const auto gate = std::max(update.rollout.gate_timeout, Duration{30000});
    watched.pending = Watched::Pending{std::move(done), loop_.now() + gate * (update.replicas + 1) + update.monitor +
                                                            std::chrono::seconds(60),
                                       false, generation, {}};
    watched.replicas = update.replicas;
    watched.target_port = update.service.port != 0 ? update.service.listen_port() : 0;
    watched.output = update.output;
    if (update.service.port == 0) {
        watched.proxy.reset();
    } else if (!watched.proxy || watched.public_port != update.service.port) {
        watched.proxy.reset();
        process::TcpProxy::Options options;
        options.port = update.service.port;
        auto proxy = process::TcpProxy::listen(loop_.io(), options);
        if (!proxy) return finish(watched, proxy.error());
        watched.proxy = std::move(*proxy);
        watched.backends.clear();
        watched.public_port = update.service.port;
    }
    std::weak_ptr<bool> alive = alive_;
    auto stale = [this, alive, name, generation] {
        if (!live(alive)) return true;
        const auto it = services_.find(name);
        return it == services_.end() || !it->second->pending || it->second->pending->generation != generation;
    };
    auto fail = [this, name, stale](const Error& error) {
        if (!stale()) finish(*services_[name], error);
    };
    ensure_network([this, update, name, stale, fail](Status network) {
        if (stale()) return;
        if (!network) return fail(network.error());
        ensure_secrets(update, [this, update, name, stale, fail](Result<std::vector<SecretRef>> secrets) {
            if (stale()) return;
            if (!secrets) return fail(secrets.error());
            auto spec = service_spec(update, names_, *secrets);
            if (!spec) return fail(spec.error());
            services_[name]->image = (*spec)["TaskTemplate"]["ContainerSpec"].value("Image", "");
            apply_spec(name, std::move(*spec), [this, name, stale, fail](Status applied) {
                if (stale()) return;
                if (!applied) return fail(applied.error());
                schedule_poll();
            });
        });
    });
}

// One look-up (and create) at a time: services updated at once (updates.max_parallel > 1) wait
// for the same one, where each of them creating the network would conflict with the others'.
void SwarmRuntime::ensure_network(std::function<void(Status)> then) {
    if (network_ready_) return loop_.post([then] { then(Ok{}); });
    network_waiters_.push_back(std::move(then));
    if (network_waiters_.size() > 1) return;
    std::weak_ptr<bool> alive = alive_;
    const std::string network = names_.network();
    auto finish = [this](Status status) {
        if (status) network_ready_ = true;
        auto waiters = std::move(network_waiters_);
        network_waiters_.clear();
        for (auto& waiter : waiters) waiter(status);
    };
    client_.request_json("inspect network " + network, "GET", "/networks/" + docker::url_encode(network), {},
                         [this, alive, network, finish](Result<json> found) {
        if (!live(alive)) return;
        if (found) return finish(Ok{});
        if (found.error().code != ErrorCode::not_found) return finish(found.error());
        const json body = {{"Name", network}, {"Driver", "overlay"}, {"Attachable", true},
                           {"CheckDuplicate", true}, {"Labels", names_.labels()}};
        client_.request_json("create overlay network " + network, "POST", "/networks/create", body.dump(),
                             [alive, finish](Result<json> created) {
            if (!live(alive)) return;
            finish(created ? Status(Ok{}) : Status(created.error()));
        });
    });
}

// Each read-only file the service mounts, as a swarm secret named by its content: made once,
// never changed (a new content is a new secret). Its content goes only to the manager.
void SwarmRuntime::ensure_secrets(const ServiceUpdate& update,
                                  std::function<void(Result<std::vector<SecretRef>>)> then) {
    auto files = secret_files(update.service, update.cwd, names_);
    if (!files) return loop_.post([then, error = files.error()] { then(error); });
    auto refs = std::make_shared<std::vector<SecretRef>>();
    auto pending = std::make_shared<std::vector<SecretFile>>(std::move(*files));
    auto step = std::make_shared<std::function<void()>>();
    std::weak_ptr<bool> alive = alive_;
    std::weak_ptr<std::function<void()>> weak_step = step;
    *step = [this, alive, refs, pending, then, weak_step, service = update.service.name] {
        if (!live(alive)) return;
        auto next = weak_step.lock();
        if (pending->empty() || !next) return then(*refs);
        SecretFile file = std::move(pending->front());
        pending->erase(pending->begin());
        const std::string filter = json{{"name", {file.name}}}.dump();
        client_.request_json("list secrets", "GET", "/secrets?filters=" + docker::url_encode(filter), {},
                             [this, alive, refs, then, file, next, service](Result<json> listed) {
            if (!live(alive)) return;
            if (!listed) return then(listed.error());
            for (const json& secret : *listed)
                if (secret["Spec"].value("Name", "") == file.name) {
                    refs->push_back({docker::json_string(secret, "ID"), file.name, file.target});
                    return (*next)();
                }
            const json body = {{"Name", file.name}, {"Labels", names_.labels(service)}, {"Data", base64_encode(file.data)}};
            client_.request_json("create secret " + file.name + " for service '" + service + "'", "POST",
                                 "/secrets/create", body.dump(), [refs, then, file, next](Result<json> created) {
                if (!created) return then(created.error());
                refs->push_back({docker::json_string(*created, "ID"), file.name, file.target});
                (*next)();
            });
        });
    };
    (*step)();
}

// Creates the service, or updates it in place when what it runs differs from `spec`.
void SwarmRuntime::apply_spec(const std::string& name, json spec, std::function<void(Status)> then) {
    std::weak_ptr<bool> alive = alive_;
    const std::string swarm_name = names_.service(name);
    // By ID when the cluster runs it already (its name stays what it was made with).
    const std::string& known = services_[name]->id;
    client_.request_json("inspect service " + swarm_name, "GET",
                         "/services/" + docker::url_encode(known.empty() ? swarm_name : known), {},
                         [this, alive, name, swarm_name, spec, then](Result<json> found) mutable {
        if (!live(alive) || !services_.count(name)) return;
        Watched& watched = *services_[name];
        if (!found && found.error().code != ErrorCode::not_found) return then(found.error());
        if (!found) {
            client_.request_json("create service " + swarm_name, "POST", "/services/create", spec.dump(),
                                 [this, alive, name, then](Result<json> created) {
                if (!live(alive) || !services_.count(name)) return;
                if (!created) return then(created.error());
                Watched& made = *services_[name];
                made.id = docker::json_string(*created, "ID");
                if (made.pending) made.pending->created = true;
                emit(RuntimeEventKind::state, name, "created swarm service " + names_.service(name));
                then(Ok{});
            });
            return;
        }
        watched.id = docker::json_string(*found, "ID");
        const json& current = (*found)["Spec"];
        spec["Name"] = current.value("Name", swarm_name);  // swarm renames no service
        if (watched.pending) watched.pending->update_started = found->value("UpdateStatus", json::object()).value("StartedAt", "");
        const bool same = docker::json_labels(current.value("Labels", json::object()))["tandem.fingerprint"] ==
                              docker::json_labels(spec["Labels"])["tandem.fingerprint"] &&
                          current["TaskTemplate"]["ContainerSpec"].value("Image", "") ==
                              spec["TaskTemplate"]["ContainerSpec"].value("Image", "");
        if (same) {
            // Already asked for. An update of it still under way (this engine restarted in the
            // middle) is this update: its outcome is this one's. One that ended before only left
            // the tasks to judge.
            const std::string state = found->value("UpdateStatus", json::object()).value("State", "");
            if (watched.pending && (state == "updating" || state == "rollback_started"))
                watched.pending->update_started.clear();
            return then(Ok{});
        }
        const auto version = (*found)["Version"].value("Index", 0ull);
        client_.request_json("update service " + swarm_name, "POST",
                             fmt::format("/services/{}/update?version={}", watched.id, version), spec.dump(),
                             [this, alive, name, then](Result<json> updated) {
            if (!live(alive)) return;
            if (!updated) return then(updated.error());
            for (const auto& warning : updated->value("Warnings", json::array()))
                if (warning.is_string()) emit(RuntimeEventKind::state, name, "swarm: " + warning.get<std::string>());
            emit(RuntimeEventKind::state, name, "updating swarm service " + names_.service(name));
            then(Ok{});
        });
    });
}

void SwarmRuntime::finish(Watched& watched, Status outcome) {
    if (!watched.pending) return;
    auto done = std::move(watched.pending->done);
    watched.pending.reset();
    watched.last_update_ok = outcome.ok();
    if (!outcome) watched.last_error = outcome.error().message;
    loop_.post([done = std::move(done), outcome = std::move(outcome)] { done(outcome); });
}

void SwarmRuntime::remove_service(const std::string& service, bool detach, std::function<void()> done) {
    const auto it = services_.find(service);
    if (it == services_.end()) return loop_.post(std::move(done));
    Watched& watched = *it->second;
    finish(watched, make_error(ErrorCode::cancelled, "the service is being removed"));
    watched.logs.cancel();
    if (detach || watched.id.empty()) {
        services_.erase(it);
        return loop_.post(std::move(done));
    }
    std::weak_ptr<bool> alive = alive_;
    const std::string id = watched.id;
    client_.request_json("remove service " + names_.service(service), "DELETE", "/services/" + id, {},
                         [this, alive, service, done](Result<json> removed) {
        if (!live(alive)) return done();
        if (!removed && removed.error().code != ErrorCode::not_found)
            emit(RuntimeEventKind::failure, service, removed.error().message, true);
        else
            emit(RuntimeEventKind::state, service, "removed swarm service " + names_.service(service));
        services_.erase(service);
        done();
    });
}

}  // namespace tandem::swarm

namespace tandem {

Result<std::unique_ptr<Runtime>> make_swarm_runtime(const ProcessRuntimeOptions& process,
                                                    const SwarmRuntimeOptions& swarm) {
    auto processes = std::make_unique<process::ProcessRuntime>(process);
    SwarmRuntimeOptions options = swarm;
    if (options.state_dir.empty()) options.state_dir = process.state_dir;
    auto cluster = std::make_unique<swarm::SwarmRuntime>(processes->asio_loop(), options);
    auto both = PerServiceRuntime::make(std::move(processes), std::move(cluster));
    if (!both) return both.error();
    return std::unique_ptr<Runtime>(std::move(*both));
}

}  // namespace tandem
