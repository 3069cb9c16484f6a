// The entries of a YAML mapping in file order, checked for unknown and duplicate keys
// (yaml-cpp 0.7 keeps both entries of a duplicate key silently; this is where we notice).
#pragma once

#include "support/yaml_fields.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::config {

struct Field {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
};
using Fields = std::vector<Field>;

// The fields of a mapping of known keys: an error if `map` is not a mapping, for the first
// unknown key (with a suggestion) and for a key written twice.
Result<Fields> read_fields(const YAML::Node& map, const yaml::Where& where, const std::vector<std::string_view>& known);
Result<Fields> read_fields(const YAML::Node& map, const yaml::Where& where, std::initializer_list<std::string_view> known);

// The entries of a mapping of names (services, env, roles, ...): an error if `map` is not a
// mapping or a name is written twice ("duplicate service 'api'"). `entry_kind` names one entry.
Result<Fields> read_entries(const YAML::Node& map, const yaml::Where& where, std::string_view entry_kind);

// The field called `key`, or nullptr.
const Field* find_field(const Fields& fields, std::string_view key);

// yaml-cpp marks an empty value (`port:` and nothing) where the next token starts, often the
// next key's line: an error about such a value is moved to its key.
Error at_key_if_empty(Error error, const Field& field, const std::string& file);
template <class T>
Result<T> at_key_if_empty(Result<T> result, const Field& field, const std::string& file) {
    if (result) return result;
    return at_key_if_empty(result.error(), field, file);
}

// A missing_field error located at the mapping that lacks `key`.
Error missing_key(const YAML::Node& map, const yaml::Where& where, std::string_view key);

// invalid_value unless `name` matches [a-z0-9][a-z0-9_-]* (service and policy set names).
Status check_name(const Field& entry, const yaml::Where& where, std::string_view entry_kind);

}  // namespace tandem::config
