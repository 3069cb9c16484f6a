// Reading YAML mappings entry by entry, with unknown and duplicate keys reported where written.
#include "config/mapping_fields.hpp"

#include <fmt/format.h>

namespace tandem::config {

namespace {

std::string in_path(const yaml::Where& where) { return where.path.empty() ? "" : fmt::format(" in '{}'", where.path); }

Result<Fields> collect(const YAML::Node& map, const yaml::Where& where, std::string_view entry_kind) {
    if (auto status = yaml::expect_map(map, where); !status) return status.error();
    Fields fields;
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (!it->first.IsScalar())
            return yaml::invalid(it->first, where, "a key must be a plain name, not " +
                                                       std::string(it->first.IsMap() ? "a mapping" : "a list"));
        Field field{it->first.Scalar(), it->first, it->second};
        if (const Field* first = find_field(fields, field.key)) {
            const SourceLocation at = yaml::location(field.key_node, where.file);
            const int first_line = yaml::location(first->key_node, where.file).line;
            return make_error(ErrorCode::duplicate,
                              fmt::format("duplicate {} '{}'{} (first at line {})", entry_kind, field.key,
                                          in_path(where), first_line),
                              at);
        }
        fields.push_back(std::move(field));
    }
    return fields;
}

}  // namespace

Result<Fields> read_fields(const YAML::Node& map, const yaml::Where& where, const std::vector<std::string_view>& known) {
    if (auto status = yaml::expect_map(map, where); !status) return status.error();
    if (auto status = yaml::check_keys(map, where, known); !status) return status.error();
    return collect(map, where, "key");
}

Result<Fields> read_fields(const YAML::Node& map, const yaml::Where& where, std::initializer_list<std::string_view> known) {
    return read_fields(map, where, std::vector<std::string_view>(known));
}

Result<Fields> read_entries(const YAML::Node& map, const yaml::Where& where, std::string_view entry_kind) {
    return collect(map, where, entry_kind);
}

const Field* find_field(const Fields& fields, std::string_view key) {
    for (const auto& field : fields) {
        if (field.key == key) return &field;
    }
    return nullptr;
}

Error at_key_if_empty(Error error, const Field& field, const std::string& file) {
    if (!field.value.IsNull()) return error;
    const SourceLocation value_at = yaml::location(field.value, file);
    if (error.location.line == value_at.line && error.location.column == value_at.column)
        error.location = yaml::location(field.key_node, file);
    return error;
}

Error missing_key(const YAML::Node& map, const yaml::Where& where, std::string_view key) {
    std::string message = fmt::format("missing required key '{}'", key);
    if (!where.path.empty()) message = fmt::format("'{}': {}", where.path, message);
    return make_error(ErrorCode::missing_field, message, yaml::location(map, where.file));
}

Status check_name(const Field& entry, const yaml::Where& where, std::string_view entry_kind) {
    const std::string& name = entry.key;
    auto allowed = [](char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!first && (c == '_' || c == '-'));
    };
    bool ok = !name.empty();
    for (std::size_t i = 0; ok && i < name.size(); ++i) ok = allowed(name[i], i == 0);
    if (ok) return Ok{};
    return make_error(
        ErrorCode::invalid_value,
        fmt::format(
            "'{}': {} name '{}' must be lowercase letters, digits, '-' and '_', starting with a letter or digit",
            where.path, entry_kind, name),
        yaml::location(entry.key_node, where.file));
}

}  // namespace tandem::config
