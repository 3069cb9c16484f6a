// What the compose translation carries from key to key: which file each node came from, the
// warnings so far (each once), the project's declared volumes, networks, secrets and configs.
#pragma once

#include "config/compose.hpp"

#include <tandem/error.hpp>

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace tandem::config::compose {

// The compose files' nodes, by where they start, so a location names the right file.
class NodeFiles {
public:
    void add(const YAML::Node& root, const std::string& file);
    // The file `node` came from; `fallback` when it has no mark or is not known.
    std::string file_of(const YAML::Node& node, const std::string& fallback) const;
    // The files holding a node at this 1-based line and column.
    std::vector<std::string> files_at(int line, int column) const;

private:
    void add_node(const YAML::Node& node, const std::string& file, int depth);
    std::multimap<std::size_t, std::pair<YAML::Node, std::string>> by_offset_;
    std::map<std::pair<int, int>, std::set<std::string>> by_position_;
};

// Whether mapping `map` has `key`. A lookup through a non-const node would leave an empty entry
// behind for a missing key, which a later insert under the key's own node does not replace.
inline bool has(const YAML::Node& map, const std::string& key) { return map.IsMap() && map[key].IsDefined(); }

// The key node of `key` in mapping `map` (for a warning at the key), else `map` itself.
inline YAML::Node key_of(const YAML::Node& map, const std::string& key) {
    YAML::Node out;
    out.reset(map);
    if (map.IsMap())
        for (auto it = map.begin(); it != map.end(); ++it)
            if (it->first.IsScalar() && it->first.Scalar() == key) out.reset(it->first);
    return out;
}

struct Context {
    const FileReader& read;
    std::string file;  // the first compose file
    NodeFiles files;
    std::vector<Error> warnings;
    std::set<std::string> warned;
    std::vector<std::string> files_read;
    VariableLookup environment;
    std::map<std::string, std::string> dotenv;
    std::vector<std::string> profiles;

    std::set<std::string> volumes;                  // declared at the top level
    std::set<std::string> networks;                 // declared at the top level (and "default")
    std::map<std::string, std::string> secrets;     // name -> file (relative to the root, or absolute)
    std::map<std::string, std::string> configs;     // name -> file
    YAML::Node services;                            // the merged `services:` (every service, enabled or not)
    // `image:` names that a service with `build:` tags, with that service: another service naming
    // the image runs what that build makes (compose's shared image for a web and its workers).
    std::map<std::string, std::string> built_images;
    std::map<std::string, std::string> texts;       // each compose file's text, by name

    SourceLocation at(const YAML::Node& node) const;
    // A warning at `node` for `path` ("services.web.container_name"): `what` says what happens instead.
    void warn(const YAML::Node& node, const std::string& path, const std::string& what,
              ErrorCode code = ErrorCode::invalid_value);
    Error error(ErrorCode code, const YAML::Node& node, const std::string& path, const std::string& what) const;
    Error invalid(const YAML::Node& node, const std::string& path, const std::string& what) const {
        return error(ErrorCode::invalid_value, node, path, what);
    }
    // A variable: the environment's, else .env's.
    std::optional<std::string> variable(const std::string& name) const;
};

// --- reading values (compose_values.cpp) ---

// A scalar's text, or an error naming the path ("expected a string, found a mapping").
Result<std::string> scalar(const Context& context, const YAML::Node& node, const std::string& path);
// A string or a list of strings (a lone string is a list of one).
Result<std::vector<std::string>> string_list(const Context& context, const YAML::Node& node, const std::string& path);
// Words as a shell splits them (quotes and backslashes), as compose splits `command: "a b"`.
Result<std::vector<std::string>> split_words(const std::string& text);
// A Go duration ("1m30s", "500ms", "2.5s") as tandem writes one ("90000ms").
Result<std::string> duration(const Context& context, const YAML::Node& node, const std::string& path);
// `KEY=VALUE` list or mapping (environment, labels, args, extra_hosts with `sep`) as ordered pairs;
// a key with no value is `std::nullopt`.
Result<std::vector<std::pair<std::string, std::optional<std::string>>>> pairs(const Context& context,
                                                                              const YAML::Node& node,
                                                                              const std::string& path, char sep = '=');

// --- the translation of one service (compose_service.cpp) ---

// An error for a key tandem refuses or does not know; a warning for each key it ignores
// (compose_keys.cpp).
Status check_service_keys(Context& context, const YAML::Node& service, const std::string& path);

// The tandem service mapping for compose service `name`, and the names it depends on that
// must be one-shot jobs (`condition: service_completed_successfully`), each with its node.
struct TranslatedService {
    YAML::Node body;
    std::vector<std::pair<std::string, YAML::Node>> completes;  // dependency, where the condition was written
    YAML::Node restart_no;                                      // `restart: "no"`, when written
};
Result<TranslatedService> translate_service(Context& context, const std::string& name, const YAML::Node& service,
                                            const std::set<std::string>& enabled);

// `depends_on` into out.body's depends_on and out.completes (compose_depends.cpp); `enabled`: the
// services of the active profiles.
Status translate_depends_on(Context& context, const std::string& path, const YAML::Node& node, TranslatedService& out,
                            const std::set<std::string>& enabled);

// Parts of a service (compose_mounts.cpp): volumes, tmpfs, secrets and configs into `body`;
// ports; the healthcheck; develop.watch.
Status translate_mounts(Context& context, const std::string& path, const YAML::Node& service, YAML::Node& body,
                        const std::string& name);
Status translate_ports(Context& context, const std::string& path, const YAML::Node& ports, YAML::Node& body);
Status translate_healthcheck(Context& context, const std::string& path, const YAML::Node& check, YAML::Node& body);
Status translate_watch(Context& context, const std::string& path, const YAML::Node& develop, YAML::Node& body);

}  // namespace tandem::config::compose
