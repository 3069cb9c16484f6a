// A project: its spec (tandem.yaml) and the policy set it runs under, loaded together because
// the file names its policy, may define sets of its own, and overrides services per set.
#pragma once

#include <tandem/error.hpp>
#include <tandem/policy.hpp>
#include <tandem/spec.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <vector>
#include <optional>
#include <string>

namespace tandem {

// Where the active policy set's name came from.
enum class PolicyChoice { flag, file, default_ };

// Another running copy of a project beside the first (a deploy preview): the spec as loaded,
// renamed and moved to ports of its own, so that both run on one machine at once.
struct ProjectInstance {
    std::string suffix;  // appended to `project:` ("-feature-x"): containers, volumes, networks
    std::string name;    // the name when the file gives no `project:` ("shop-feature-x"); "": the caller's
    // The public port this copy uses for `port` of `service` (a service's port or extra port as
    // written); called for each, in file order, on every load: it must answer the same for the
    // same pair. An error fails the load.
    std::function<Result<int>(const std::string& service, int port)> port;
};

struct ProjectOptions {
    // The project's file, relative to the project root as `read` sees it: a tandem.yaml, a compose
    // file or a Procfile (told apart by name: see project_format). Empty: the first of tandem.yaml,
    // compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml and Procfile that exists.
    std::string config_path;
    // More compose files merged over config_path, in order (`-f a.yaml -f b.yaml`). When the
    // compose file was found (config_path empty) and none are given, its `compose.override.yaml`
    // (or `.yml`, or `docker-compose.override.*`) is merged if it exists, as `docker compose` does.
    std::vector<std::string> more_files;
    // Compose profiles to enable (`--profile`); `COMPOSE_PROFILES` in `environment` adds more.
    std::vector<std::string> profiles;
    // The variables `${VAR}` in a compose file and `$PORT`-free Procfile lines see, besides the
    // project's `.env` (which they win over); unset: this process's environment.
    std::optional<std::map<std::string, std::string>> environment;
    std::optional<std::string> policy;        // --policy NAME: wins over `policy:` in the file
    std::string default_policy;               // the front-end's default when neither is given;
                                              // empty: one of the two must name the set
    std::optional<ProjectInstance> instance;  // load a second copy (see ProjectInstance)
};

struct Project {
    Spec spec;             // with the active set's per-service `overrides:` applied
    PolicySet policy;      // the active set, resolved
    PolicyCatalog catalog; // every set the project can name
    PolicyChoice policy_choice = PolicyChoice::default_;
    // What the loader could not take as written and what it did instead (a compose key tandem
    // ignores, a port published only on 127.0.0.1): each once, with its file, line and column.
    std::vector<Error> warnings;
    // Every file the project was read from (the config files, `.env`, `env_file`s, policy
    // files): a change to any of them reloads it.
    std::vector<std::string> files;
};

// What kind of file a project file is, by its name: "compose" (compose.yaml, docker-compose.yml,
// any *.yaml/*.yml whose name holds "compose"), "procfile" (Procfile, Procfile.*), else "tandem".
std::string project_format(const std::string& config_path);

// The project's equivalent tandem.yaml (schema version 1): what `devloop convert` prints. Loading
// it gives the same services with the same fingerprints.
Result<std::string> to_tandem_yaml(const FileReader& read, const ProjectOptions& options);

// Parses and validates tandem.yaml and every policy file it names, all through `read`.
// Errors name the file, line and column.
Result<Project> load_project(const FileReader& read, const ProjectOptions& options);

// The same, reading from disk below `root`.
Result<Project> load_project(const std::filesystem::path& root, const ProjectOptions& options);

// A FileReader for files below `root` on disk. Paths that leave `root` are refused.
FileReader disk_reader(const std::filesystem::path& root);

}  // namespace tandem
