// Finding the engine's state directory by walking up from the project directory.
#include "frontend/engine_location.hpp"

#include <fmt/format.h>

namespace tandem::cli {

namespace fs = std::filesystem;

namespace {

// "/a/b, /a, /": the directories searched, nearest first.
std::string checked_list(const EngineLocation& where) {
    std::vector<std::string> dirs;
    for (const auto& dir : where.checked) dirs.push_back(dir.string());
    return fmt::format("{}", fmt::join(dirs, ", "));
}

bool present(const fs::path& path) {
    std::error_code ec;
    return fs::exists(path, ec);
}

fs::path project_start(const Options& options) {
    const auto dir = fs::path(options.file).parent_path();
    fs::path start = fs::absolute(dir.empty() ? fs::path(".") : dir).lexically_normal();
    if (!start.has_filename() && start.has_relative_path()) start = start.parent_path();  // "/a/b/" -> "/a/b"
    return start;
}

}  // namespace

EngineLocation find_engine(const fs::path& start, const std::string& name) {
    EngineLocation found;
    std::optional<fs::path> records;
    for (fs::path dir = start;; dir = dir.parent_path()) {
        found.checked.push_back(dir);
        if (present(dir / name / "control.sock")) {
            found.state_dir = dir / name;
            found.running = true;
            return found;
        }
        if (!records && present(dir / name)) records = dir / name;
        if (!dir.has_relative_path()) break;  // the root
    }
    found.state_dir = records.value_or(start / name);
    return found;
}

EngineLocation locate_release_state(const Options& options) {
    if (options.state_dir) {
        const auto dir = fs::absolute(*options.state_dir).lexically_normal();
        return EngineLocation{dir, present(dir / "control.sock"), {}};
    }
    return find_engine(project_start(options), ".shipper");
}

EngineLocation locate_engine(const Options& options, const ToolDefaults&) {
    if (options.state_dir) return locate_release_state(options);
    // The engine of the command line's source first (git: `run`'s .shipper/, disk: `up`'s
    // .tandem/), then a running engine of the other.
    const bool git = options.source == SourceKind::git;
    EngineLocation release = locate_release_state(options);
    EngineLocation project = find_engine(project_start(options), ".tandem");
    EngineLocation& own = git ? release : project;
    EngineLocation& other = git ? project : release;
    return own.running || !other.running ? own : other;
}

Error no_engine_found(const EngineLocation& where, const Options& options, const ToolDefaults& tool) {
    const bool git = options.source == SourceKind::git;
    const std::string start = "`" + tool.program + (git ? " run`" : " up`");
    if (where.checked.empty())
        return make_error(ErrorCode::io,
                          fmt::format("no engine is running for this state directory (no socket at {}): start one with {}",
                                      (where.state_dir / "control.sock").string(), start));
    const std::string names = git ? ".shipper/control.sock (or .tandem/control.sock)" : ".tandem/control.sock";
    return make_error(ErrorCode::io,
                      fmt::format("no engine is running for this project: no {} in {}{} (start one with {}, or give "
                                  "--state-dir DIR)",
                                  names, checked_list(where), git ? "" : " (nor .shipper/control.sock)", start));
}

// " (looked for .shipper in /a/b, /a, /; give --state-dir DIR)" when the state directory was
// searched for and not found; "" otherwise.
std::string where_looked(const EngineLocation& where) {
    std::error_code ec;
    if (where.checked.empty() || std::filesystem::exists(where.state_dir, ec)) return {};
    return fmt::format(" (looked for .shipper/ in {}; give --state-dir DIR)", checked_list(where));
}

}  // namespace tandem::cli
