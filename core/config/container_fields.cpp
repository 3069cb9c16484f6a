// The keys only a container service has: its image (by reference or built) and its volumes.
#include "config/container_fields.hpp"

#include "config/image_reference.hpp"
#include "config/mapping_fields.hpp"
#include "config/service_fields.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace tandem::config {

namespace {

// Docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
bool is_volume_name(std::string_view name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
    }
    return true;
}

bool is_host_path(std::string_view source) { return !source.empty() && (source[0] == '.' || source[0] == '/'); }

// The host side of a bind mount: absolute as written, or relative to the project root and inside it.
Result<std::string> bind_source(const YAML::Node& node, const yaml::Where& where, const std::string& source) {
    if (source[0] == '/') return std::filesystem::path(source).lexically_normal().generic_string();
    auto path = read_relative_path(YAML::Node(source), where);
    if (path) return path;
    Error error = path.error();
    error.location = yaml::location(node, where.file);
    return error;
}

Result<VolumeSpec> read_volume(const YAML::Node& node, const yaml::Where& where) {
    auto text = yaml::read_string(node, where);
    if (!text) return text.error();
    VolumeSpec volume;
    volume.text = *text;
    volume.location = yaml::location(node, where.file);
    const auto usage = [&](const std::string& why) {
        return yaml::invalid(node, where,
                             fmt::format("'{}': {} (write NAME:/path for a named volume, ./host/path:/path[:ro] "
                                         "for a bind mount)",
                                         *text, why));
    };
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
        const std::size_t colon = text->find(':', start);
        parts.push_back(text->substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (parts.size() < 2 || parts.size() > 3) return usage("expected SOURCE:TARGET or SOURCE:TARGET:ro");
    if (parts.size() == 3) {
        if (parts[2] != "ro" && parts[2] != "rw") return usage(fmt::format("unknown option '{}' (ro or rw)", parts[2]));
        volume.read_only = parts[2] == "ro";
    }
    if (parts[1].empty() || parts[1][0] != '/') return usage("the path inside the container must be absolute");
    volume.target = std::filesystem::path(parts[1]).lexically_normal().generic_string();
    if (volume.target.size() > 1 && volume.target.back() == '/') volume.target.pop_back();
    if (is_host_path(parts[0])) {
        auto source = bind_source(node, where, parts[0]);
        if (!source) return source.error();
        volume.kind = VolumeSpec::Kind::bind;
        volume.source = std::move(*source);
    } else {
        if (!is_volume_name(parts[0]))
            return usage(fmt::format("'{}' is neither a volume name (letters, digits, '_', '.', '-') nor a host path "
                                     "(starting with '.' or '/')",
                                     parts[0]));
        volume.kind = VolumeSpec::Kind::named;
        volume.source = parts[0];
    }
    return volume;
}

Status read_build_args(ImageBuildSpec& build, const Field& field, const yaml::Where& where) {
    auto entries = read_entries(field.value, where, "build arg");
    if (!entries) return entries.error();
    for (const auto& entry : *entries) {
        auto value = at_key_if_empty(yaml::read_string(entry.value, where.child(entry.key)), entry, where.file);
        if (!value) return value.error();
        build.args.emplace_back(entry.key, std::move(*value));
    }
    return Ok{};
}

Status read_image_build_field(ImageBuildSpec& build, const Field& field, const yaml::Where& where) {
    const yaml::Where at = where.child(field.key);
    if (field.key == "args") return read_build_args(build, field, at);
    if (field.key == "inputs") {
        if (!field.value.IsSequence()) return yaml::invalid(field.value, at, "expected a list of paths or globs");
        std::vector<std::string> globs;
        for (std::size_t i = 0; i < field.value.size(); ++i) {
            auto glob = read_relative_path(field.value[i], at.child(std::to_string(i)));
            if (!glob) return glob.error();
            globs.push_back(std::move(*glob));
        }
        build.inputs = std::move(globs);
        return Ok{};
    }
    if (field.key == "target") {
        auto target = yaml::read_string(field.value, at);
        if (!target) return target.error();
        if (target->empty()) return yaml::invalid(field.value, at, "must not be empty");
        build.target = std::move(*target);
        return Ok{};
    }
    auto path = read_relative_path(field.value, at);
    if (!path) return path.error();
    (field.key == "context" ? build.context : build.dockerfile) = std::move(*path);
    return Ok{};
}

}  // namespace

Result<std::string> read_image(const YAML::Node& node, const yaml::Where& where) {
    auto text = yaml::read_string(node, where);
    if (!text) return text.error();
    auto reference = parse_image_reference(*text);
    if (!reference) return yaml::invalid(node, where, reference.error().message);
    return text;
}

bool is_image_build(const YAML::Node& node) { return node.IsMap() && (node["context"] || node["dockerfile"]); }

Result<ImageBuildSpec> read_image_build(const YAML::Node& node, const yaml::Where& where) {
    auto fields = read_fields(node, where, {"context", "dockerfile", "target", "args", "inputs", "command"});
    if (!fields) return fields.error();
    if (const Field* command = find_field(*fields, "command"))
        return make_error(ErrorCode::invalid_value,
                          fmt::format("'{}': a build has either 'command' (it builds files for a process service) or "
                                      "'context'/'dockerfile' (it builds an image for a container service), not both",
                                      where.path),
                          yaml::location(command->key_node, where.file));
    ImageBuildSpec build;
    build.location = yaml::location(node, where.file);
    for (const auto& field : *fields) {
        if (auto status = read_image_build_field(build, field, where); !status)
            return at_key_if_empty(status.error(), field, where.file);
    }
    return build;
}

Result<std::vector<VolumeSpec>> read_volumes(const YAML::Node& node, const yaml::Where& where) {
    if (!node.IsSequence()) return yaml::invalid(node, where, "expected a list of volumes");
    std::vector<VolumeSpec> volumes;
    for (std::size_t i = 0; i < node.size(); ++i) {
        auto volume = read_volume(node[i], where.child(std::to_string(i)));
        if (!volume) return volume.error();
        for (const auto& earlier : volumes) {
            if (earlier.target != volume->target) continue;
            return yaml::invalid(node[i], where.child(std::to_string(i)),
                                 fmt::format("'{}' is mounted twice (also by '{}')", volume->target, earlier.text));
        }
        volumes.push_back(std::move(*volume));
    }
    return volumes;
}

}  // namespace tandem::config
