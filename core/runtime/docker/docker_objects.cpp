// Exec, archive upload, networks, volumes and the event stream.
#include "runtime/docker/docker_client.hpp"

#include "runtime/docker/docker_json.hpp"

#include <fmt/format.h>

namespace tandem::docker {

using nlohmann::json;

void DockerClient::exec(const std::string& id, const ExecSpec& spec, Callback<ExecResult> done) {
    json body = {{"AttachStdout", true}, {"AttachStderr", true}, {"Cmd", spec.cmd}};
    json env = json::array();
    for (const auto& [key, value] : spec.env) env.push_back(key + "=" + value);
    body["Env"] = env;
    if (!spec.user.empty()) body["User"] = spec.user;
    if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
    auto self = *this;
    call("exec in container " + short_id(id),
         {"POST", "/containers/" + url_encode(id) + "/exec", body.dump(), "application/json"}, nullptr,
         [self, done](Result<HttpResponse> got) {
             auto created = parse_reply("exec", got);
             if (!created) return done(created.error());
             self.exec_start(json_string(*created, "Id"), done);
         });
}

// Starts the exec attached: the daemon answers with the raw multiplexed stream until the command
// ends, then GET /exec/{id}/json has its exit code.
void DockerClient::exec_start(std::string exec_id, Callback<ExecResult> done) const {
    auto result = std::make_shared<ExecResult>();
    auto demuxer = std::make_shared<StreamDemuxer>([result](OutputStream stream, std::string_view bytes) {
        (stream == OutputStream::stderr_stream ? result->err : result->out).append(bytes);
    });
    const json start = {{"Detach", false}, {"Tty", false}};
    auto self = *this;
    call("start exec " + short_id(exec_id), {"POST", "/exec/" + exec_id + "/start", start.dump(), "application/json"},
         [demuxer](std::string_view piece) { demuxer->feed(piece); },
         [self, exec_id, result, demuxer, done](Result<HttpResponse> got) {
             if (!got) return done(got.error());
             self.call("inspect exec " + short_id(exec_id), {"GET", "/exec/" + exec_id + "/json", {}, {}}, nullptr,
                       [result, done](Result<HttpResponse> inspected) {
                           auto body = parse_reply("inspect exec", inspected);
                           if (!body) return done(body.error());
                           result->exit_code = body->value("ExitCode", -1);
                           done(std::move(*result));
                       });
         });
}

void DockerClient::upload_archive(const std::string& id, const std::string& path, std::string tar, Done done) {
    call("upload files to container " + short_id(id),
         {"PUT", fmt::format("/containers/{}/archive?path={}", url_encode(id), url_encode(path)), std::move(tar),
          "application/x-tar"},
         nullptr, status_only(std::move(done)));
}

void DockerClient::create_network(const std::string& name, const Labels& labels, Callback<std::string> done) {
    const json body = {{"Name", name}, {"Driver", "bridge"}, {"CheckDuplicate", true}, {"Labels", labels}};
    call("create network " + name, {"POST", "/networks/create", body.dump(), "application/json"}, nullptr,
         [done](Result<HttpResponse> got) {
             auto created = parse_reply("create network", got);
             if (!created) return done(created.error());
             done(json_string(*created, "Id"));
         });
}

void DockerClient::connect_network(const std::string& network, const std::string& container,
                                   const std::vector<std::string>& aliases, Done done) {
    const json body = {{"Container", container}, {"EndpointConfig", {{"Aliases", aliases}}}};
    call(fmt::format("connect container {} to network {}", short_id(container), network),
         {"POST", "/networks/" + url_encode(network) + "/connect", body.dump(), "application/json"}, nullptr,
         status_only(std::move(done)));
}

void DockerClient::remove_network(const std::string& network, Done done) {
    call("remove network " + network, {"DELETE", "/networks/" + url_encode(network), {}, {}}, nullptr,
         status_only(std::move(done)));
}

void DockerClient::list_networks(const Labels& labels, Callback<std::vector<NetworkInfo>> done) {
    call("list networks", {"GET", "/networks?filters=" + url_encode(label_filters(labels)), {}, {}}, nullptr,
         [done](Result<HttpResponse> got) {
             auto body = parse_reply("list networks", got);
             if (!body) return done(body.error());
             std::vector<NetworkInfo> list;
             for (const json& item : *body) {
                 NetworkInfo network{json_string(item, "Id"), json_string(item, "Name"),
                                     json_labels(item.value("Labels", json())), {}};
                 const json configs = item.value("IPAM", json::object()).value("Config", json::array());
                 if (configs.is_array())
                     for (const json& config : configs)
                         if (network.gateway.empty() && config.is_object()) network.gateway = json_string(config, "Gateway");
                 list.push_back(std::move(network));
             }
             done(std::move(list));
         });
}

namespace {
VolumeInfo to_volume(const json& item) {
    return {json_string(item, "Name"), json_string(item, "Mountpoint"), json_labels(item.value("Labels", json()))};
}
}  // namespace

void DockerClient::create_volume(const std::string& name, const Labels& labels, Callback<VolumeInfo> done) {
    const json body = {{"Name", name}, {"Labels", labels}};
    call("create volume " + name, {"POST", "/volumes/create", body.dump(), "application/json"}, nullptr,
         [done](Result<HttpResponse> got) {
             auto created = parse_reply("create volume", got);
             if (!created) return done(created.error());
             done(to_volume(*created));
         });
}

void DockerClient::remove_volume(const std::string& name, Done done) {
    call("remove volume " + name, {"DELETE", "/volumes/" + url_encode(name), {}, {}}, nullptr,
         status_only(std::move(done)));
}

void DockerClient::list_volumes(const Labels& labels, Callback<std::vector<VolumeInfo>> done) {
    call("list volumes", {"GET", "/volumes?filters=" + url_encode(label_filters(labels)), {}, {}}, nullptr,
         [done](Result<HttpResponse> got) {
             auto body = parse_reply("list volumes", got);
             if (!body) return done(body.error());
             std::vector<VolumeInfo> list;
             for (const json& item : body->value("Volumes", json::array())) list.push_back(to_volume(item));
             done(std::move(list));
         });
}

StreamHandle DockerClient::events(const EventFilter& filter, EventCallback on_event, Done done) {
    json filters = json::parse(label_filters(filter.labels));
    if (!filter.types.empty()) filters["type"] = filter.types;
    std::string target = "/events?filters=" + url_encode(filters.dump());
    if (filter.since > 0) target += fmt::format("&since={}", filter.since);
    auto lines = std::make_shared<LineSplitter>([on_event](std::string_view line) {
        const json item = json::parse(line, nullptr, false);
        if (item.is_discarded() || !item.is_object()) return;
        DockerEvent event;
        event.type = json_string(item, "Type");
        event.action = json_string(item, "Action");
        const json actor = item.value("Actor", json::object());
        event.id = json_string(actor, "ID");
        event.attributes = json_labels(actor.value("Attributes", json()));
        event.time_nano = item.value("timeNano", std::int64_t{0});
        on_event(event);
    });
    return call("follow events", {"GET", target, {}, {}}, [lines](std::string_view piece) { lines->feed(piece); },
                [lines, done](Result<HttpResponse> got) {
                    lines->finish();
                    got ? done(Ok{}) : done(got.error());
                });
}

}  // namespace tandem::docker
