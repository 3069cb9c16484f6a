// The Docker runtime's traffic, probes and live sync. A service's port is the engine's TCP proxy
// on 127.0.0.1 (as for processes), its backends the ports the daemon published for each
// container, so rolling replaces drain and route exactly as for processes. tcp and http probes
// go to the container's own address; exec probes and sync commands run inside the container. Synced
// files are written into each container's root where the engine may (root_writer.hpp), else
// sent as the daemon's archive upload.
#include "runtime/container/docker_runtime.hpp"

#include "runtime/container/root_writer.hpp"
#include "runtime/docker/tar_writer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tandem::container {

namespace {

std::string first_line(const std::string& text) {
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

Status DockerRuntime::open_service(const std::string& service, int public_port) {
    process::TcpProxy::Options options;
    options.port = public_port;
    auto proxy = process::TcpProxy::listen(loop_.io(), options);
    if (!proxy) return proxy.error();
    proxies_[service] = std::move(*proxy);
    const auto known = services_.find(service);
    if (known == services_.end()) return Ok{};
    if (auto extras = ensure_extra_proxies(service, known->second); !extras) {
        close_service(service);
        return extras;
    }
    return Ok{};
}

void DockerRuntime::close_service(const std::string& service) {
    proxies_.erase(service);
    extra_proxies_.erase(service);
}

Status DockerRuntime::ensure_extra_proxies(const std::string& service, const ServiceSpec& spec) {
    auto& extras = extra_proxies_[service];
    std::map<int, int> wanted;  // container port -> public port
    if (spec.container)
        for (const auto& [published, listened] : spec.container->extra_ports) wanted[listened] = published;
    std::erase_if(extras, [&](const auto& entry) {
        const auto want = wanted.find(entry.first);
        return want == wanted.end() || want->second != entry.second->port();
    });
    for (const auto& [listened, published] : wanted) {
        if (extras.count(listened)) continue;
        process::TcpProxy::Options options;
        options.port = published;
        auto proxy = process::TcpProxy::listen(loop_.io(), options);
        if (!proxy)
            return make_error(proxy.error().code, fmt::format("service '{}': extra port {}:{}: {}", service, published,
                                                              listened, proxy.error().message));
        extras[listened] = std::move(*proxy);
    }
    return Ok{};
}

// The replica behind the service's port and each of its extra ports, where the daemon published them.
void DockerRuntime::add_backends(const std::string& service, const Replica& replica) {
    if (const auto proxy = proxies_.find(service); proxy != proxies_.end())
        proxy->second->add_backend(replica.id, replica.host_port);
    if (auto status = ensure_extra_proxies(service, replica.launch.service); !status)
        emit(RuntimeEventKind::failure, service, status.error().message);
    for (auto& [listened, proxy] : extra_proxies_[service]) {
        const auto host = replica.published.find(listened);
        if (host != replica.published.end()) proxy->add_backend(replica.id, host->second);
    }
}

void DockerRuntime::route(const std::string& service, int replica) {
    const auto proxy = proxies_.find(service);
    const auto it = replicas_.find(replica);
    if (proxy == proxies_.end() || it == replicas_.end() || it->second->launch.service.port == 0) return;
    if (it->second->host_port == 0) {
        it->second->route_to = service;  // added once the daemon says where its port is
        return;
    }
    add_backends(service, *it->second);
}

void DockerRuntime::unroute(const std::string& service, int replica, Duration drain, std::function<void()> drained) {
    const auto it = replicas_.find(replica);
    if (it != replicas_.end()) it->second->route_to.clear();
    if (const auto extras = extra_proxies_.find(service); extras != extra_proxies_.end())
        for (auto& [listened, extra] : extras->second) extra->drain_backend(replica, drain, [] {});
    const auto proxy = proxies_.find(service);
    if (proxy == proxies_.end()) return loop_.post(std::move(drained));
    proxy->second->drain_backend(replica, drain, std::move(drained));
}

Runtime::Traffic DockerRuntime::traffic(const std::string& service) const {
    const auto proxy = proxies_.find(service);
    if (proxy == proxies_.end()) return {};
    return Traffic{proxy->second->stats().accepted, proxy->second->unserved_connections()};
}

// tcp and http probes go to the container's own address and port: the daemon's proxy on the
// published port accepts connections before the server inside listens (and answers them with
// nothing), so a probe through it would call a starting container ready. Without an address
// (no network the engine can reach), the published port.
std::unique_ptr<process::HealthProbe> DockerRuntime::network_probe(const Replica& replica, const HealthSpec& spec) {
    boost::system::error_code bad;
    const auto address = boost::asio::ip::make_address(replica.address, bad);
    if (replica.address.empty() || bad) return process::make_probe(loop_.io(), spec, replica.host_port, "/", {});
    return process::make_network_probe(loop_.io(), spec, address, replica.launch.service.listen_port());
}

void DockerRuntime::probe(int id, const HealthSpec& spec, std::function<void(ProbeOutcome)> done) {
    const auto it = replicas_.find(id);
    if (it == replicas_.end()) return loop_.post([done] { done(ProbeOutcome{false, "the replica is gone"}); });
    Replica& replica = *it->second;
    if (replica.container.empty() || (spec.kind != ProbeKind::exec && replica.host_port == 0))
        return loop_.post([done] { done(ProbeOutcome{false, "the container is not running yet"}); });
    if (spec.kind != ProbeKind::exec) {
        if (!replica.probe) replica.probe = network_probe(replica, spec);
        return replica.probe->check(std::move(done));
    }
    // exec: inside the container, as the replica runs, with a deadline of the spec's timeout.
    docker::ExecSpec exec;
    for (const auto& arg : spec.command) exec.cmd.push_back(process::with_port(arg, replica.launch.service.port));
    exec.env = replica.env;
    exec.user = replica.launch.user.empty() ? replica.launch.service.user : replica.launch.user;
    auto answered = std::make_shared<bool>(false);
    std::weak_ptr<bool> alive = alive_;
    const auto timer = loop_.after(spec.timeout, [answered, done, timeout = spec.timeout] {
        if (std::exchange(*answered, true)) return;
        done(ProbeOutcome{false, fmt::format("timed out after {}", format_duration(timeout))});
    });
    client_.exec(replica.container, exec, [this, alive, answered, done, timer](Result<docker::ExecResult> ran) {
        if (!live(alive) || std::exchange(*answered, true)) return;
        loop_.cancel(timer);
        if (!ran) return done(ProbeOutcome{false, ran.error().message});
        if (ran->exit_code == 0) return done(ProbeOutcome{true, "exit code 0"});
        const std::string said = first_line(ran->err.empty() ? ran->out : ran->err);
        done(ProbeOutcome{false, fmt::format("exit code {}{}", ran->exit_code, said.empty() ? "" : ": " + said)});
    });
}

// Each running replica in turn: the files unpacked at "/", the removed ones deleted, then the
// commands; the first failure ends it, naming the container.
void DockerRuntime::sync(const SyncRequest& request, std::function<void(Status)> done) {
    auto& synced = synced_[request.service];
    std::map<std::string, std::filesystem::path> present;
    std::vector<std::string> removed;
    for (const SyncFile& file : request.files) {
        std::error_code ec;
        if (std::filesystem::exists(std::filesystem::symlink_status(file.source, ec))) {
            synced[file.target] = file.source;
            present[file.target] = file.source;
        } else {
            synced.erase(file.target);
            removed.push_back(file.target);
        }
    }
    struct Target {
        std::string container, name;
        int pid = 0;
        bool written = false;  // by write_into_root: no upload, no removal command
    };
    auto targets = std::make_shared<std::vector<Target>>();
    for (const auto& [id, replica] : replicas_)
        if (replica->launch.service.name == request.service && !replica->container.empty() && !replica->stopping)
            targets->push_back(Target{replica->container, replica->name, replica->pid, false});
    // The fast way first, into each container's root; the daemon's archive upload where it fails.
    bool all_written = true;
    for (Target& target : *targets) {
        target.written = write_into_root(target.pid, present, removed).ok();
        all_written = all_written && target.written;
    }
    auto archive = std::make_shared<std::string>();
    if (!all_written && !present.empty()) {
        docker::TarWriter tar;
        for (const auto& [target, source] : present) {
            if (auto added = tar.add_path(source, target.substr(target.find_first_not_of('/'))); !added)
                return loop_.post([done, error = added.error()] { done(error); });
        }
        *archive = tar.finish();
    }
    auto removal = std::make_shared<std::vector<std::string>>();
    if (!removed.empty()) {
        *removal = {"rm", "-rf", "--"};
        removal->insert(removal->end(), removed.begin(), removed.end());
    }
    auto commands = std::make_shared<std::vector<std::vector<std::string>>>();
    for (const auto& command : request.commands) commands->push_back({"/bin/sh", "-c", command});
    std::weak_ptr<bool> alive = alive_;
    auto next = std::make_shared<std::function<void(std::size_t, std::size_t)>>();
    // (replica index, step within it: 0 the upload, 1 the removal, 2.. the commands)
    *next = [this, alive, targets, archive, removal, commands, next, done](std::size_t replica, std::size_t step) {
        if (replica == targets->size()) {
            const auto finish = done;  // the reset below destroys this closure and its captures
            *next = nullptr;
            return finish(Ok{});
        }
        const Target& target = (*targets)[replica];
        auto failed = [next, done, name = target.name](const std::string& why) {
            const auto finish = done;
            const std::string container = name;
            *next = nullptr;
            finish(make_error(ErrorCode::runtime, fmt::format("sync into container {}: {}", container, why)));
        };
        if (step == 0) {
            if (target.written || archive->empty()) return (*next)(replica, 1);
            return client_.upload_archive(target.container, "/", *archive, [alive, next, failed, replica](Status up) {
                if (!live(alive)) return;
                if (!up) return failed(up.error().message);
                (*next)(replica, 1);
            });
        }
        if (step == 1 && (target.written || removal->empty())) return (*next)(replica, 2);
        if (step >= 2 + commands->size()) return (*next)(replica + 1, 0);
        docker::ExecSpec exec;
        exec.cmd = step == 1 ? *removal : (*commands)[step - 2];
        client_.exec(target.container, exec, [alive, next, failed, replica, step, exec](Result<docker::ExecResult> ran) {
            if (!live(alive)) return;
            if (!ran) return failed(ran.error().message);
            if (ran->exit_code != 0) {
                const std::string said = first_line(ran->err.empty() ? ran->out : ran->err);
                return failed(fmt::format("'{}' exited with code {}{}",
                                          step == 1 ? fmt::format("{}", fmt::join(exec.cmd, " ")) : exec.cmd.back(),
                                          ran->exit_code, said.empty() ? "" : ": " + said));
            }
            (*next)(replica, step + 1);
        });
    };
    (*next)(0, 0);
}

}  // namespace tandem::container
