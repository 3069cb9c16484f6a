// The Docker runtime's images, network and volumes, its commands (an image build; a `run`
// action or a reset as a one-off container of the service's image) and live sync.
#include "runtime/container/docker_runtime.hpp"

#include "runtime/docker/build_context.hpp"
#include "runtime/docker/tar_writer.hpp"

#include <fmt/format.h>

namespace tandem::container {

namespace {

// The synced files as one archive to unpack at "/": entries named by their targets.
Result<std::string> synced_archive(const std::map<std::string, std::filesystem::path>& files) {
    docker::TarWriter tar;
    for (const auto& [target, source] : files) {
        std::error_code ec;
        if (!std::filesystem::exists(std::filesystem::symlink_status(source, ec))) continue;
        const std::string name = target.substr(target.find_first_not_of('/'));
        if (auto added = tar.add_path(source, name); !added) return added.error();
    }
    return tar.finish();
}

}  // namespace

void DockerRuntime::with_network(std::function<void(Status)> then) {
    if (network_ready_) return loop_.post([then = std::move(then)] { then(Ok{}); });
    network_waiters_.push_back(std::move(then));
    if (network_waiters_.size() > 1) return;  // asked already
    std::weak_ptr<bool> alive = alive_;
    auto finish = [this, alive](Status status) {
        if (!live(alive)) return;
        network_ready_ = status.ok();
        auto waiting = std::move(network_waiters_);
        network_waiters_.clear();
        for (auto& waiter : waiting) waiter(status);
    };
    client_.list_networks(names_.engine_labels(), [this, alive, finish](Result<std::vector<docker::NetworkInfo>> list) {
        if (!live(alive)) return;
        if (!list) return finish(list.error());
        for (const auto& network : *list) {
            if (network.name != names_.network()) continue;
            gateway_ = network.gateway;
            return finish(Ok{});
        }
        client_.create_network(names_.network(), names_.engine_labels(), [this, alive, finish](Result<std::string> made) {
            if (!live(alive)) return;
            if (!made) return finish(made.error());
            // Its gateway, the host's address on it, is in its listing.
            client_.list_networks(names_.engine_labels(), [this, alive, finish](Result<std::vector<docker::NetworkInfo>> again) {
                if (!live(alive)) return;
                if (again)
                    for (const auto& network : *again)
                        if (network.name == names_.network()) gateway_ = network.gateway;
                finish(Ok{});
            });
        });
    });
}

// Named volumes are made with the project's labels (the daemon would make them bare on first
// use); an existing one is kept as it is.
void DockerRuntime::with_volumes(const ServiceSpec& service, std::function<void(Status)> then) {
    std::vector<std::string> wanted;
    for (const VolumeSpec& volume : service.container->volumes)
        if (volume.kind == VolumeSpec::Kind::named && !volumes_made_.count(names_.volume(volume.source)))
            wanted.push_back(names_.volume(volume.source));
    if (wanted.empty()) return loop_.post([then = std::move(then)] { then(Ok{}); });
    auto next = std::make_shared<std::function<void(std::size_t)>>();
    std::weak_ptr<bool> alive = alive_;
    *next = [this, alive, wanted, next, then](std::size_t index) {
        if (index == wanted.size()) {
            const auto finish = then;  // the reset below destroys this closure and its captures
            *next = nullptr;           // the cycle through the capture ends here
            return finish(Ok{});
        }
        client_.create_volume(wanted[index], names_.engine_labels(),
                              [this, alive, wanted, index, next, then](Result<docker::VolumeInfo> made) {
                                  if (!live(alive)) return;
                                  if (!made) {
                                      const auto finish = then;
                                      *next = nullptr;
                                      return finish(made.error());
                                  }
                                  volumes_made_.insert(wanted[index]);
                                  (*next)(index + 1);
                              });
    };
    (*next)(0);
}

// The image a container of `service` runs, as an image ID: the last one its build gave (built
// now when there is none yet), or its `image:` looked up (once, under pin_image).
void DockerRuntime::service_image(const ServiceSpec& service, const std::filesystem::path& root,
                                  OutputHandler progress, Ready ready, bool pin) {
    if (service.container->build) {
        const auto built = images_.find(service.name);
        if (built != images_.end()) return loop_.post([ready, id = built->second] { ready(id); });
        return build_image(service, root, std::move(progress), std::move(ready));
    }
    const std::string reference = service.container->image;
    const auto pinned = pinned_.find(reference);
    if (pinned != pinned_.end()) return loop_.post([ready, id = pinned->second] { ready(id); });
    std::weak_ptr<bool> alive = alive_;
    client_.with_context(fmt::format("for service '{}'", service.name))
        .inspect_image(reference, [this, alive, reference, pin, ready](Result<docker::ImageInfo> image) {
            if (!live(alive)) return;
            if (!image && image.error().code == ErrorCode::not_found)
                return ready(make_error(ErrorCode::not_found,
                                        fmt::format("{} (tandem does not pull images: `docker pull {}` or build it first)",
                                                    image.error().message, reference)));
            if (!image) return ready(image.error());
            if (pin) pinned_[reference] = image->id;
            ready(image->id);
        });
}

void DockerRuntime::build_image(const ServiceSpec& service, const std::filesystem::path& root, OutputHandler progress,
                                Ready ready, docker::StreamHandle* handle) {
    const ImageBuildSpec& spec = *service.container->build;
    docker::DockerClient client = client_.with_context(fmt::format("for service '{}'", service.name));
    auto tar = docker::make_build_context((root / spec.context).lexically_normal(), spec.dockerfile);
    if (!tar) {
        return loop_.post([ready, error = make_error(ErrorCode::build_failed,
                                                      fmt::format("docker: build image for service '{}': {}",
                                                                  service.name, tar.error().message))] {
            ready(error);
        });
    }
    docker::BuildOptions options;
    options.tags = {names_.image_tag(service.name)};
    options.dockerfile = spec.dockerfile;
    options.target = spec.target;
    for (const auto& [key, value] : spec.args) options.args[key] = value;
    // No labels of its own: the classic builder makes each label a step (~0.3 s a save); the
    // tag says whose it is. Only the caller's (a test's marker) go on.
    options.labels = options_.labels;
    std::weak_ptr<bool> alive = alive_;
    auto stream = client.build_tar(
        std::move(*tar), options, [progress](std::string_view line) { progress(LogStream::out, line); },
        [this, alive, name = service.name, ready](Result<std::string> id) {
            if (!live(alive)) return;
            if (!id) return ready(make_error(ErrorCode::build_failed, id.error().message));
            images_[name] = *id;
            synced_.erase(name);  // the files synced so far are in the new image, or were replaced by it
            ready(*id);
        });
    if (handle) *handle = stream;
}

void DockerRuntime::upload_synced(const std::string& service, const std::string& container,
                                  std::function<void(Status)> then) {
    const auto files = synced_.find(service);
    if (files == synced_.end() || files->second.empty()) return loop_.post([then] { then(Ok{}); });
    auto tar = synced_archive(files->second);
    if (!tar) return loop_.post([then, error = tar.error()] { then(error); });
    client_.upload_archive(container, "/", std::move(*tar), std::move(then));
}

Result<int> DockerRuntime::run_command(const CommandLaunch& launch, OutputHandler output, CommandHandler finished) {
    const auto found = services_.find(launch.service);
    if (found == services_.end())
        return make_error(ErrorCode::unknown_service,
                          fmt::format("service '{}' runs no container: the docker runtime cannot run its {}",
                                      launch.service, to_string(launch.kind)));
    if (auto status = reachable(launch.service); !status) return status.error();
    const ServiceSpec service = found->second;
    const int id = next_command_++;
    auto command = std::make_shared<Command>();
    commands_[id] = command;
    std::weak_ptr<bool> alive = alive_;
    auto end = [this, alive, id, finished](const Result<ExitStatus>& how) {
        if (!live(alive)) return;
        commands_.erase(id);
        finished(how);
    };
    if (launch.kind == ActionKind::build) {
        if (!service.container->build) {
            loop_.post([end] { end(ExitStatus{0, 0}); });
            return id;
        }
        build_image(service, launch.cwd, output, [end](Result<std::string> image) {
            if (!image) return end(image.error());
            end(ExitStatus{0, 0});
        }, &command->stream);
        return id;
    }
    if (launch.kind == ActionKind::reset) {
        remove_volumes(service, [this, alive, id, launch, service, output, end](Status removed) {
            if (!live(alive)) return;
            if (!removed) return end(removed.error());
            const bool no_command = launch.argv.size() == 3 && launch.argv[2].empty();
            if (no_command) return end(ExitStatus{0, 0});
            run_one_off(id, launch, service, output, end);
        });
        return id;
    }
    run_one_off(id, launch, service, std::move(output), end);
    return id;
}

// A container of the service's image with its env, user, volumes and network, running the
// command (`docker run --rm`, as compose's `run`): its output is the command's.
void DockerRuntime::run_one_off(int id, const CommandLaunch& launch, const ServiceSpec& service, OutputHandler output,
                                CommandHandler finished) {
    std::weak_ptr<bool> alive = alive_;
    auto command = commands_[id];
    ReplicaLaunch as_replica;
    as_replica.id = id;
    as_replica.service = service;
    as_replica.cwd = launch.cwd;
    as_replica.env = launch.env;
    as_replica.user = launch.user;
    auto fail = [finished, name = service.name, kind = to_string(launch.kind)](const Error& error) {
        finished(make_error(error.code, fmt::format("{} of '{}' in a container: {}", kind, name, error.message)));
    };
    service_image(service, launch.cwd, output, [=, this](Result<std::string> image) {
        if (!live(alive)) return;
        if (!image) return fail(image.error());
        if (command->killed) return finished(ExitStatus{-1, 9});
        with_network([=, this](Status network) {
            if (!live(alive)) return;
            if (!network) return fail(network.error());
            docker::ContainerSpec spec = container_spec(as_replica, *image, names_.command(service.name, to_string(launch.kind), id));
            spec.cmd = launch.argv;
            spec.port.reset();
            spec.aliases.clear();
            spec.labels = names_.labels(service.name, to_string(launch.kind));
            ++*creating_;
            client_.create_container(spec, [=, this, creating = creating_](Result<std::string> made) {
                --*creating;
                if (!live(alive)) return;
                if (!made) return fail(made.error());
                command->container = *made;
                auto remove_then = [this, container = *made](std::function<void()> next) {
                    client_.remove_container(container, [next](Status) { next(); });
                };
                if (command->killed) return remove_then([finished] { finished(ExitStatus{-1, 9}); });
                upload_synced(service.name, *made, [=, this](Status uploaded) {
                    if (!live(alive)) return;
                    if (!uploaded) return remove_then([fail, error = uploaded.error()] { fail(error); });
                    client_.start_container(*made, [=, this](Status started) {
                        if (!live(alive)) return;
                        if (!started) return remove_then([fail, error = started.error()] { fail(error); });
                        follow_command(command, *made, output, [remove_then, finished](int code) {
                            remove_then([finished, code] { finished(exit_status_of(code)); });
                        });
                    });
                });
            });
        });
    }, false);
}

// Its output until it ends, then its exit code, once both are in.
void DockerRuntime::follow_command(const std::shared_ptr<Command>& command, const std::string& container,
                                   OutputHandler output, std::function<void(int)> ended) {
    std::weak_ptr<bool> alive = alive_;
    struct Ending {
        bool logs_done = false;
        std::optional<int> code;
    };
    auto ending = std::make_shared<Ending>();
    auto maybe_end = [ending, ended] {
        if (ending->logs_done && ending->code) ended(*ending->code);
    };
    docker::LogOptions options;
    options.follow = true;
    command->stream = client_.logs(
        container, options,
        [alive, output](docker::OutputStream stream, std::string_view line) {
            if (live(alive)) output(stream == docker::OutputStream::stderr_stream ? LogStream::err : LogStream::out, line);
        },
        [alive, ending, maybe_end](Status) {
            if (!live(alive)) return;
            ending->logs_done = true;
            maybe_end();
        });
    client_.wait_container(container, [this, alive, ending, maybe_end](Result<int> code) {
        if (!live(alive)) return;
        ending->code = code ? *code : -1;
        loop_.after(Duration(1000), [alive, ending, maybe_end] {
            if (!live(alive) || ending->logs_done) return;
            ending->logs_done = true;
            maybe_end();
        });
        maybe_end();
    });
}

void DockerRuntime::kill_command(int id) {
    const auto it = commands_.find(id);
    if (it == commands_.end()) return;
    it->second->killed = true;
    it->second->stream.cancel();
    if (!it->second->container.empty()) client_.kill_container(it->second->container, "KILL", [](Status) {});
}

// A reset empties the service's named volumes: removed (the next container makes them anew).
void DockerRuntime::remove_volumes(const ServiceSpec& service, std::function<void(Status)> then) {
    std::vector<std::string> names;
    for (const VolumeSpec& volume : service.container->volumes)
        if (volume.kind == VolumeSpec::Kind::named) names.push_back(names_.volume(volume.source));
    remove_volumes(std::move(names), std::move(then));
}

void DockerRuntime::discard_data(std::function<void(Status)> done) {
    std::weak_ptr<bool> alive = alive_;
    client_.list_volumes(names_.owner_labels(), [this, alive, done](Result<std::vector<docker::VolumeInfo>> found) {
        if (!live(alive)) return;
        if (!found) return done(found.error());
        std::vector<std::string> names;
        for (const auto& volume : *found) names.push_back(volume.name);
        remove_volumes(std::move(names), done);
    });
}

// One after the other; one already gone is no error.
void DockerRuntime::remove_volumes(std::vector<std::string> names, std::function<void(Status)> then) {
    auto next = std::make_shared<std::function<void(std::size_t)>>();
    std::weak_ptr<bool> alive = alive_;
    *next = [this, alive, names, next, then](std::size_t index) {
        if (index == names.size()) {
            const auto finish = then;
            *next = nullptr;
            return finish(Ok{});
        }
        client_.remove_volume(names[index], [this, alive, names, index, next, then](Status removed) {
            if (!live(alive)) return;
            volumes_made_.erase(names[index]);
            if (!removed && removed.error().code != ErrorCode::not_found) {
                const auto finish = then;
                *next = nullptr;
                return finish(removed.error());
            }
            (*next)(index + 1);
        });
    };
    (*next)(0);
}

}  // namespace tandem::container
