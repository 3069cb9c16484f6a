// Where a command's project comes from: files on disk, or a commit of a git repository.
#include "frontend/project_input.hpp"

#include <tandem/git_tree.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace tandem::cli {

namespace fs = std::filesystem;

namespace {

// Errors found inside a commit say which commit, so that nobody edits the work tree in vain.
Error at_commit(Error error, const std::string& commit) {
    if (error.message.find("at commit ") == std::string::npos)
        error.message += fmt::format(" (in commit {})", commit.substr(0, 12));
    return error;
}

Result<GitLocation> git_location(const Options& options) {
    if (!options.repo) return GitTree::locate(project_dir(options), options.ref.value_or("HEAD"));
    GitLocation given;
    given.repository = *options.repo;
    given.ref = options.ref.value_or("HEAD");
    given.project_dir = fs::path(options.file).parent_path().generic_string();
    return given;
}

Result<GitTree> open_tree(const Options& options) {
    auto location = git_location(options);
    if (!location) return location.error();
    return GitTree::open(*location);
}

Result<ProjectInput> load_from_disk(const Options& options, const ToolDefaults& tool) {
    auto project = load_project(project_dir(options), project_options(options, tool));
    if (!project) return project.error();
    return ProjectInput{std::move(*project), options.file, ""};
}

Result<ProjectInput> load_from_git(const Options& options, const ToolDefaults& tool) {
    auto location = git_location(options);
    if (!location) return location.error();
    auto tree = GitTree::open(*location);
    if (!tree) return tree.error();
    auto project = load_project(tree->reader(), project_options(options, tool));
    if (!project) return at_commit(project.error(), tree->commit());
    if (project->spec.project.empty()) {
        const fs::path named = location->project_dir.empty() ? fs::absolute(location->repository)
                                                             : fs::path(location->project_dir);
        project->spec.project = named.lexically_normal().filename().string();
    }
    return ProjectInput{std::move(*project), options.file, tree->commit()};
}

}  // namespace

ProjectOptions project_options(const Options& options, const ToolDefaults& tool) {
    ProjectOptions out;
    out.config_path = fs::path(options.file).filename().string();
    const fs::path root = fs::absolute(project_dir(options)).lexically_normal();
    for (const auto& file : options.more_files)
        out.more_files.push_back(fs::absolute(file).lexically_normal().lexically_relative(root).generic_string());
    out.profiles = options.profiles;
    out.policy = options.policy;
    out.default_policy = tool.default_policy;
    return out;
}

fs::path project_dir(const Options& options) {
    const fs::path dir = fs::path(options.file).parent_path();
    return dir.empty() ? fs::path(".") : dir;
}

Result<ProjectInput> load_input(const Options& options, const ToolDefaults& tool) {
    auto input = options.source == SourceKind::git ? load_from_git(options, tool) : load_from_disk(options, tool);
    if (!input) return input;
    if (input->file.empty() && !input->project.files.empty())
        input->file = (project_dir(options) / input->project.files.front()).lexically_normal().generic_string();
    if (options.output != OutputFormat::json)
        for (const Error& warning : input->project.warnings) std::cerr << "warning: " << warning.to_string() << "\n";
    return input;
}

Result<std::string> convert_input(const Options& options, const ToolDefaults& tool) {
    if (options.source == SourceKind::git) {
        auto tree = open_tree(options);
        if (!tree) return tree.error();
        auto text = to_tandem_yaml(tree->reader(), project_options(options, tool));
        if (!text) return at_commit(text.error(), tree->commit());
        return text;
    }
    return to_tandem_yaml(disk_reader(project_dir(options)), project_options(options, tool));
}

Result<Observed> load_observed(const Options& options) {
    if (!options.observed) return Observed{};
    std::ifstream in(*options.observed, std::ios::binary);
    if (!in) return make_error(ErrorCode::io, fmt::format("cannot read '{}' (given to --observed)", *options.observed));
    std::stringstream text;
    text << in.rdbuf();
    return observed_from_json(text.str(), *options.observed);
}

}  // namespace tandem::cli
