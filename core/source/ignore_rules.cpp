// IgnoreRules: every ignore file of a project, read once, and git's precedence between them —
// built-in rules first, then the deepest directory's .tandemignore and .gitignore up to the
// root's, then .git/info/exclude — with an excluded parent directory deciding for all below it.
#include <tandem/ignore.hpp>

#include "source/gitignore_pattern.hpp"
#include "source/tree_walk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <sstream>

namespace tandem {
namespace {

namespace fs = std::filesystem;
using detail::GitignorePattern;

// The files of one directory, in rising precedence: .tandemignore overrides .gitignore.
constexpr const char* kIgnoreFileNames[] = {".gitignore", ".tandemignore"};
constexpr const char* kInfoExclude = ".git/info/exclude";

// Editor temp files and the like, as gitignore lines (`\#` escapes a leading `#`).
constexpr const char* kBuiltinLines[] = {".git",  "*.swp", "*.swx", "*.swo",          "*~",
                                         "4913",  "\\#*#", ".#*",   "*___jb_tmp___", "*___jb_old___"};

struct RuleFile {
    std::string source;  // "web/.gitignore"
    std::string base;    // the directory it applies to, relative to root ("" for the root)
    std::vector<GitignorePattern> patterns;
    std::vector<std::string> shown;  // only for built-in rules: the pattern as reported
};

std::optional<IgnoreMatch> decide_in_file(const RuleFile& file, std::string_view path, std::string_view basename,
                                          bool is_directory) {
    const std::string_view relative = file.base.empty() ? path : path.substr(file.base.size() + 1);
    for (std::size_t i = file.patterns.size(); i-- > 0;) {
        const auto& pattern = file.patterns[i];
        if (!pattern.matches(relative, basename, is_directory)) continue;
        IgnoreMatch decision;
        decision.ignored = !pattern.negated();
        decision.source = file.source;
        decision.line = pattern.line();
        decision.pattern = file.shown.empty() ? pattern.as_written() : file.shown[i];
        return decision;
    }
    return std::nullopt;
}

// All rules of a project at one moment; reload() builds a new one and swaps it in.
struct RuleSet {
    RuleFile builtin;
    std::map<std::string, std::vector<RuleFile>, std::less<>> by_directory;
    RuleFile info_exclude;

    // The decision for `path` alone, its parents not considered.
    std::optional<IgnoreMatch> decide(std::string_view path, bool is_directory) const {
        const auto slash = path.rfind('/');
        const std::string_view basename = slash == std::string_view::npos ? path : path.substr(slash + 1);
        if (auto decision = decide_in_file(builtin, path, basename, is_directory)) return decision;
        std::string_view directory = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
        while (true) {
            if (const auto it = by_directory.find(directory); it != by_directory.end()) {
                for (auto file = it->second.rbegin(); file != it->second.rend(); ++file)
                    if (auto decision = decide_in_file(*file, path, basename, is_directory)) return decision;
            }
            if (directory.empty()) break;
            const auto up = directory.rfind('/');
            directory = up == std::string_view::npos ? std::string_view() : directory.substr(0, up);
        }
        return decide_in_file(info_exclude, path, basename, is_directory);
    }

    // git's rule: an excluded parent directory decides for everything below it.
    IgnoreMatch match(std::string_view path, bool is_directory) const {
        for (auto slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', slash + 1)) {
            auto parent = decide(path.substr(0, slash), true);
            if (parent && parent->ignored) return *parent;
        }
        return decide(path, is_directory).value_or(IgnoreMatch{});
    }
};

std::vector<GitignorePattern> parse_lines(const std::string& text) {
    std::vector<GitignorePattern> patterns;
    std::string_view rest(text);
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // git skips a UTF-8 BOM
    int line = 0;
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const auto current = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
        if (auto pattern = GitignorePattern::parse(current, ++line)) patterns.push_back(std::move(*pattern));
    }
    return patterns;
}

// An unreadable or missing ignore file counts as empty, as git treats it.
std::optional<RuleFile> read_rule_file(const fs::path& file, std::string source, std::string base) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return RuleFile{std::move(source), std::move(base), parse_lines(text.str()), {}};
}

RuleFile builtin_rules(const std::vector<std::string>& state_dirs) {
    RuleFile builtin{"built-in", "", {}, {}};
    for (const char* line : kBuiltinLines) {
        builtin.patterns.push_back(*GitignorePattern::parse(line, 0));
        builtin.shown.push_back(line[0] == '\\' ? line + 1 : line);
    }
    for (std::string dir : state_dirs) {
        while (!dir.empty() && dir.back() == '/') dir.pop_back();
        if (dir.rfind("./", 0) == 0) dir.erase(0, 2);
        if (dir.empty()) continue;
        builtin.patterns.push_back(*GitignorePattern::parse(fmt::format("/{}/", dir), 0));
        builtin.shown.push_back(dir + "/");
    }
    return builtin;
}

// Reads the ignore files of every directory that is not itself ignored (git never reads the
// ones inside an ignored directory).
RuleSet read_rule_set(const fs::path& root, const std::vector<std::string>& state_dirs) {
    RuleSet rules;
    rules.builtin = builtin_rules(state_dirs);
    if (auto exclude = read_rule_file(root / kInfoExclude, kInfoExclude, "")) rules.info_exclude = std::move(*exclude);
    else rules.info_exclude.source = kInfoExclude;

    std::vector<std::string> pending{""};
    while (!pending.empty()) {
        const std::string directory = std::move(pending.back());
        pending.pop_back();
        const fs::path absolute = directory.empty() ? root : root / directory;
        for (const char* name : kIgnoreFileNames) {
            if (auto file = read_rule_file(absolute / name, detail::join_relative(directory, name), directory))
                rules.by_directory[directory].push_back(std::move(*file));
        }
        std::error_code error;
        fs::directory_iterator it(absolute, error);
        for (const auto end = fs::directory_iterator(); !error && it != end; it.increment(error)) {
            std::error_code status_error;
            if (!fs::is_directory(it->symlink_status(status_error)) || status_error) continue;
            std::string child = detail::join_relative(directory, it->path().filename().string());
            auto decision = rules.decide(child, true);  // its parents are known not to be ignored
            if (!decision || !decision->ignored) pending.push_back(std::move(child));
        }
    }
    return rules;
}

std::string_view normalize(std::string_view path) {
    while (path.substr(0, 2) == "./") path.remove_prefix(2);
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    return path;
}

}  // namespace

struct IgnoreRules::State {
    fs::path root;
    std::vector<std::string> state_dirs;
    mutable std::shared_mutex mutex;  // the watcher reloads while others may ask
    RuleSet rules;
};

IgnoreRules::IgnoreRules(std::unique_ptr<State> state) : state_(std::move(state)) {}
IgnoreRules::IgnoreRules(IgnoreRules&&) noexcept = default;
IgnoreRules& IgnoreRules::operator=(IgnoreRules&&) noexcept = default;
IgnoreRules::~IgnoreRules() = default;

Result<IgnoreRules> IgnoreRules::load(const fs::path& root, std::vector<std::string> state_dirs) {
    std::error_code error;
    const fs::path absolute = fs::absolute(root, error);
    fs::directory_iterator probe(absolute, error);
    if (error)
        return make_error(ErrorCode::io,
                          fmt::format("cannot read the project directory {}: {}", root.string(), error.message()));
    auto state = std::make_unique<State>();
    state->root = absolute;
    state->state_dirs = std::move(state_dirs);
    state->rules = read_rule_set(state->root, state->state_dirs);
    return IgnoreRules(std::move(state));
}

IgnoreMatch IgnoreRules::match(std::string_view relative_path, bool is_directory) const {
    const auto path = normalize(relative_path);
    if (path.empty()) return {};  // the root itself always counts
    std::shared_lock lock(state_->mutex);
    return state_->rules.match(path, is_directory);
}

bool IgnoreRules::is_ignore_file(std::string_view relative_path) {
    const auto path = normalize(relative_path);
    if (path == kInfoExclude) return true;
    const auto slash = path.rfind('/');
    const auto basename = slash == std::string_view::npos ? path : path.substr(slash + 1);
    return std::any_of(std::begin(kIgnoreFileNames), std::end(kIgnoreFileNames),
                       [&](const char* name) { return basename == name; });
}

Status IgnoreRules::reload() {
    std::error_code error;
    fs::directory_iterator probe(state_->root, error);
    if (error)
        return make_error(ErrorCode::io, fmt::format("cannot read the project directory {}: {}", state_->root.string(),
                                                     error.message()));
    RuleSet fresh = read_rule_set(state_->root, state_->state_dirs);
    std::unique_lock lock(state_->mutex);
    state_->rules = std::move(fresh);
    return Ok{};
}

const fs::path& IgnoreRules::root() const { return state_->root; }

std::vector<TreeEntry> list_tree(const IgnoreRules& rules, bool include_ignored) {
    std::vector<TreeEntry> entries;
    detail::walk_tree(rules, "", [&](const TreeEntry& entry) {
        if (entry.match.ignored ? include_ignored : !entry.is_directory) entries.push_back(entry);
    });
    std::sort(entries.begin(), entries.end(), [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
    return entries;
}

}  // namespace tandem
