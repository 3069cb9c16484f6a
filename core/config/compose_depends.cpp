// A compose service's `depends_on` (a list, or a mapping of name to {condition, restart,
// required}) into tandem's depends_on, with the dependencies that must run as one-shot jobs.
#include "config/compose_context.hpp"

#include "support/suggest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace tandem::config::compose {

namespace {

struct Dependency {
    std::string condition = "service_started";
    YAML::Node where;  // the condition as written, else the name
    bool required = true;
};

// A dependency's `{condition, restart, required}`.
Result<Dependency> read_dependency(Context& context, const std::string& path, const YAML::Node& name_node,
                                   const YAML::Node& options) {
    const std::string name = name_node.Scalar();
    Dependency out;
    out.where.reset(name_node);  // `=` would rebind the node both handles share
    if (options && !options.IsNull() && !options.IsMap())
        return context.invalid(options, path + "." + name, "expected a mapping (condition, restart, required)");
    if (!options || options.IsNull()) return out;
    const std::vector<std::string_view> conditions = {"service_started", "service_healthy", "service_completed_successfully"};
    for (auto it = options.begin(); it != options.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string at = path + "." + name + "." + key;
        if (key == "condition") {
            auto text = scalar(context, it->second, at);
            if (!text) return text.error();
            if (std::find(conditions.begin(), conditions.end(), *text) == conditions.end())
                return context.invalid(it->second, at,
                                       fmt::format("unknown condition '{}' (service_started, service_healthy or "
                                                   "service_completed_successfully){}",
                                                   *text, did_you_mean(*text, conditions)));
            out.condition = *text;
            out.where.reset(it->second);
        } else if (key == "required") {
            out.required = it->second.Scalar() != "false";
        } else if (key == "restart") {
            if (it->second.Scalar() == "true")
                context.warn(it->first, at,
                             "tandem restarts this service after its dependency only when that one is reset, not on "
                             "every restart");
        } else {
            return context.error(ErrorCode::unknown_key, it->first, "",
                                 fmt::format("unknown key '{}' in '{}.{}' (condition, restart, required)", key, path, name));
        }
    }
    return out;
}

Status add_dependency(Context& context, TranslatedService& out, const std::string& path, const YAML::Node& name_node,
                      const YAML::Node& options, const std::set<std::string>& enabled, const YAML::Node& all) {
    const std::string name = name_node.Scalar();
    auto dependency = read_dependency(context, path, name_node, options);
    if (!dependency) return dependency.error();
    const bool required = dependency->required;
    const std::string& condition = dependency->condition;
    const YAML::Node& condition_node = dependency->where;
    if (!enabled.count(name)) {
        if (!required) return Ok{};
        if (all[name]) {
            auto profiles = string_list(context, all[name]["profiles"], "services." + name + ".profiles");
            return context.invalid(name_node, path,
                                   fmt::format("'{}' is only in profile(s) {}, which are not active: pass --profile {}",
                                               name, profiles ? fmt::format("{}", fmt::join(*profiles, ", ")) : "?",
                                               profiles && !profiles->empty() ? profiles->front() : "NAME"));
        }
        std::vector<std::string_view> names(enabled.begin(), enabled.end());
        return context.error(ErrorCode::unknown_reference, name_node, path,
                             fmt::format("unknown service '{}'{}", name, did_you_mean(name, names)));
    }
    if (condition == "service_completed_successfully") out.completes.emplace_back(name, condition_node);
    if (condition == "service_healthy") {
        const YAML::Node check = all[name]["healthcheck"];
        const bool none = check && check.IsMap() && check["test"] &&
                          ((check["test"].IsSequence() && check["test"].size() > 0 && check["test"][0].Scalar() == "NONE") ||
                           (check["test"].IsSequence() && check["test"].size() == 0));
        if (!check || !check.IsMap() || !check["test"] || none ||
            (check["disable"] && check["disable"].Scalar() == "true"))
            context.warn(key_of(options, "condition"), path + "." + name + ".condition",
                         fmt::format("'{}' has no healthcheck test here (an image's own HEALTHCHECK is not run): tandem "
                                     "starts this service once '{}' serves (its port accepts connections, or it runs)",
                                     name, name));
    }
    if (!has(out.body, "depends_on")) out.body["depends_on"] = YAML::Node(YAML::NodeType::Sequence);
    out.body["depends_on"].push_back(name_node);
    return Ok{};
}

}  // namespace

Status translate_depends_on(Context& context, const std::string& path, const YAML::Node& node, TranslatedService& out,
                            const std::set<std::string>& enabled) {
    const YAML::Node& all = context.services;
    if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) {
            if (!node[i].IsScalar()) return context.invalid(node[i], path, "expected a service name");
            if (auto status = add_dependency(context, out, path, node[i], YAML::Node(), enabled, all); !status) return status;
        }
        return Ok{};
    }
    if (!node.IsMap()) return context.invalid(node, path, "expected a list of services or a mapping of service to condition");
    for (auto it = node.begin(); it != node.end(); ++it)
        if (auto status = add_dependency(context, out, path, it->first, it->second, enabled, all); !status) return status;
    return Ok{};
}

}  // namespace tandem::config::compose
