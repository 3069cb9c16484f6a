// load_project and disk_reader: tandem.yaml, its policy sets, the active set and its overrides.
#include <tandem/project.hpp>

#include "config/project_document.hpp"
#include "config/spec_parser.hpp"
#include "support/path_inside.hpp"
#include "support/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tandem {

namespace {

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) out += (out.empty() ? "" : ", ") + word;
    return out;
}

std::string suggestion(const std::string& name, const std::vector<std::string>& names) {
    return did_you_mean(name, std::vector<std::string_view>(names.begin(), names.end()));
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// A reader's error, made to name the file when the reader did not.
Error read_error(Error error, const std::string& path) {
    if (error.message.find(path) == std::string::npos)
        error.message = fmt::format("cannot read '{}': {}", path, error.message);
    return error;
}

Status add_project_policies(PolicyCatalog& catalog, const config::ParsedSpec& parsed,
                            const config::ProjectDocument& source, const FileReader& read) {
    for (const auto& entry : parsed.policies) {
        if (!entry.file) {
            // Inline: read again from the text it was written in, so errors keep its lines.
            const auto written = source.policies.find(entry.name);
            const Status status =
                written != source.policies.end()
                    ? catalog.add_yaml(written->second.text, written->second.file, entry.name, written->second.key_path)
                    : catalog.add_yaml(source.text, parsed.spec.file, entry.name, "policies." + entry.name);
            if (!status) return status;
            continue;
        }
        auto text = read(*entry.file);
        if (!text) {
            Error error = read_error(text.error(), *entry.file);
            error.message = fmt::format("'policies.{}': {}", entry.name, error.message);
            error.location = entry.location;
            return error;
        }
        if (auto status = catalog.add_yaml(*text, *entry.file, entry.name); !status) return status;
    }
    // Every set resolves, in use or not: a bad `from:` should not wait for the day it is chosen.
    for (const auto& name : catalog.names()) {
        if (auto set = catalog.resolve(name); !set) return set.error();
    }
    return Ok{};
}

struct ActiveSet {
    std::string name;
    PolicyChoice choice = PolicyChoice::default_;
};

Result<ActiveSet> choose_policy(const PolicyCatalog& catalog, const config::ParsedSpec& parsed,
                                const ProjectOptions& options) {
    const std::vector<std::string> names = catalog.names();
    // The file's `policy:` must name a set even when --policy wins over it.
    if (parsed.spec.policy && !contains(names, *parsed.spec.policy))
        return make_error(ErrorCode::unknown_policy,
                          fmt::format("'policy': unknown policy set '{}'{}; the sets are: {}", *parsed.spec.policy,
                                      suggestion(*parsed.spec.policy, names), joined(names)),
                          parsed.policy_location);
    if (options.policy) {
        if (!contains(names, *options.policy))
            return make_error(ErrorCode::unknown_policy,
                              fmt::format("--policy: unknown policy set '{}'{}; the sets are: {}", *options.policy,
                                          suggestion(*options.policy, names), joined(names)));
        return ActiveSet{*options.policy, PolicyChoice::flag};
    }
    if (parsed.spec.policy) return ActiveSet{*parsed.spec.policy, PolicyChoice::file};
    if (options.default_policy.empty())
        return make_error(
            ErrorCode::missing_field,
            fmt::format("no policy set chosen: write 'policy: NAME' in {} or pass --policy NAME; the sets are: {}",
                        parsed.spec.file, joined(names)),
            SourceLocation{parsed.spec.file});
    if (!contains(names, options.default_policy))
        return make_error(ErrorCode::unknown_policy, fmt::format("unknown default policy set '{}'; the sets are: {}",
                                                                 options.default_policy, joined(names)));
    return ActiveSet{options.default_policy, PolicyChoice::default_};
}

Status check_override_sets(const PolicyCatalog& catalog, const config::ParsedSpec& parsed) {
    const std::vector<std::string> names = catalog.names();
    for (std::size_t i = 0; i < parsed.sources.size(); ++i) {
        const config::ServiceSource& source = parsed.sources[i];
        for (const auto& entry : source.overrides) {
            if (contains(names, entry.key)) continue;
            return make_error(ErrorCode::unknown_policy,
                              fmt::format("'{}.overrides': unknown policy set '{}'{}; the sets are: {}",
                                          source.where.path, entry.key, suggestion(entry.key, names), joined(names)),
                              yaml::location(entry.key_node, source.where.file));
        }
    }
    return Ok{};
}

// Applies the overrides of every set in `lineage` (the active set first), base first.
Status apply_lineage_overrides(config::ParsedSpec& parsed, const std::vector<std::string>& lineage) {
    for (auto set = lineage.rbegin(); set != lineage.rend(); ++set) {
        for (std::size_t i = 0; i < parsed.spec.services.size(); ++i) {
            const config::Fields& overrides = parsed.sources[i].overrides;
            const auto entry = std::find_if(overrides.begin(), overrides.end(),
                                            [&](const config::Field& field) { return field.key == *set; });
            if (entry == overrides.end()) continue;
            const config::Field body = *entry;
            config::ParsedService service{parsed.spec.services[i], parsed.sources[i]};
            if (auto status = config::apply_override(service, body); !status) return status;
            parsed.spec.services[i] = std::move(service.spec);
            parsed.sources[i] = std::move(service.source);
        }
    }
    return config::check_spec(parsed);
}

Result<Project> load_parsed(const FileReader& read, const ProjectOptions& options, config::ProjectDocument& source) {
    auto parsed = config::parse_spec_document(source.document, source.file);
    if (!parsed) return parsed.error();
    Project project;
    if (auto status = add_project_policies(project.catalog, *parsed, source, read); !status) return status.error();
    auto active = choose_policy(project.catalog, *parsed, options);
    if (!active) return active.error();
    if (auto status = check_override_sets(project.catalog, *parsed); !status) return status.error();
    auto policy = project.catalog.resolve(active->name);
    if (!policy) return policy.error();
    auto lineage = project.catalog.lineage(active->name);
    if (!lineage) return lineage.error();
    if (auto status = apply_lineage_overrides(*parsed, *lineage); !status) return status.error();
    project.spec = std::move(parsed->spec);
    project.policy = std::move(*policy);
    project.policy_choice = active->choice;
    for (const auto& entry : parsed->policies)
        if (entry.file) project.files.push_back(*entry.file);
    return project;
}

// A second copy's name and ports (ProjectInstance). Without `project:` the instance's name, if
// it has one; else the caller's default stands (a directory's name; a release's is its commit id).
Status apply_instance(Spec& spec, const ProjectInstance& instance) {
    if (!spec.project.empty()) spec.project += instance.suffix;
    else spec.project = instance.name;
    if (!instance.port) return Ok{};
    for (auto& service : spec.services) {
        if (service.port != 0) {
            // A container keeps listening where it did: only what is published moves.
            if (service.container && service.container->port == 0) service.container->port = service.port;
            auto port = instance.port(service.name, service.port);
            if (!port) return port.error();
            service.port = *port;
        }
        if (!service.container) continue;
        for (auto& [published, listening] : service.container->extra_ports) {
            auto port = instance.port(service.name, published);
            if (!port) return port.error();
            published = *port;
        }
    }
    return Ok{};
}

Result<Project> load(const FileReader& read, const ProjectOptions& options) {
    auto source = config::read_project_document(read, options);
    if (!source) return source.error();
    auto project = load_parsed(read, options, *source);
    if (!project) return source->relocate ? source->relocate(project.error()) : project.error();
    if (options.instance)
        if (auto status = apply_instance(project->spec, *options.instance); !status) return status.error();
    project->warnings = std::move(source->warnings);
    project->files.insert(project->files.begin(), source->files.begin(), source->files.end());
    return project;
}

std::string directory_name(const std::filesystem::path& root) {
    const std::filesystem::path absolute = std::filesystem::absolute(root).lexically_normal();
    const std::filesystem::path name = absolute.has_filename() ? absolute.filename() : absolute.parent_path().filename();
    return name.string();
}

}  // namespace

Result<Project> load_project(const FileReader& read, const ProjectOptions& options) {
    try {
        return load(read, options);
    } catch (const YAML::Exception& e) {
        return make_error(ErrorCode::syntax, "invalid YAML: " + e.msg, SourceLocation{options.config_path});
    }
}

Result<std::string> to_tandem_yaml(const FileReader& read, const ProjectOptions& options) {
    auto source = config::read_project_document(read, options);
    if (!source) return source.error();
    if (source->format == "tandem") return source->text;
    // Loads as it would run: what does not load is not printed.
    if (auto project = load_parsed(read, options, *source); !project)
        return source->relocate ? source->relocate(project.error()) : project.error();
    YAML::Emitter out;
    out.SetIndent(2);
    out << source->document;
    if (!out.good()) return make_error(ErrorCode::invalid_value, "cannot write the document: " + out.GetLastError());
    std::string files;
    for (const auto& file : source->files) files += (files.empty() ? "" : ", ") + file;
    return fmt::format("# tandem.yaml converted from {} (read: {}), with its variables as they were then\n{}\n",
                       source->file, files, out.c_str());
}

Result<Project> load_project(const std::filesystem::path& root, const ProjectOptions& options) {
    auto project = load_project(disk_reader(root), options);
    if (project && project->spec.project.empty()) project->spec.project = directory_name(root);
    return project;
}

FileReader disk_reader(const std::filesystem::path& root) {
    return [root](const std::string& relative) -> Result<std::string> {
        const InsideRoot inside = inside_root(relative);
        if (inside.refusal == InsideRoot::Refusal::empty)
            return make_error(ErrorCode::io, "cannot read a file with an empty path");
        if (inside.refusal == InsideRoot::Refusal::absolute)
            return make_error(
                ErrorCode::io,
                fmt::format("refusing to read '{}': paths are relative to the project root, not absolute", relative));
        if (!inside)
            return make_error(ErrorCode::io,
                              fmt::format("refusing to read '{}': it leaves the project root", relative));
        const std::filesystem::path full = root / inside.path;
        std::error_code ec;
        if (std::filesystem::is_directory(full, ec))
            return make_error(ErrorCode::io, fmt::format("cannot read '{}': it is a directory", relative));
        std::FILE* file = std::fopen(full.c_str(), "rb");
        if (!file)
            return make_error(ErrorCode::io,
                              fmt::format("cannot read '{}' ({}): {}", relative, full.string(), std::strerror(errno)));
        std::string text;
        char buffer[8192];
        std::size_t got = 0;
        while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, got);
        const bool failed = std::ferror(file) != 0;
        std::fclose(file);
        if (failed) return make_error(ErrorCode::io, fmt::format("cannot read '{}' ({})", relative, full.string()));
        return text;
    };
}

}  // namespace tandem
