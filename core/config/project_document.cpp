// Which file a project is read from, and its document in tandem's schema whatever its format.
#include "config/project_document.hpp"

#include "config/compose_files.hpp"
#include "config/procfile.hpp"
#include "support/yaml_fields.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace tandem {

std::string project_format(const std::string& config_path) {
    const std::string name = std::filesystem::path(config_path).filename().string();
    if (name == "Procfile" || name.rfind("Procfile.", 0) == 0) return "procfile";
    const bool yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    if (yaml && name.find("compose") != std::string::npos) return "compose";
    return "tandem";
}

}  // namespace tandem

namespace tandem::config {

namespace {

constexpr const char* kDiscovered[] = {"tandem.yaml",         "compose.yaml",        "compose.yml",
                                       "docker-compose.yaml", "docker-compose.yml", "Procfile"};

VariableLookup environment_of(const ProjectOptions& options) {
    if (options.environment) {
        return [variables = *options.environment](const std::string& name) -> std::optional<std::string> {
            const auto found = variables.find(name);
            if (found == variables.end()) return std::nullopt;
            return found->second;
        };
    }
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

Error read_error(Error error, const std::string& path) {
    if (error.message.find(path) == std::string::npos)
        error.message = fmt::format("cannot read '{}': {}", path, error.message);
    return error;
}

Result<ProjectDocument> tandem_document(const FileReader& read, const std::string& file) {
    auto text = read(file);
    if (!text) return read_error(text.error(), file);
    auto document = yaml::parse(*text, file);
    if (!document) return document.error();
    ProjectDocument out;
    out.file = file;
    out.format = "tandem";
    out.document = *document;
    out.text = std::move(*text);
    out.files = {file};
    return out;
}

Result<ProjectDocument> compose_document(const FileReader& read, const ProjectOptions& options, const std::string& file) {
    ComposeOptions compose;
    compose.files = {file};
    for (const auto& more : options.more_files)
        compose.files.push_back(std::filesystem::path(more).lexically_normal().generic_string());
    // As `docker compose` does: the override file only when no file was named.
    if (options.config_path.empty() && options.more_files.empty())
        if (auto override_file = compose_override_file(read, file)) compose.files.push_back(*override_file);
    compose.profiles = options.profiles;
    compose.environment = environment_of(options);
    auto translation = translate_compose(read, compose);
    if (!translation) return translation.error();
    ProjectDocument out;
    out.file = file;
    out.format = "compose";
    out.document = translation->document;
    out.warnings = std::move(translation->warnings);
    out.files = std::move(translation->files);
    out.policies = std::move(translation->policies);
    out.relocate = std::move(translation->relocate);
    return out;
}

Result<ProjectDocument> procfile_project(const FileReader& read, const ProjectOptions& options, const std::string& file) {
    auto text = compose::read_small_file(read, file);
    if (!text) return read_error(text.error(), file);
    ProjectDocument out;
    out.file = file;
    out.format = "procfile";
    out.files = {file};
    const VariableLookup environment = environment_of(options);
    std::map<std::string, std::string> dotenv;
    auto env_text = compose::read_small_file(read, ".env");
    if (!env_text && env_text.error().code == ErrorCode::syntax) return env_text.error();
    if (env_text) {
        auto variables = parse_env_file(*env_text, environment);
        if (!variables) {
            Error error = variables.error();
            error.location = SourceLocation{".env", 0, 0};
            return error;
        }
        dotenv = std::move(*variables);
        out.files.push_back(".env");
    }
    auto document = procfile_document(*text, file, dotenv, environment);
    if (!document) return document.error();
    out.document = document->document;
    out.warnings = std::move(document->warnings);
    return out;
}

}  // namespace

Result<std::string> find_project_file(const FileReader& read, const ProjectOptions& options) {
    if (!options.config_path.empty()) return options.config_path;
    for (const char* name : kDiscovered)
        if (read(name)) return std::string(name);
    return make_error(ErrorCode::io,
                      "no project file here: none of tandem.yaml, compose.yaml, compose.yml, docker-compose.yaml, "
                      "docker-compose.yml or Procfile (name one with -f)");
}

Result<ProjectDocument> read_project_document(const FileReader& read, const ProjectOptions& options) {
    auto file = find_project_file(read, options);
    if (!file) return file.error();
    const std::string format = project_format(*file);
    if (format != "compose" && !options.more_files.empty())
        return make_error(ErrorCode::invalid_value,
                          fmt::format("-f names {} files, but only compose files are merged; '{}' is one file",
                                      options.more_files.size() + 1, *file));
    if (format == "compose") return compose_document(read, options, *file);
    if (format == "procfile") return procfile_project(read, options, *file);
    return tandem_document(read, *file);
}

}  // namespace tandem::config
