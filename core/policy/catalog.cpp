// The built-in policy sets and PolicyCatalog: sets added from YAML, resolved along `from:`.
#include <tandem/policy.hpp>

#include "policy/embedded_policies.hpp"
#include "policy/policy_document.hpp"
#include "support/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace tandem {

namespace {

using DocumentPtr = std::shared_ptr<const PolicyDocument>;
using DocumentLookup = std::function<const Result<DocumentPtr>*(std::string_view name)>;

struct BuiltinEntry {
    std::string name;
    Result<DocumentPtr> document;
};

Result<DocumentPtr> load_builtin(std::string_view stem) {
    const std::string file = fmt::format("policies/{}.yaml", stem);
    auto root = yaml::parse(embedded::builtin_policy_text(stem), file);
    if (!root) return root.error();
    auto document = read_policy_document(*root, file, std::string(stem));
    if (!document) return document.error();
    if (document->from)
        return make_error(ErrorCode::invalid_value, "a built-in set starts from nothing: remove 'from:'",
                          document->from_location);
    if (auto complete = check_defines_every_knob(*document); !complete) return complete.error();
    return DocumentPtr(std::make_shared<const PolicyDocument>(std::move(*document)));
}

// Parsed once per process: the embedded text never changes.
const std::vector<BuiltinEntry>& builtin_entries() {
    static const std::vector<BuiltinEntry> entries = [] {
        std::vector<BuiltinEntry> out;
        for (auto stem : embedded::builtin_policy_text_names())
            out.push_back(BuiltinEntry{std::string(stem), load_builtin(stem)});
        return out;
    }();
    return entries;
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words) out += (out.empty() ? "" : ", ") + word;
    return out;
}

Error unknown_policy(std::string_view name, const std::vector<std::string>& known, SourceLocation where,
                     std::string_view context) {
    const std::vector<std::string_view> candidates(known.begin(), known.end());
    std::string message = fmt::format("{}unknown policy set '{}'", context, name);
    if (auto near = nearest(name, candidates)) {
        message += fmt::format(" (did you mean '{}'?)", *near);
    } else {
        message += fmt::format(" (the sets are: {})", joined(known));
    }
    return make_error(ErrorCode::unknown_policy, message, std::move(where));
}

// `name` and the sets it starts from, `name` first, ending at a set with no `from:`.
Result<std::vector<DocumentPtr>> chain_of(std::string_view name, const DocumentLookup& lookup,
                                          const std::vector<std::string>& known) {
    const Result<DocumentPtr>* entry = lookup(name);
    if (!entry) return unknown_policy(name, known, {}, "");
    std::vector<DocumentPtr> chain;
    while (true) {
        if (!entry->ok()) return entry->error();
        const DocumentPtr& document = entry->value();
        chain.push_back(document);
        if (!document->from) return chain;
        const std::string& parent = *document->from;
        const auto seen =
            std::find_if(chain.begin(), chain.end(), [&](const DocumentPtr& d) { return d->name == parent; });
        if (seen != chain.end()) {
            std::string cycle;
            for (auto it = seen; it != chain.end(); ++it) cycle += (*it)->name + " -> ";
            return make_error(ErrorCode::dependency_cycle,
                              fmt::format("policy sets start from each other in a cycle: {}{}", cycle, parent),
                              document->from_location);
        }
        entry = lookup(parent);
        if (!entry)
            return unknown_policy(parent, known, document->from_location,
                                  fmt::format("policy set '{}' starts from an ", document->name));
    }
}

using KnobLocations = std::map<std::string_view, SourceLocation>;

SourceLocation where_set(const KnobLocations& set_at, std::string_view knob, const PolicySet& set) {
    const auto found = set_at.find(knob);
    return found == set_at.end() ? set.location : found->second;
}

// Knob combinations no single row can judge, checked on the resolved set; `set_at` says where
// each knob got its value, so the error points at the line to change.
Status check_combinations(const PolicySet& set, const KnobLocations& set_at) {
    if (set.crash.backoff_initial > set.crash.backoff_max)
        return make_error(
            ErrorCode::invalid_value,
            fmt::format("policy set '{}': crash.backoff_initial is longer than crash.backoff_max", set.name),
            where_set(set_at, "crash.backoff_initial", set));
    if (set.rollout.strategy == RolloutStrategy::rolling && set.rollout.max_surge == 0 &&
        set.rollout.max_unavailable == 0)
        return make_error(ErrorCode::invalid_value,
                          fmt::format("policy set '{}': a rolling update with rollout.max_surge and "
                                      "rollout.max_unavailable both 0 can never replace a replica",
                                      set.name),
                          where_set(set_at, "rollout.max_surge", set));
    return Ok{};
}

// Applies every set of `chain` (name first), base first: the root built-in sets every knob,
// and each set after it overrides some.
Result<PolicySet> apply_chain(const std::vector<DocumentPtr>& chain) {
    PolicySet set;
    KnobLocations set_at;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        for (const auto& assignment : (*it)->assignments) {
            assignment.apply(set);
            set_at[assignment.knob->info.name] = assignment.location;
        }
    }
    const PolicyDocument& top = *chain.front();
    set.name = top.name;
    set.from = top.from.value_or("");
    set.location = top.location;
    for (const auto& document : chain) {
        if (document->description.empty()) continue;
        set.description = document->description;
        break;
    }
    if (auto consistent = check_combinations(set, set_at); !consistent) return consistent.error();
    return set;
}

// Finds a set's document in PolicyCatalog's map (a template, so the private Definition type
// is never spelt here).
template <class DefinitionMap>
DocumentLookup lookup_in(const DefinitionMap& definitions) {
    return [&definitions](std::string_view wanted) -> const Result<DocumentPtr>* {
        const auto it = definitions.find(wanted);
        return it == definitions.end() ? nullptr : &it->second->document;
    };
}

bool is_valid_name(std::string_view name) {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

// The node at the dotted `key_path` below `root` (root itself when the path is empty).
Result<YAML::Node> node_at(const YAML::Node& root, std::string_view key_path, const std::string& file) {
    YAML::Node node = root;
    std::size_t start = 0;
    while (start < key_path.size()) {
        const std::size_t end = std::min(key_path.find('.', start), key_path.size());
        const std::string key(key_path.substr(start, end - start));
        YAML::Node child;
        bool found = false;
        if (node.IsMap()) {
            for (auto it = node.begin(); it != node.end() && !found; ++it) {
                found = it->first.Scalar() == key;
                if (found) child.reset(it->second);
            }
        }
        if (!found)
            return make_error(ErrorCode::missing_field, fmt::format("no '{}' in the document", key_path),
                              SourceLocation{file});
        node.reset(child);  // reset, not `=`: yaml-cpp's assignment would overwrite the parent
        start = end + 1;
    }
    return node;
}

}  // namespace

struct PolicyCatalog::Definition {
    Result<DocumentPtr> document;
    bool builtin = false;
    int order = 0;  // built-ins first, then project sets in the order they were added
};

std::vector<std::string> builtin_policy_names() {
    std::vector<std::string> names;
    for (auto stem : embedded::builtin_policy_text_names()) names.emplace_back(stem);
    return names;
}

Result<PolicySet> builtin_policy(std::string_view name) {
    for (const auto& entry : builtin_entries()) {
        if (entry.name != name) continue;
        if (!entry.document) return entry.document.error();
        return apply_chain({entry.document.value()});
    }
    return unknown_policy(name, builtin_policy_names(), {}, "");
}

PolicyCatalog::PolicyCatalog() {
    int order = 0;
    for (const auto& entry : builtin_entries())
        definitions_.emplace(entry.name, std::make_shared<const Definition>(Definition{entry.document, true, order++}));
}

Status PolicyCatalog::add_yaml(std::string_view yaml_text, const std::string& file_name, const std::string& name,
                               std::string_view key_path) {
    auto root = yaml::parse(yaml_text, file_name);
    if (!root) return root.error();
    auto node = node_at(*root, key_path, file_name);
    if (!node) return node.error();
    const SourceLocation where = yaml::location(*node, file_name);
    if (!is_valid_name(name))
        return make_error(ErrorCode::invalid_value,
                          fmt::format("policy set name '{}' may hold only letters, digits, '-' and '_'", name), where);
    if (auto existing = definitions_.find(name); existing != definitions_.end()) {
        const Definition& first = *existing->second;
        std::string message = fmt::format("policy set '{}' ", name);
        if (first.builtin)
            message += fmt::format("is built in; give yours another name and start it `from: {}`", name);
        else
            message += fmt::format("is defined twice (first at {})", first.document.value()->location.to_string());
        return make_error(ErrorCode::duplicate, message, where);
    }
    auto document = read_policy_document(*node, file_name, name);
    if (!document) return document.error();
    if (!document->from) {
        return make_error(
            ErrorCode::missing_field,
            fmt::format(
                "policy set '{}' has no 'from:'; start it from a built-in set ({}) or another of the project's sets",
                name, joined(builtin_policy_names())),
            where);
    }
    const int order = static_cast<int>(definitions_.size());
    auto shared = DocumentPtr(std::make_shared<const PolicyDocument>(std::move(*document)));
    definitions_.emplace(name, std::make_shared<const Definition>(Definition{std::move(shared), false, order}));
    return Ok{};
}

Result<PolicySet> PolicyCatalog::resolve(std::string_view name) const {
    auto chain = chain_of(name, lookup_in(definitions_), names());
    if (!chain) return chain.error();
    return apply_chain(*chain);
}

Result<std::vector<std::string>> PolicyCatalog::lineage(std::string_view name) const {
    auto chain = chain_of(name, lookup_in(definitions_), names());
    if (!chain) return chain.error();
    std::vector<std::string> out;
    for (const auto& document : *chain) out.push_back(document->name);
    return out;
}

std::vector<std::string> PolicyCatalog::names() const {
    std::vector<std::pair<int, std::string>> ordered;
    for (const auto& [name, definition] : definitions_) ordered.emplace_back(definition->order, name);
    std::sort(ordered.begin(), ordered.end());
    std::vector<std::string> out;
    for (auto& entry : ordered) out.push_back(std::move(entry.second));
    return out;
}

}  // namespace tandem
