// What the Docker client sends and gets back: plain values, no JSON, no Asio.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tandem::docker {

using Labels = std::map<std::string, std::string>;

struct DaemonVersion {
    std::string version;      // "20.10.24+dfsg1"
    std::string api_version;  // the daemon's newest, "1.41"
    std::string min_api_version;
    std::string os;
    std::string arch;
};

struct BuildOptions {
    std::vector<std::string> tags;  // "shop-web:dev"; none gives an untagged image
    std::string dockerfile = "Dockerfile";
    std::string target;             // a stage of a multi-stage Dockerfile; empty for the last
    std::map<std::string, std::string> args;
    Labels labels;
    bool pull = false;              // never, unless asked: no registry may be reachable
};

struct ImageInfo {
    std::string id;  // "sha256:…"
    std::vector<std::string> repo_tags;
    std::vector<std::string> repo_digests;  // "name@sha256:…", empty for a local build
    Labels labels;
};

struct VolumeMount {
    std::string volume;  // a named volume, or (bind) an absolute path of the host
    std::string target;  // where it appears in the container
    bool read_only = false;
    bool bind = false;   // a host directory, not a named volume
    bool tmpfs = false;  // an empty in-memory filesystem (volume unused)
};

struct ContainerSpec {
    std::string name;  // empty: the daemon picks one
    std::string image;
    std::vector<std::string> entrypoint;  // empty: the image's (unless clear_entrypoint)
    bool clear_entrypoint = false;        // run without the image's entrypoint
    std::vector<std::string> cmd;         // empty: the image's
    std::map<std::string, std::string> env;
    std::string user;
    std::string working_dir;
    Labels labels;
    std::optional<int> port;  // a TCP port of the container, published on 127.0.0.1:<daemon's pick>
    std::vector<int> more_ports;  // more TCP ports of the container, published likewise
    std::string network;      // joined at create, with these aliases (DNS names on it)
    std::vector<std::string> aliases;
    std::vector<VolumeMount> volumes;
    std::vector<std::string> extra_hosts;  // "NAME:IP" lines for /etc/hosts
};

struct ContainerInfo {
    std::string id;
    std::string name;   // without the leading '/'
    std::string image;  // the image ID it runs
    std::string status;  // created, running, paused, restarting, removing, exited, dead
    bool running = false;
    int exit_code = 0;
    int pid = 0;
    std::string health;  // "", starting, healthy, unhealthy
    std::map<int, int> published;  // container TCP port -> host port on 127.0.0.1
    std::string address;  // its IPv4 address on its (first) network; "" when it has none
    Labels labels;
};

struct ContainerSummary {
    std::string id;
    std::string name;
    std::string image;
    std::string state;
    Labels labels;
};

struct ExecSpec {
    std::vector<std::string> cmd;
    std::map<std::string, std::string> env;
    std::string user;
    std::string working_dir;
};

struct ExecResult {
    int exit_code = 0;
    std::string out;
    std::string err;
};

struct LogOptions {
    bool follow = false;
    std::int64_t since = 0;  // unix seconds; 0: from the start
    std::string tail = "all";
};

struct NetworkInfo {
    std::string id;
    std::string name;
    Labels labels;
    std::string gateway;  // the host's address on it ("172.18.0.1"), when it has one
};

struct VolumeInfo {
    std::string name;
    std::string mountpoint;
    Labels labels;
};

struct EventFilter {
    Labels labels;                   // every one must match ("key=value", or the key alone when empty)
    std::vector<std::string> types;  // "container", "image", "network", "volume"; empty: all
    std::int64_t since = 0;          // unix seconds; replays from then
};

struct DockerEvent {
    std::string type;    // "container"
    std::string action;  // "start", "die", "health_status: healthy", ...
    std::string id;      // the object's ID
    std::map<std::string, std::string> attributes;  // labels, name, image, exitCode, ...
    std::int64_t time_nano = 0;
};

}  // namespace tandem::docker
