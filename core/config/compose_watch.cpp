// `develop.watch` into tandem watch rules: `path` (a file or a directory of the project) as
// globs, the action, `target` (for a file, its directory), `ignore` patterns relative to `path`
// as globs, and sync+exec's command as the sync rule's command.
#include "config/compose_context.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace tandem::config::compose {

namespace {

std::string words_as_shell(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) {
        std::string quoted = "'";
        for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += (out.empty() ? "" : " ") + quoted + "'";
    }
    return out;
}

Status check_rule_keys(Context& context, const YAML::Node& rule, const std::string& at) {
    for (auto key = rule.begin(); key != rule.end(); ++key) {
        const std::string name = key->first.Scalar();
        if (name == "include")
            context.warn(key->first, at + ".include", "ignored: every file under 'path' counts (minus 'ignore')",
                         ErrorCode::unknown_key);
        else if (name == "initial_sync")
            context.warn(key->first, at + ".initial_sync",
                         "ignored: a new container gets the files of its image, then every file synced since",
                         ErrorCode::unknown_key);
        else if (name != "path" && name != "action" && name != "target" && name != "ignore" && name != "exec" &&
                 name.rfind("x-", 0) != 0)
            return context.error(ErrorCode::unknown_key, key->first, "",
                                 fmt::format("unknown key '{}' in '{}' (path, action, target, ignore, exec, initial_sync)",
                                             name, at));
    }
    return Ok{};
}

// `path` relative to the project root, normalized ("" for the root itself).
Result<std::string> watched_path(Context& context, const YAML::Node& rule, const std::string& at) {
    if (!rule["path"]) return context.error(ErrorCode::missing_field, rule, at, "a watch rule needs 'path:'");
    auto given = scalar(context, rule["path"], at + ".path");
    if (!given) return given.error();
    std::string source = std::filesystem::path(*given).lexically_normal().generic_string();
    if (source.empty() || source[0] == '/' || source.rfind("..", 0) == 0)
        return context.invalid(rule["path"], at + ".path", fmt::format("'{}' must be a path inside the project", *given));
    if (source == "." || source == "./") source.clear();
    while (!source.empty() && source.back() == '/') source.pop_back();
    return source;
}

// `target:` for the sync actions: where `path` lands; for a file, the directory it lands in.
Result<std::string> sync_target(Context& context, const YAML::Node& rule, const std::string& at,
                                const std::string& action, const std::string& source, bool is_file) {
    if (!rule["target"])
        return context.error(ErrorCode::missing_field, rule, at, fmt::format("'action: {}' needs 'target:'", action));
    auto target = scalar(context, rule["target"], at + ".target");
    if (!target) return target.error();
    if (!is_file) return *target;
    const std::filesystem::path file(*target);
    const std::string name = std::filesystem::path(source).filename().string();
    if (file.filename() != name)
        return context.invalid(rule["target"], at + ".target",
                               fmt::format("tandem syncs '{}' under its own name: write a target ending in '/{}'", source,
                                           name));
    const std::string place = file.parent_path().generic_string();
    return place.empty() ? std::string("/") : place;
}

// sync+exec's `exec: {command}`, as the shell line a sync rule runs in the container.
Result<std::string> exec_command(Context& context, const YAML::Node& rule, const std::string& at) {
    const YAML::Node exec = rule["exec"];
    if (!exec || !exec.IsMap() || !exec["command"])
        return context.error(ErrorCode::missing_field, exec && exec.IsMap() ? exec : rule, at,
                             "'action: sync+exec' needs 'exec: {command: ...}'");
    auto command = string_list(context, exec["command"], at + ".exec.command");
    if (!command) return command.error();
    if (command->empty() || command->front().empty())
        return context.invalid(exec["command"], at + ".exec.command", "the command is empty");
    for (auto key = exec.begin(); key != exec.end(); ++key)
        if (key->first.Scalar() != "command")
            context.warn(key->first, at + ".exec." + key->first.Scalar(),
                         "ignored: the command runs in the container as the service's user, in its working dir, with "
                         "its env",
                         ErrorCode::unknown_key);
    return exec["command"].IsScalar() ? command->front() : words_as_shell(*command);
}

// `ignore:` patterns (gitignore-like, relative to `path`) as globs relative to the project root: a
// pattern without '/' matches at any depth, one with '/' from `path`; each also covers what is below.
Result<YAML::Node> ignore_globs(Context& context, const YAML::Node& ignore, const std::string& at,
                                const std::string& source) {
    auto patterns = string_list(context, ignore, at + ".ignore");
    if (!patterns) return patterns.error();
    YAML::Node globs(YAML::NodeType::Sequence);
    const std::string base = source.empty() ? "" : source + "/";
    for (std::string pattern : *patterns) {
        while (!pattern.empty() && pattern.back() == '/') pattern.pop_back();
        if (pattern.empty()) continue;
        const bool anchored = pattern.find('/') != std::string::npos;
        if (pattern[0] == '/') pattern.erase(0, 1);
        const std::string glob = anchored ? base + pattern : base + "**/" + pattern;
        globs.push_back(glob);
        globs.push_back(glob + "/**");
    }
    return globs;
}

Result<YAML::Node> translate_rule(Context& context, const YAML::Node& rule, const std::string& at) {
    if (!rule.IsMap()) return context.invalid(rule, at, "expected a mapping (path, action, target, ignore)");
    if (auto status = check_rule_keys(context, rule, at); !status) return status.error();
    auto source = watched_path(context, rule, at);
    if (!source) return source.error();
    if (!rule["action"]) return context.error(ErrorCode::missing_field, rule, at, "a watch rule needs 'action:'");
    const std::string action = rule["action"].IsScalar() ? rule["action"].Scalar() : "";
    if (action != "sync" && action != "rebuild" && action != "sync+restart" && action != "restart" && action != "sync+exec")
        return context.invalid(rule["action"], at + ".action",
                               fmt::format("unknown action '{}' (sync, rebuild, sync+restart, restart or sync+exec)", action));
    const bool is_file = !source->empty() && static_cast<bool>(context.read(*source));
    YAML::Node out(YAML::NodeType::Map);
    out["paths"] = is_file ? *source : source->empty() ? std::string("**") : *source + "/**";
    out["action"] = action == "sync+exec" ? std::string("sync") : action;
    if (action.rfind("sync", 0) == 0) {
        auto target = sync_target(context, rule, at, action, *source, is_file);
        if (!target) return target.error();
        out["target"] = *target;
    }
    if (action == "sync+exec") {
        auto command = exec_command(context, rule, at);
        if (!command) return command.error();
        out["command"] = *command;
    }
    if (const YAML::Node ignore = rule["ignore"]; ignore && !ignore.IsNull()) {
        auto globs = ignore_globs(context, ignore, at, *source);
        if (!globs) return globs.error();
        out["ignore"] = *globs;
    }
    return out;
}

}  // namespace

Status translate_watch(Context& context, const std::string& path, const YAML::Node& develop, YAML::Node& body) {
    if (!develop.IsMap()) return context.invalid(develop, path, "expected a mapping (watch)");
    for (auto it = develop.begin(); it != develop.end(); ++it)
        if (it->first.Scalar() != "watch")
            context.warn(it->first, path + "." + it->first.Scalar(), "ignored", ErrorCode::unknown_key);
    const YAML::Node rules = develop["watch"];
    if (!rules || rules.IsNull()) return Ok{};
    if (!rules.IsSequence()) return context.invalid(rules, path + ".watch", "expected a list of watch rules");
    YAML::Node out(YAML::NodeType::Sequence);
    for (std::size_t i = 0; i < rules.size(); ++i) {
        auto rule = translate_rule(context, rules[i], fmt::format("{}.watch.{}", path, i));
        if (!rule) return rule.error();
        out.push_back(*rule);
    }
    if (out.size() > 0) body["watch"] = out;
    return Ok{};
}

}  // namespace tandem::config::compose
