// The service keys only a container service has. Each reader notes the first such key written,
// so a service that turns out to have no image gets an error at that key (check_service_kind).
#include "config/container_keys.hpp"

#include "config/container_fields.hpp"
#include "config/service_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace tandem::config {

namespace {

ContainerSpec& container_of(ParsedService& service) {
    if (!service.spec.container) service.spec.container.emplace();
    return *service.spec.container;
}

void note_container_key(ParsedService& service, const Field& field, const yaml::Where& where) {
    if (!service.source.container_key.empty()) return;
    service.source.container_key = field.key;
    service.source.container_key_location = yaml::location(field.key_node, where.file);
}

Status read_image_key(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto image = read_image(field.value, where);
    if (!image) return image.error();
    // An override's image replaces the base's run: the service becomes a container.
    service.spec.run = RunSpec{};
    service.spec.build.reset();
    container_of(service).location = yaml::location(field.value, where.file);
    service.spec.container->image = std::move(*image);
    service.spec.container->build.reset();
    return Ok{};
}

Status read_container_command(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto command = read_command(field.value, where);
    if (!command) return command.error();
    note_container_key(service, field, where);
    container_of(service).command = std::move(command->argv);
    return Ok{};
}

// A list (the argv), or `[]` to run without the image's entrypoint.
Status read_entrypoint(ParsedService& service, const Field& field, const yaml::Where& where) {
    std::vector<std::string> argv;
    if (!(field.value.IsSequence() && field.value.size() == 0)) {
        auto command = read_command(field.value, where);
        if (!command) return command.error();
        argv = std::move(command->argv);
    }
    note_container_key(service, field, where);
    container_of(service).entrypoint = std::move(argv);
    return Ok{};
}

// Replaces the named and bind volumes; the tmpfs mounts of `tmpfs:` stay.
Status read_volumes_key(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto volumes = read_volumes(field.value, where);
    if (!volumes) return volumes.error();
    note_container_key(service, field, where);
    auto& mounts = container_of(service).volumes;
    std::erase_if(mounts, [](const VolumeSpec& volume) { return volume.kind != VolumeSpec::Kind::tmpfs; });
    for (const VolumeSpec& volume : *volumes)
        for (const VolumeSpec& tmpfs : mounts)
            if (tmpfs.target == volume.target)
                return make_error(ErrorCode::invalid_value,
                                  fmt::format("'{}': '{}' is mounted twice (also by '{}')", where.path, volume.target,
                                              tmpfs.text),
                                  volume.location);
    mounts.insert(mounts.begin(), volumes->begin(), volumes->end());
    return Ok{};
}

Result<std::string> absolute_container_path(const YAML::Node& node, const yaml::Where& where) {
    auto text = yaml::read_string(node, where);
    if (!text) return text.error();
    if (text->empty() || text->front() != '/')
        return yaml::invalid(node, where, fmt::format("'{}' is not an absolute path in the container", *text));
    std::string path = std::filesystem::path(*text).lexically_normal().generic_string();
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

// `tmpfs: [/run, /tmp]`: replaces the tmpfs mounts; a path may not be a volume's too.
Status read_tmpfs(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto paths = yaml::read_string_list(field.value, where, /*allow_scalar=*/true);
    if (!paths) return paths.error();
    note_container_key(service, field, where);
    auto& mounts = container_of(service).volumes;
    std::erase_if(mounts, [](const VolumeSpec& volume) { return volume.kind == VolumeSpec::Kind::tmpfs; });
    for (std::size_t i = 0; i < paths->size(); ++i) {
        const YAML::Node item = field.value.IsSequence() ? field.value[i] : field.value;
        auto path = absolute_container_path(item, where.child(std::to_string(i)));
        if (!path) return path.error();
        for (const VolumeSpec& other : mounts) {
            if (other.target == *path)
                return yaml::invalid(item, where, fmt::format("'{}' is mounted twice (also by '{}')", *path, other.text));
        }
        VolumeSpec volume;
        volume.kind = VolumeSpec::Kind::tmpfs;
        volume.target = *path;
        volume.text = "tmpfs:" + *path;
        volume.location = yaml::location(item, where.file);
        mounts.push_back(std::move(volume));
    }
    return Ok{};
}

Status read_container_port(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto port = yaml::read_int(field.value, where, 1, 65535);
    if (!port) return port.error();
    note_container_key(service, field, where);
    container_of(service).port = *port;
    return Ok{};
}

Status read_working_dir(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto path = absolute_container_path(field.value, where);
    if (!path) return path.error();
    note_container_key(service, field, where);
    container_of(service).working_dir = std::move(*path);
    return Ok{};
}

Status read_labels(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto entries = read_entries(field.value, where, "label");
    if (!entries) return entries.error();
    std::vector<std::pair<std::string, std::string>> labels;
    for (const auto& entry : *entries) {
        if (entry.key.rfind("tandem.", 0) == 0)
            return make_error(ErrorCode::invalid_value,
                              fmt::format("'{}': labels starting with 'tandem.' are the engine's own", where.path),
                              yaml::location(entry.key_node, where.file));
        auto value = at_key_if_empty(yaml::read_string(entry.value, where.child(entry.key)), entry, where.file);
        if (!value) return value.error();
        labels.emplace_back(entry.key, std::move(*value));
    }
    note_container_key(service, field, where);
    container_of(service).labels = std::move(labels);
    return Ok{};
}

// DNS names: letters, digits, '-', '_' and '.'.
bool is_host_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.';
    });
}

Status read_aliases(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto names = yaml::read_string_list(field.value, where, /*allow_scalar=*/true);
    if (!names) return names.error();
    for (std::size_t i = 0; i < names->size(); ++i) {
        if (is_host_name((*names)[i])) continue;
        const YAML::Node item = field.value.IsSequence() ? field.value[i] : field.value;
        return yaml::invalid(item, where, fmt::format("'{}' is not a host name (letters, digits, '-', '_', '.')",
                                                      (*names)[i]));
    }
    note_container_key(service, field, where);
    container_of(service).aliases = std::move(*names);
    return Ok{};
}

// `extra_hosts: ["NAME:IP", ...]`; IP may be `host-gateway` (the daemon's address for the host).
Status read_extra_hosts(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto lines = yaml::read_string_list(field.value, where, /*allow_scalar=*/true);
    if (!lines) return lines.error();
    for (std::size_t i = 0; i < lines->size(); ++i) {
        const std::string& line = (*lines)[i];
        const std::size_t colon = line.find(':');
        if (colon != std::string::npos && is_host_name(line.substr(0, colon)) && colon + 1 < line.size()) continue;
        const YAML::Node item = field.value.IsSequence() ? field.value[i] : field.value;
        return yaml::invalid(item, where, fmt::format("'{}' is not NAME:IP (e.g. db.local:10.0.0.5)", line));
    }
    note_container_key(service, field, where);
    container_of(service).extra_hosts = std::move(*lines);
    return Ok{};
}

// `extra_ports: ["PUBLIC:CONTAINER", PORT, ...]`: more ports routed as `port` is.
Status read_extra_ports(ParsedService& service, const Field& field, const yaml::Where& where) {
    auto entries = yaml::read_string_list(field.value, where, /*allow_scalar=*/true);
    if (!entries) return entries.error();
    std::vector<std::pair<int, int>> ports;
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const YAML::Node item = field.value.IsSequence() ? field.value[i] : field.value;
        const std::string& text = (*entries)[i];
        const auto colon = text.find(':');
        auto number = [&](const std::string& part) -> int {
            if (part.empty() || part.size() > 5 || part.find_first_not_of("0123456789") != std::string::npos) return 0;
            const int value = std::stoi(part);
            return value <= 65535 ? value : 0;
        };
        const int published = number(text.substr(0, colon));
        const int listened = colon == std::string::npos ? published : number(text.substr(colon + 1));
        if (published == 0 || listened == 0)
            return yaml::invalid(item, where, fmt::format("'{}' is not PUBLIC:CONTAINER or PORT (each 1-65535)", text));
        ports.emplace_back(published, listened);
    }
    note_container_key(service, field, where);
    container_of(service).extra_ports = std::move(ports);
    return Ok{};
}

}  // namespace

const std::vector<ContainerKey>& container_keys() {
    static const std::vector<ContainerKey> keys = {
        {"image", read_image_key},           {"command", read_container_command},
        {"entrypoint", read_entrypoint},     {"volumes", read_volumes_key},
        {"tmpfs", read_tmpfs},               {"container_port", read_container_port},
        {"working_dir", read_working_dir},   {"labels", read_labels},
        {"aliases", read_aliases},           {"extra_hosts", read_extra_hosts},
        {"extra_ports", read_extra_ports},
    };
    return keys;
}

}  // namespace tandem::config
