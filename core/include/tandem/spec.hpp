// The desired state: a typed view of tandem.yaml (schema version 1) at one revision.
#pragma once

#include <tandem/duration.hpp>
#include <tandem/error.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tandem {

struct BuildSpec {
    std::string command;               // run with /bin/sh -c in the service's workdir
    std::vector<std::string> inputs;   // globs, relative to the project root; a change rebuilds
    std::vector<std::string> outputs;  // files or directories the build produces (the artifact)
    SourceLocation location;
    bool network = false;              // `network: true`: the build may use the network under builds.sandbox
};

struct RunSpec {
    // The argv to exec. A YAML string `run: "cmd args"` becomes {"/bin/sh", "-c", "cmd args"}
    // with shell = true; a YAML list is taken as the argv itself.
    std::vector<std::string> argv;
    bool shell = false;
    SourceLocation location;
};

enum class ProbeKind { tcp, http, exec };

struct HealthSpec {
    ProbeKind kind = ProbeKind::tcp;
    std::string path = "/";            // http: request path
    int expect_status = 200;           // http: a response with this status is healthy
    std::vector<std::string> command;  // exec: argv (a string becomes /bin/sh -c)
    Duration initial_delay{0};
    Duration interval{1000};
    Duration timeout{1000};
    int success_threshold = 1;
    int failure_threshold = 3;
    SourceLocation location;
};

enum class WatchAction {
    sync,     // nothing to run: the service reads the tree itself
    restart,  // restart the service's replicas
    rebuild,  // run the build, then restart
    run,      // run `command`, then restart
};

struct WatchRule {
    std::vector<std::string> paths;  // globs relative to the project root (`**` crosses dirs)
    WatchAction action = WatchAction::rebuild;
    std::string command;             // WatchAction::run; sync of a container service: run in it after the files
    // sync of a container service: the absolute path in the container where the base of each
    // pattern lands (`web/**` with target /app: web/a.js is /app/a.js).
    std::string target;
    SourceLocation location;
    // Globs (relative to the project root) of paths the rule skips, though `paths` match them:
    // the next rule, or a build input, decides for those.
    std::vector<std::string> ignore{};
    // `action: sync+restart`: the files are synced (as `sync`), then the replicas restart.
    bool restart_after_sync = false;
};

struct ResetSpec {
    std::string command;  // wipes the service's state (e.g. drops and recreates a database)
    SourceLocation location;
};

// An image built from a Dockerfile: `build: {context, dockerfile, target, args}`. (A `build:`
// that is a string, or a mapping with `command`, is a BuildSpec: a command that builds files.)
struct ImageBuildSpec {
    std::string context = ".";              // the build context, relative to the project root
    std::string dockerfile = "Dockerfile";  // relative to the context
    std::string target;                     // the stage to build; empty: the last one
    std::vector<std::pair<std::string, std::string>> args;  // build args, in file order
    // Globs (relative to the project root) of the files whose change rebuilds the image; unset:
    // every file under `context`. The build itself always gets the whole context.
    std::optional<std::vector<std::string>> inputs;
    SourceLocation location;
};

// One entry of a container service's `volumes:`.
struct VolumeSpec {
    enum class Kind {
        named,  // `NAME:/path`: a volume the runtime keeps across restarts and releases
        bind,   // `./host/path:/path` or `/host/path:/path`: a directory of the host (policy permitting)
        tmpfs,  // `tmpfs:/path`: an empty in-memory filesystem, new for each container
    };
    Kind kind = Kind::named;
    std::string source;      // named: the volume's name; bind: the host path, normalized (relative to the project root unless absolute); tmpfs: empty
    std::string target;      // the absolute path inside the container
    bool read_only = false;  // `:ro`
    std::string text;        // the entry as written, for messages
    SourceLocation location;
};

// What a container service runs: an image by reference, or one built from a Dockerfile.
struct ContainerSpec {
    std::string image;                    // `image: NAME[:TAG|@sha256:HEX]` as written; empty when built
    std::optional<ImageBuildSpec> build;  // `build: {context, dockerfile, ...}`; unset when `image:` is given
    std::vector<std::string> command;     // `command:` (argv; a string is /bin/sh -c); empty: the image's own
    // `entrypoint:` (argv); unset: the image's own; an empty list clears the image's entrypoint.
    std::optional<std::vector<std::string>> entrypoint;
    std::vector<VolumeSpec> volumes;      // in file order
    int port = 0;                         // `container_port:` the port it listens on; 0: the service's `port`
    std::string working_dir;              // `working_dir:` an absolute path in the container; empty: the image's
    std::vector<std::pair<std::string, std::string>> labels;  // `labels:` in file order (the engine adds its own)
    std::vector<std::string> aliases;     // `aliases:` more DNS names on the project network (beside the service's)
    std::vector<std::string> extra_hosts; // `extra_hosts:` "NAME:IP" lines added to the container's /etc/hosts
    // `extra_ports:` more ports published beside `port`, each {public, container}: the engine listens
    // on 127.0.0.1:public and routes to the ready replicas' published container port, as for `port`.
    std::vector<std::pair<int, int>> extra_ports;
    SourceLocation location;              // the `image:` or `build:` value
};

struct ServiceSpec {
    std::string name;
    std::optional<BuildSpec> build;
    RunSpec run;
    std::string workdir = ".";  // relative to the project root
    int port = 0;               // public port (0: the service listens on nothing)
    int replicas = 1;
    // In file order. Values may hold ${port} (the replica's own port, known when it starts)
    // and ${services.NAME.port} (another service's public port).
    std::vector<std::pair<std::string, std::string>> env;
    std::optional<HealthSpec> health;
    std::vector<std::string> depends_on;
    std::vector<WatchRule> watch;
    std::optional<ResetSpec> reset;
    // Names of the project's persistent directories this service uses (`state: [pgdata]`):
    // each lives under the engine's state root, outside every release, shared by the services
    // that name it, and is `${state.NAME}` in run, env, health.exec, reset, watch commands and
    // build.command. A reset empties them.
    std::vector<std::string> state;
    // The user its replicas, probes, reset and watch commands run as (a name or a numeric
    // uid); empty: the engine's own. The build runs as the engine's user.
    std::string user;
    Duration stop_grace{5000};  // SIGTERM, then SIGKILL after this long
    // A one-shot job (a migration, an initdb): runs to completion once per release or change;
    // it has completed when it exits 0, and what depends on it starts only then. No port,
    // replicas or health.
    bool job = false;
    // Set for a container service (`image:` or an image `build:`), which has no `run`, `workdir`
    // or `state`: its replicas are containers (`port` is the container's port, published on
    // 127.0.0.1; `user` is a user inside the image; `health.exec` runs inside the container).
    std::optional<ContainerSpec> container;
    SourceLocation location;    // where the service's mapping starts

    bool runs_container() const { return container.has_value(); }
    // The port its replicas listen on: a container's `container_port`, else `port`.
    int listen_port() const { return container && container->port != 0 ? container->port : port; }
};

// A role of the control API: a name and the actions it may take ("status", "logs",
// "trigger", "restart", "reset", "sync", "rollback", or "*" for all of them).
struct AccessRole {
    std::string name;
    std::vector<std::string> actions;
    SourceLocation location;
};

// `previews:`: every branch that matches gets a running copy of the project (shipper).
struct PreviewSpec {
    std::vector<std::string> branches;   // `branches:` globs ("feature/*"); `*` stops at '/', `**` crosses it
    std::optional<std::string> policy;   // `policy:` the set previews run under; unset: the tool's default
    Duration idle{0};                    // `idle:` a preview with no push this long is stopped (0: never)
    int max = 0;                         // `max:` previews running at once (0: the tool's default)
    std::optional<int> port;             // `port:` the one port that routes `<preview>.<domain>` by Host
    std::string domain = "localhost";    // `domain:`
    std::string service;                 // `service:` where `<preview>.<domain>` goes; "": the first with a port
    SourceLocation location;             // the `previews:` key
};

struct Spec {
    int version = 1;
    std::string project;                // `project:`, or the name of the root directory
    std::optional<std::string> policy;  // `policy:` in the file, if set
    std::vector<ServiceSpec> services;  // in file order
    std::vector<AccessRole> roles;      // `access: roles:`
    std::optional<int> api_port;        // `access: port:`: the HTTP API's port (0: any free one)
    std::optional<PreviewSpec> previews;  // `previews:`
    std::string file;                   // the file this was read from, as shown in errors

    const ServiceSpec* find(std::string_view name) const;
};

// Services in an order where each one comes after everything it depends on (file order
// breaks ties). The spec must have passed validation (no cycles).
std::vector<const ServiceSpec*> dependency_order(const Spec& spec);

// `${services.NAME.port}` expanded; `${port}` replaced by `replica_port` when it is non-zero
// and left as written otherwise.
std::vector<std::pair<std::string, std::string>> expand_env(const Spec& spec, const ServiceSpec& service,
                                                            int replica_port = 0);

// Where the state directory `name` lives under `state_root`.
std::filesystem::path state_path(const std::filesystem::path& state_root, std::string_view name);

// `text` with each `${state.NAME}` of a state the service declares replaced by its absolute
// path under `state_root`; everything else as written.
std::string expand_state(const std::string& text, const ServiceSpec& service, const std::filesystem::path& state_root);
// The service with expand_state applied to run, env values, health.exec, reset, watch
// commands and build.command: what its processes run once the engine's state root is known.
ServiceSpec with_state_paths(ServiceSpec service, const std::filesystem::path& state_root);

// A stable digest of everything that defines a running service (run, env, port, replicas,
// health, build, workdir, state, user, stop_grace, job, and a container's image, image build,
// command and volumes). Two services with the same fingerprint need no update.
std::string fingerprint(const ServiceSpec& service);
// The same with env's ${services.NAME.port} expanded from `spec`, so that a service whose env
// names another's port gets a new fingerprint when that port changes.
std::string fingerprint(const Spec& spec, const ServiceSpec& service);

}  // namespace tandem
