// Compose files before translation: each read and parsed (within the YAML limits), its values'
// variables substituted, its `<<` merge keys resolved, and the files merged in order by
// compose's rules (`!reset` and `!override` honoured).
#include "config/compose_files.hpp"

#include "support/yaml_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace tandem::config::compose {

namespace {

constexpr int kMaxDepth = 128;
// What substitution may add to a document: as much as the YAML limits allow its scalars.
constexpr std::size_t kMaxSubstitutedBytes = std::size_t{16} << 20;

struct Substitution {
    std::set<std::size_t> done;  // the scalars substituted, by offset
    std::size_t bytes = 0;       // the bytes of the values they became
};

// Substitutes variables in every scalar value (not keys), each node once: an alias repeats its
// anchor's node, which must not be substituted twice (`$$` would become a variable).
// Whether `text` uses `name` plainly ($NAME or ${NAME}), with no default or alternative.
bool plain_use(const std::string& text, const std::string& name) {
    if (text.find("${" + name + "}") != std::string::npos) return true;
    for (std::size_t at = text.find("$" + name); at != std::string::npos; at = text.find("$" + name, at + 1)) {
        if (at > 0 && text[at - 1] == '$') continue;
        const std::size_t end = at + 1 + name.size();
        if (end == text.size() || !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) return true;
    }
    return false;
}

Status interpolate_node(Context& context, YAML::Node node, const std::string& file, Substitution& done, int depth) {
    if (depth > kMaxDepth) return Ok{};
    if (node.IsScalar()) {
        const std::size_t offset = static_cast<std::size_t>(node.Mark().pos);
        if (node.Mark().pos >= 0 && !done.done.insert(offset).second) return Ok{};
        const std::string text = node.Scalar();
        if (text.find('$') == std::string::npos) return Ok{};
        std::vector<std::string> unset;
        auto value = interpolate(text, [&](const std::string& name) {
            auto found = context.variable(name);
            if (!found) unset.push_back(name);
            return found;
        });
        if (!value) {
            Error error = value.error();
            error.location = yaml::location(node, file);
            error.message = fmt::format("'{}': {}", text.substr(0, 200), error.message);
            return error;
        }
        done.bytes += value->size();
        if (done.bytes > kMaxSubstitutedBytes)
            return make_error(ErrorCode::syntax,
                              fmt::format("the document's values expand to more than {} bytes once variables are "
                                          "substituted (the limit)",
                                          kMaxSubstitutedBytes),
                              yaml::location(node, file));
        // As compose does: an unset variable written without a default is said, once.
        for (const auto& name : unset)
            if (plain_use(text, name))
                context.warn(node, "",
                             fmt::format("the variable {} is not set: it is substituted as an empty string (set it in "
                                         "the environment or .env, or write ${{{}:-default}})",
                                         name, name));
        node = *value;
        return Ok{};
    }
    if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i)
            if (auto status = interpolate_node(context, node[i], file, done, depth + 1); !status) return status;
    }
    if (node.IsMap()) {
        for (auto it = node.begin(); it != node.end(); ++it)
            if (auto status = interpolate_node(context, it->second, file, done, depth + 1); !status) return status;
    }
    return Ok{};
}

// Each mapping's `<<: *anchor` (or `<<: [*a, *b]`) merged into it, in place (so the mapping keeps
// its line and column): keys written in the mapping win, then the first merged mapping's.
Status resolve_merge_keys(const Context& context, YAML::Node node, int depth) {
    if (depth > kMaxDepth) return Ok{};
    if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i)
            if (auto status = resolve_merge_keys(context, node[i], depth + 1); !status) return status;
        return Ok{};
    }
    if (!node.IsMap()) return Ok{};
    std::vector<YAML::Node> merged;
    for (auto it = node.begin(); it != node.end(); ++it) {
        if (!(it->first.IsScalar() && it->first.Scalar() == "<<")) {
            if (auto status = resolve_merge_keys(context, it->second, depth + 1); !status) return status;
            continue;
        }
        const YAML::Node from = it->second;
        if (from.IsMap()) merged.push_back(from);
        else if (from.IsSequence())
            for (std::size_t i = 0; i < from.size(); ++i) merged.push_back(from[i]);
        for (const auto& each : merged)
            if (!each.IsMap()) return context.invalid(it->first, "<<", "a merge key takes a mapping or a list of mappings");
    }
    if (merged.empty()) return Ok{};
    node.remove("<<");
    for (const auto& from : merged) {
        if (auto status = resolve_merge_keys(context, from, depth + 1); !status) return status;
        for (auto it = from.begin(); it != from.end(); ++it)
            if (!has(node, it->first.Scalar())) node[it->first] = it->second;
    }
    return Ok{};
}

bool appended(const std::string& key) {
    static const std::set<std::string> keys = {"ports", "expose", "env_file", "dns", "dns_search", "tmpfs",
                                               "external_links", "cap_add", "cap_drop", "devices", "group_add"};
    return keys.count(key) > 0;
}

bool keyed_by_target(const std::string& key) { return key == "volumes" || key == "secrets" || key == "configs"; }

// The target a volume (or secret, config) mounts at, for merging by it.
std::string mount_target(const YAML::Node& entry) {
    if (entry.IsMap()) {
        if (entry["target"]) return entry["target"].Scalar();
        if (entry["source"]) return entry["source"].Scalar();
        return "";
    }
    const std::string text = entry.Scalar();
    const auto first = text.find(':');
    if (first == std::string::npos) return text;
    const auto second = text.find(':', first + 1);
    return text.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

// Mappings written as lists (`environment: [A=1]`) as mappings, so two files merge by key.
YAML::Node as_mapping(const YAML::Node& node, char sep) {
    if (!node.IsSequence()) return node;
    YAML::Node out(YAML::NodeType::Map);
    for (std::size_t i = 0; i < node.size(); ++i) {
        if (!node[i].IsScalar()) return node;
        const std::string text = node[i].Scalar();
        const auto at = text.find(sep);
        if (at == std::string::npos) out[text] = YAML::Node(YAML::NodeType::Null);
        else out[text.substr(0, at)] = text.substr(at + 1);
    }
    return out;
}

bool is_mapping_key(const std::string& key) {
    return key == "environment" || key == "labels" || key == "args" || key == "depends_on" || key == "networks" ||
           key == "annotations" || key == "extra_hosts";
}

YAML::Node normalized(const std::string& key, const YAML::Node& node) {
    if (!is_mapping_key(key)) return node;
    if (key == "depends_on" || key == "networks") {
        if (!node.IsSequence()) return node;
        YAML::Node out(YAML::NodeType::Map);
        // The names written keep their places: each becomes its key.
        for (std::size_t i = 0; i < node.size(); ++i)
            if (node[i].IsScalar()) out[node[i]] = YAML::Node(YAML::NodeType::Map);
        return out;
    }
    // extra_hosts takes HOST:IP and HOST=IP (an IPv6 address holds ':').
    if (key == "extra_hosts" && node.IsSequence()) {
        YAML::Node out(YAML::NodeType::Map);
        for (std::size_t i = 0; i < node.size(); ++i) {
            if (!node[i].IsScalar()) return node;
            const std::string text = node[i].Scalar();
            const auto at = text.find('=') != std::string::npos ? text.find('=') : text.find(':');
            if (at == std::string::npos) return node;
            out[text.substr(0, at)] = text.substr(at + 1);
        }
        return out;
    }
    return as_mapping(node, '=');
}

YAML::Node merge(const std::string& key, const YAML::Node& base, const YAML::Node& over);

YAML::Node merge_sequences(const std::string& key, const YAML::Node& base, const YAML::Node& over) {
    if (!appended(key) && !keyed_by_target(key)) return over;
    YAML::Node out(YAML::NodeType::Sequence);
    std::vector<std::string> seen;
    auto identity = [&](const YAML::Node& entry) {
        if (keyed_by_target(key)) return mount_target(entry);
        return entry.IsScalar() ? entry.Scalar() : YAML::Dump(entry);
    };
    // Later files win for a target they both mount.
    std::vector<YAML::Node> entries;
    for (std::size_t i = 0; i < base.size(); ++i) entries.push_back(base[i]);
    for (std::size_t i = 0; i < over.size(); ++i) {
        const std::string id = identity(over[i]);
        std::erase_if(entries, [&](const YAML::Node& entry) { return keyed_by_target(key) && identity(entry) == id; });
        entries.push_back(over[i]);
    }
    for (const auto& entry : entries) {
        const std::string id = identity(entry);
        if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
        seen.push_back(id);
        out.push_back(entry);
    }
    return out;
}

YAML::Node merge(const std::string& key, const YAML::Node& base_in, const YAML::Node& over_in) {
    if (over_in.Tag() == "!override" || !base_in) return over_in;
    const YAML::Node base = normalized(key, base_in);
    const YAML::Node over = normalized(key, over_in);
    if (base.IsSequence() && over.IsSequence()) return merge_sequences(key, base, over);
    if (!base.IsMap() || !over.IsMap()) return over;
    YAML::Node out(YAML::NodeType::Map);
    for (auto it = base.begin(); it != base.end(); ++it) {
        const std::string name = it->first.Scalar();
        const YAML::Node theirs = over[name];
        if (!theirs) {
            out[it->first] = it->second;
            continue;
        }
        if (theirs.Tag() == "!reset") continue;
        out[it->first] = merge(name, it->second, theirs);
    }
    for (auto it = over.begin(); it != over.end(); ++it) {
        if (base[it->first.Scalar()] || it->second.Tag() == "!reset") continue;
        out[it->first] = it->second;
    }
    return out;
}

}  // namespace

void NodeFiles::add(const YAML::Node& root, const std::string& file) { add_node(root, file, 0); }

void NodeFiles::add_node(const YAML::Node& node, const std::string& file, int depth) {
    if (depth > kMaxDepth || !node) return;
    const YAML::Mark mark = node.Mark();
    if (mark.pos >= 0) {
        by_offset_.emplace(static_cast<std::size_t>(mark.pos), std::make_pair(node, file));
        by_position_[{mark.line + 1, mark.column + 1}].insert(file);
    }
    if (node.IsSequence())
        for (std::size_t i = 0; i < node.size(); ++i) add_node(node[i], file, depth + 1);
    if (node.IsMap())
        for (auto it = node.begin(); it != node.end(); ++it) {
            add_node(it->first, file, depth + 1);
            add_node(it->second, file, depth + 1);
        }
}

std::string NodeFiles::file_of(const YAML::Node& node, const std::string& fallback) const {
    if (!node || node.Mark().pos < 0) return fallback;
    const auto [first, last] = by_offset_.equal_range(static_cast<std::size_t>(node.Mark().pos));
    for (auto it = first; it != last; ++it)
        if (it->second.first.is(node)) return it->second.second;
    return fallback;
}

std::vector<std::string> NodeFiles::files_at(int line, int column) const {
    const auto found = by_position_.find({line, column});
    if (found == by_position_.end()) return {};
    return {found->second.begin(), found->second.end()};
}

SourceLocation Context::at(const YAML::Node& node) const { return yaml::location(node, files.file_of(node, file)); }

void Context::warn(const YAML::Node& node, const std::string& path, const std::string& what, ErrorCode code) {
    const std::string message = path.empty() ? what : fmt::format("'{}': {}", path, what);
    if (!warned.insert(message).second) return;
    warnings.push_back(make_error(code, message, at(node)));
}

Error Context::error(ErrorCode code, const YAML::Node& node, const std::string& path, const std::string& what) const {
    return make_error(code, path.empty() ? what : fmt::format("'{}': {}", path, what), at(node));
}

std::optional<std::string> Context::variable(const std::string& name) const {
    if (environment)
        if (auto value = environment(name)) return value;
    const auto found = dotenv.find(name);
    if (found == dotenv.end()) return std::nullopt;
    return found->second;
}

Result<YAML::Node> read_compose_file(Context& context, const std::string& file) {
    auto text = context.read(file);
    if (!text) {
        Error error = text.error();
        if (error.message.find(file) == std::string::npos)
            error.message = fmt::format("cannot read '{}': {}", file, error.message);
        return error;
    }
    context.files_read.push_back(file);
    context.texts[file] = *text;
    auto root = yaml::parse(*text, file);
    if (!root) return root.error();
    if (root->IsNull())
        return make_error(ErrorCode::missing_field, "the file is empty; a compose file needs 'services:'",
                          SourceLocation{file, 0, 0});
    if (!root->IsMap())
        return make_error(ErrorCode::invalid_value, "a compose file is a mapping (services:, volumes:, ...)",
                          yaml::location(*root, file));
    context.files.add(*root, file);
    Substitution done;
    if (auto status = interpolate_node(context, *root, file, done, 0); !status) return status.error();
    if (auto status = resolve_merge_keys(context, *root, 0); !status) return status.error();
    return root;
}

Result<std::string> read_small_file(const FileReader& read, const std::string& file) {
    auto text = read(file);
    if (!text) return text;
    if (text->size() > kMaxSmallFileBytes)
        return make_error(ErrorCode::syntax,
                          fmt::format("'{}' is {} bytes, more than {} (the limit for an env file or Procfile)", file,
                                      text->size(), kMaxSmallFileBytes),
                          SourceLocation{file, 0, 0});
    return text;
}

Status read_dotenv(Context& context) {
    auto text = read_small_file(context.read, ".env");
    if (!text && text.error().code != ErrorCode::syntax) return Ok{};  // no .env: nothing to read
    if (!text) return text.error();
    context.files_read.push_back(".env");
    auto variables = parse_env_file(*text, [&](const std::string& name) {
        return context.environment ? context.environment(name) : std::nullopt;
    });
    if (!variables) {
        Error error = variables.error();
        error.location = SourceLocation{".env", 0, 0};
        return error;
    }
    context.dotenv = std::move(*variables);
    return Ok{};
}

YAML::Node merge_files(const std::vector<YAML::Node>& roots) {
    // yaml-cpp's `=` between nodes rebinds the node both handles share: reset() moves the handle.
    YAML::Node merged;
    merged.reset(roots.front());
    for (std::size_t i = 1; i < roots.size(); ++i) merged.reset(merge("", merged, roots[i]));
    return merged;
}

}  // namespace tandem::config::compose

namespace tandem::config {

std::optional<std::string> compose_override_file(const FileReader& read, const std::string& file) {
    const std::filesystem::path path(file);
    const std::string stem = path.stem().string();  // "compose", "docker-compose"
    const std::filesystem::path dir = path.parent_path();
    for (const char* extension : {".yaml", ".yml"}) {
        const std::string candidate = (dir / (stem + ".override" + extension)).generic_string();
        if (read(candidate)) return candidate;
    }
    return std::nullopt;
}

}  // namespace tandem::config
