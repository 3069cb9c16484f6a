// Containers: create (with a published port, a network alias and named volumes), start, inspect,
// stop, kill, remove, list by label, wait and logs.
#include "runtime/docker/docker_client.hpp"

#include "runtime/docker/docker_json.hpp"

#include <fmt/format.h>

namespace tandem::docker {

using nlohmann::json;

namespace {

json create_body(const ContainerSpec& spec) {
    json body = {{"Image", spec.image}, {"Labels", spec.labels}};
    if (!spec.cmd.empty()) body["Cmd"] = spec.cmd;
    if (!spec.entrypoint.empty()) body["Entrypoint"] = spec.entrypoint;
    else if (spec.clear_entrypoint) body["Entrypoint"] = json::array({""});
    if (!spec.user.empty()) body["User"] = spec.user;
    if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
    json env = json::array();
    for (const auto& [key, value] : spec.env) env.push_back(key + "=" + value);
    body["Env"] = env;
    json host = json::object();
    std::vector<int> ports = spec.more_ports;
    if (spec.port) ports.insert(ports.begin(), *spec.port);
    if (!ports.empty()) {
        json exposed = json::object();
        json bindings = json::object();
        for (int number : ports) {
            const std::string port = fmt::format("{}/tcp", number);
            exposed[port] = json::object();
            bindings[port] = json::array({{{"HostIp", "127.0.0.1"}, {"HostPort", ""}}});
        }
        body["ExposedPorts"] = exposed;
        host["PortBindings"] = bindings;
    }
    json mounts = json::array();
    for (const VolumeMount& mount : spec.volumes) {
        if (mount.tmpfs) {
            mounts.push_back({{"Type", "tmpfs"}, {"Target", mount.target}, {"ReadOnly", mount.read_only}});
            continue;
        }
        mounts.push_back({{"Type", mount.bind ? "bind" : "volume"}, {"Source", mount.volume}, {"Target", mount.target},
                          {"ReadOnly", mount.read_only}});
    }
    host["Mounts"] = mounts;
    if (!spec.extra_hosts.empty()) host["ExtraHosts"] = spec.extra_hosts;
    if (!spec.network.empty()) {
        host["NetworkMode"] = spec.network;
        body["NetworkingConfig"] = {{"EndpointsConfig", {{spec.network, {{"Aliases", spec.aliases}}}}}};
    }
    body["HostConfig"] = host;
    return body;
}

ContainerInfo to_info(const json& body) {
    ContainerInfo info;
    info.id = json_string(body, "Id");
    info.name = json_string(body, "Name");
    if (!info.name.empty() && info.name.front() == '/') info.name.erase(0, 1);
    info.image = json_string(body, "Image");
    const json state = body.value("State", json::object());
    info.status = json_string(state, "Status");
    info.running = state.value("Running", false);
    info.exit_code = state.value("ExitCode", 0);
    info.pid = state.value("Pid", 0);
    if (state.contains("Health") && state["Health"].is_object()) info.health = json_string(state["Health"], "Status");
    info.labels = json_labels(body.value("Config", json::object()).value("Labels", json()));
    const json settings = body.value("NetworkSettings", json::object());
    const json networks = settings.value("Networks", json::object());
    for (const auto& [network, endpoint] : networks.items())
        if (info.address.empty() && endpoint.is_object()) info.address = json_string(endpoint, "IPAddress");
    const json ports = settings.value("Ports", json::object());
    for (const auto& [key, bindings] : ports.items()) {
        if (!bindings.is_array() || bindings.empty() || key.find("/tcp") == std::string::npos) continue;
        const std::string host_port = json_string(bindings[0], "HostPort");
        if (!host_port.empty()) info.published[std::stoi(key)] = std::stoi(host_port);
    }
    return info;
}

}  // namespace

void DockerClient::create_container(const ContainerSpec& spec, Callback<std::string> done) {
    std::string target = "/containers/create";
    if (!spec.name.empty()) target += "?name=" + url_encode(spec.name);
    call("create container", {"POST", target, create_body(spec).dump(), "application/json"}, nullptr,
         [done](Result<HttpResponse> got) {
             auto body = parse_reply("create container", got);
             if (!body) return done(body.error());
             done(json_string(*body, "Id"));
         });
}

void DockerClient::start_container(const std::string& id, Done done) {
    call("start container " + short_id(id), {"POST", "/containers/" + url_encode(id) + "/start", {}, {}}, nullptr,
         status_only(std::move(done)));
}

void DockerClient::inspect_container(const std::string& id, Callback<ContainerInfo> done) {
    call("inspect container " + short_id(id), {"GET", "/containers/" + url_encode(id) + "/json", {}, {}}, nullptr,
         [done](Result<HttpResponse> got) {
             auto body = parse_reply("inspect container", got);
             if (!body) return done(body.error());
             done(to_info(*body));
         });
}

void DockerClient::stop_container(const std::string& id, int timeout_seconds, Done done) {
    call("stop container " + short_id(id),
         {"POST", fmt::format("/containers/{}/stop?t={}", url_encode(id), timeout_seconds), {}, {}}, nullptr,
         status_only(std::move(done)));
}

void DockerClient::kill_container(const std::string& id, const std::string& signal, Done done) {
    call("kill container " + short_id(id),
         {"POST", fmt::format("/containers/{}/kill?signal={}", url_encode(id), url_encode(signal)), {}, {}}, nullptr,
         status_only(std::move(done)));
}

void DockerClient::remove_container(const std::string& id, Done done) {
    call("remove container " + short_id(id), {"DELETE", "/containers/" + url_encode(id) + "?force=1&v=0", {}, {}},
         nullptr, status_only(std::move(done)));
}

void DockerClient::list_containers(const Labels& labels, Callback<std::vector<ContainerSummary>> done) {
    call("list containers", {"GET", "/containers/json?all=1&filters=" + url_encode(label_filters(labels)), {}, {}},
         nullptr, [done](Result<HttpResponse> got) {
             auto body = parse_reply("list containers", got);
             if (!body) return done(body.error());
             std::vector<ContainerSummary> list;
             for (const json& item : *body) {
                 ContainerSummary summary{json_string(item, "Id"), {}, json_string(item, "Image"),
                                          json_string(item, "State"), json_labels(item.value("Labels", json()))};
                 const json names = item.value("Names", json::array());
                 if (!names.empty() && names[0].is_string()) summary.name = names[0].get<std::string>().substr(1);
                 list.push_back(std::move(summary));
             }
             done(std::move(list));
         });
}

StreamHandle DockerClient::wait_container(const std::string& id, Callback<int> done) {
    const std::string action = "wait for container " + short_id(id);
    return call(action, {"POST", "/containers/" + url_encode(id) + "/wait?condition=not-running", {}, {}}, nullptr,
                [self = *this, action, done](Result<HttpResponse> got) {
                    auto body = parse_reply("wait for container", got);
                    if (!body) return done(body.error());
                    if (body->contains("Error") && (*body)["Error"].is_object()) {
                        const std::string message = json_string((*body)["Error"], "Message");
                        if (!message.empty()) {
                            return done(self.failure(action, make_error(ErrorCode::runtime, message)));
                        }
                    }
                    done(body->value("StatusCode", -1));
                });
}

StreamHandle DockerClient::logs(const std::string& id, const LogOptions& options, LogCallback on_line, Done done) {
    const std::string target =
        fmt::format("/containers/{}/logs?stdout=1&stderr=1&follow={}&since={}&tail={}", url_encode(id),
                    options.follow ? 1 : 0, options.since, url_encode(options.tail));
    auto lines = std::make_shared<DemuxedLines>(std::move(on_line));
    return call("logs of container " + short_id(id), {"GET", target, {}, {}},
                [lines](std::string_view piece) { lines->feed(piece); },
                [lines, done](Result<HttpResponse> got) {
                    lines->finish();
                    got ? done(Ok{}) : done(got.error());
                });
}

}  // namespace tandem::docker
