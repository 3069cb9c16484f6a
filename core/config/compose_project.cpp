// A compose project into a tandem.yaml document: the files read and merged, the top level's
// declarations (volumes, networks, secrets, configs), profiles, each service, `x-tandem`.
#include "config/compose.hpp"

#include "config/compose_files.hpp"
#include "support/suggest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace tandem::config {

namespace {

using compose::Context;

Status declare_volumes(Context& context, const YAML::Node& volumes) {
    if (!volumes || volumes.IsNull()) return Ok{};
    if (!volumes.IsMap()) return context.invalid(volumes, "volumes", "expected a mapping of volume names");
    for (auto it = volumes.begin(); it != volumes.end(); ++it) {
        const std::string name = it->first.Scalar();
        const std::string path = "volumes." + name;
        context.volumes.insert(name);
        if (!it->second.IsMap()) continue;
        for (auto key = it->second.begin(); key != it->second.end(); ++key) {
            const std::string option = key->first.Scalar();
            if (option == "external" && key->second.Scalar() != "false")
                return context.invalid(key->first, path + ".external",
                                       "refused: tandem makes and owns its project's volumes (<project>_" + name + ")");
            if (option == "name")
                return context.invalid(key->first, path + ".name",
                                       "refused: tandem names the project's volumes itself (<project>_" + name + ")");
            if (option.rfind("x-", 0) != 0)
                context.warn(key->first, path + "." + option, "ignored: tandem makes a local volume <project>_" + name, ErrorCode::unknown_key);
        }
    }
    return Ok{};
}

Status declare_networks(Context& context, const YAML::Node& networks) {
    context.networks.insert("default");
    if (!networks || networks.IsNull()) return Ok{};
    if (!networks.IsMap()) return context.invalid(networks, "networks", "expected a mapping of network names");
    for (auto it = networks.begin(); it != networks.end(); ++it) {
        const std::string name = it->first.Scalar();
        context.networks.insert(name);
        if (!it->second.IsMap()) continue;
        for (auto key = it->second.begin(); key != it->second.end(); ++key) {
            const std::string option = key->first.Scalar();
            if (option == "external" && key->second.Scalar() != "false")
                return context.invalid(key->first, "networks." + name + ".external",
                                       "refused: a tandem project's services are on the project's own network");
            if (option.rfind("x-", 0) != 0)
                context.warn(key->first, "networks." + name + "." + option, "ignored: tandem makes one bridge network per project", ErrorCode::unknown_key);
        }
    }
    if (networks.size() > 1)
        context.warn(networks, "networks",
                     "every service is on the project's one network, so services on different networks here can reach each other");
    return Ok{};
}

Status declare_files(Context& context, const YAML::Node& entries, const std::string& kind,
                     std::map<std::string, std::string>& out) {
    if (!entries || entries.IsNull()) return Ok{};
    if (!entries.IsMap()) return context.invalid(entries, kind, "expected a mapping of names");
    for (auto it = entries.begin(); it != entries.end(); ++it) {
        const std::string path = kind + "." + it->first.Scalar();
        const YAML::Node file = it->second.IsMap() ? it->second["file"] : YAML::Node();
        if (!file || !file.IsScalar())
            return context.invalid(it->first, path,
                                   "refused: tandem mounts " + kind + " from a file of the project ('file:'), not from the "
                                   "environment or an external store");
        out[it->first.Scalar()] = file.Scalar();
        for (auto key = it->second.begin(); key != it->second.end(); ++key) {
            const std::string option = key->first.Scalar();
            if (option == "external" && key->second.Scalar() != "false")
                return context.invalid(key->first, path + ".external",
                                       "refused: tandem mounts " + kind + " from a file of the project");
            if (option != "file" && option.rfind("x-", 0) != 0)
                context.warn(key->first, path + "." + option, "ignored: the file is mounted as it is",
                             ErrorCode::unknown_key);
        }
    }
    return Ok{};
}

std::vector<std::string> active_profiles(const Context& context, const std::vector<std::string>& given) {
    std::vector<std::string> profiles = given;
    if (auto from_env = context.variable("COMPOSE_PROFILES")) {
        std::string item;
        for (char c : *from_env + ",") {
            if (c != ',') item += c;
            else if (!item.empty()) profiles.push_back(std::exchange(item, ""));
        }
    }
    return profiles;
}

Result<std::set<std::string>> enabled_services(Context& context, const YAML::Node& services,
                                               const std::vector<std::string>& profiles) {
    std::set<std::string> enabled;
    for (auto it = services.begin(); it != services.end(); ++it) {
        const YAML::Node listed = it->second.IsMap() ? it->second["profiles"] : YAML::Node();
        if (!listed || listed.IsNull()) {
            enabled.insert(it->first.Scalar());
            continue;
        }
        auto names = compose::string_list(context, listed, "services." + it->first.Scalar() + ".profiles");
        if (!names) return names.error();
        for (const auto& name : *names)
            if (std::find(profiles.begin(), profiles.end(), name) != profiles.end() ||
                std::find(profiles.begin(), profiles.end(), "*") != profiles.end())
                enabled.insert(it->first.Scalar());
    }
    return enabled;
}

Status check_service_name(Context& context, const YAML::Node& key) {
    const std::string name = key.Scalar();
    bool ok = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'));
    for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    if (ok) return Ok{};
    return context.invalid(key, "services." + name,
                           fmt::format("tandem service names are lowercase letters, digits, '-' and '_' "
                                       "([a-z0-9][a-z0-9_-]*): rename '{}'",
                                       name));
}

// A dependency that others wait to complete is a one-shot job.
Status make_jobs(Context& context, YAML::Node& services, const std::vector<std::pair<std::string, YAML::Node>>& completes) {
    for (const auto& [name, where] : completes) {
        YAML::Node body = services[name];
        for (const char* key : {"port", "extra_ports", "health"}) {
            if (compose::has(body, key))
                return context.invalid(where, "services." + name,
                                       fmt::format("others wait for it to complete (service_completed_successfully), so it "
                                                   "runs as a one-shot job, which has no '{}' (remove its {})",
                                                   key, std::string(key) == "health" ? "healthcheck" : "ports"));
        }
        if (compose::has(body, "replicas") && body["replicas"].Scalar() != "1")
            return context.invalid(where, "services." + name,
                                   "others wait for it to complete (service_completed_successfully), so it runs once, as a "
                                   "one-shot job: remove its replicas");
        body["job"] = true;
    }
    return Ok{};
}

Status translate_services(Context& context, const YAML::Node& merged, const std::vector<std::string>& profiles,
                          YAML::Node& document) {
    const YAML::Node services = merged["services"];
    if (!services) return context.error(ErrorCode::missing_field, merged, "", "a compose file needs 'services:'");
    if (!services.IsMap()) return context.invalid(services, "services", "expected a mapping of service names");
    context.services = services;
    for (auto it = services.begin(); it != services.end(); ++it) {
        const YAML::Node body = it->second;
        if (body.IsMap() && compose::has(body, "build") && compose::has(body, "image") && body["image"].IsScalar())
            context.built_images.emplace(body["image"].Scalar(), it->first.Scalar());
    }
    auto enabled = enabled_services(context, services, profiles);
    if (!enabled) return enabled.error();
    YAML::Node out(YAML::NodeType::Map);
    std::vector<std::pair<std::string, YAML::Node>> completes;
    std::vector<std::pair<std::string, YAML::Node>> restart_no;
    for (auto it = services.begin(); it != services.end(); ++it) {
        const std::string name = it->first.Scalar();
        if (!enabled->count(name)) continue;
        if (auto status = check_service_name(context, it->first); !status) return status;
        auto service = compose::translate_service(context, name, it->second, *enabled);
        if (!service) return service.error();
        out[it->first] = service->body;
        completes.insert(completes.end(), service->completes.begin(), service->completes.end());
        if (service->restart_no.IsScalar()) restart_no.emplace_back(name, service->restart_no);
    }
    if (auto status = make_jobs(context, out, completes); !status) return status;
    for (const auto& [name, where] : restart_no)
        if (!compose::has(out[name], "job"))
            context.warn(where, "services." + name + ".restart",
                         "tandem restarts a crashed replica all the same (the policy's crash.on_crash decides)");
    document["services"] = out;
    return Ok{};
}

Status translate_top_level(Context& context, const YAML::Node& merged, YAML::Node& document,
                           ComposeTranslation& translation) {
    for (auto it = merged.begin(); it != merged.end(); ++it) {
        const std::string key = it->first.Scalar();
        if (key == "name") document["project"] = it->second;
        else if (key == "include")
            return context.invalid(it->first, "include", "refused: merge the files with -f instead (devloop up -f a.yaml -f b.yaml)");
        else if (key == "models")
            return context.invalid(it->first, "models", "refused: tandem runs no model runner");
        else if (key == "x-tandem") continue;
        else if (key.rfind("x-", 0) == 0 || key == "version" || key == "services" || key == "volumes" ||
                 key == "networks" || key == "secrets" || key == "configs")
            continue;
        else
            return context.error(ErrorCode::unknown_key, it->first, "",
                                 fmt::format("unknown top-level key '{}'{}", key,
                                             did_you_mean(key, {"services", "volumes", "networks", "secrets", "configs",
                                                                "name", "version", "x-tandem"})));
    }
    const YAML::Node tandem = merged["x-tandem"];
    if (!tandem || tandem.IsNull()) return Ok{};
    if (!tandem.IsMap()) return context.invalid(tandem, "x-tandem", "expected a mapping (policy, policies, access, project, previews)");
    for (auto it = tandem.begin(); it != tandem.end(); ++it) {
        const std::string key = it->first.Scalar();
        if (key != "policy" && key != "policies" && key != "access" && key != "project" && key != "previews")
            return context.error(ErrorCode::unknown_key, it->first, "",
                                 fmt::format("unknown key '{}' in 'x-tandem'{} (per service, tandem's keys go in the "
                                             "service's own 'x-tandem:')",
                                             key, did_you_mean(key, {"policy", "policies", "access", "project", "previews"})));
        if (compose::has(document, key)) document.remove(key);
        document[it->first] = it->second;
    }
    if (const YAML::Node policies = tandem["policies"]; policies && policies.IsMap()) {
        for (auto it = policies.begin(); it != policies.end(); ++it) {
            if (!it->second.IsMap()) continue;
            const std::string file = context.files.file_of(it->second, context.file);
            translation.policies[it->first.Scalar()] =
                InlinePolicySource{file, context.texts[file], "x-tandem.policies." + it->first.Scalar()};
        }
    }
    return Ok{};
}

Result<ComposeTranslation> translate(const FileReader& read, const ComposeOptions& options) {
    Context context{read, options.files.front()};
    context.environment = options.environment;
    if (auto status = compose::read_dotenv(context); !status) return status.error();
    std::vector<YAML::Node> roots;
    for (const auto& file : options.files) {
        auto root = compose::read_compose_file(context, file);
        if (!root) return root.error();
        roots.push_back(*root);
    }
    const YAML::Node merged = compose::merge_files(roots);
    ComposeTranslation translation;
    YAML::Node document(YAML::NodeType::Map);
    document["version"] = 1;
    if (auto status = translate_top_level(context, merged, document, translation); !status) return status.error();
    if (auto status = declare_volumes(context, merged["volumes"]); !status) return status.error();
    if (auto status = declare_networks(context, merged["networks"]); !status) return status.error();
    if (auto status = declare_files(context, merged["secrets"], "secrets", context.secrets); !status) return status.error();
    if (auto status = declare_files(context, merged["configs"], "configs", context.configs); !status) return status.error();
    if (auto status = translate_services(context, merged, active_profiles(context, options.profiles), document); !status)
        return status.error();
    translation.document = document;
    translation.file = context.file;
    translation.warnings = std::move(context.warnings);
    // The compose files first: the first is the project's file.
    translation.files = options.files;
    for (const auto& file : context.files_read)
        if (std::find(translation.files.begin(), translation.files.end(), file) == translation.files.end())
            translation.files.push_back(file);
    auto files = std::make_shared<compose::NodeFiles>(std::move(context.files));
    translation.relocate = [files, primary = translation.file](Error error) {
        if (error.location.file != primary || error.location.line <= 0) return error;
        const auto holders = files->files_at(error.location.line, error.location.column);
        if (holders.size() == 1 && holders.front() != primary) error.location.file = holders.front();
        return error;
    };
    return translation;
}

}  // namespace

Result<ComposeTranslation> translate_compose(const FileReader& read, const ComposeOptions& options) {
    if (options.files.empty()) return make_error(ErrorCode::missing_field, "no compose file given");
    try {
        return translate(read, options);
    } catch (const YAML::Exception& e) {
        return make_error(ErrorCode::syntax, "invalid YAML: " + e.msg,
                          SourceLocation{options.files.front(), std::max(e.mark.line + 1, 0), std::max(e.mark.column + 1, 0)});
    }
}

}  // namespace tandem::config
