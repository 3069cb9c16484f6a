// The expansion meter: counts nodes, scalar bytes and depth as yaml-cpp's parser reports them,
// charging each alias use what its anchored node cost, and stops the parse at the first bound
// crossed.
#include "support/yaml_limits.hpp"

#include "support/yaml_fields.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace tandem::yaml {

namespace {

// Thrown out of the parser's callbacks to stop it at the first bound crossed.
struct Crossed {
    Error error;
};

// What an anchored node expands to: its nodes, scalar bytes and levels (itself included).
struct Cost {
    std::uint64_t nodes = 0;
    std::uint64_t bytes = 0;
    int depth = 0;
};

// A sequence or mapping whose end has not been seen yet.
struct OpenNode {
    YAML::anchor_t anchor = YAML::NullAnchor;
    std::uint64_t nodes_before = 0;
    std::uint64_t bytes_before = 0;
    int level = 0;     // 1 for the document's root
    int deepest = 0;   // the deepest level reached inside it so far
};

std::string mebibytes(std::uint64_t bytes) {
    return bytes % (1024 * 1024) == 0 ? fmt::format("{} MiB", bytes / (1024 * 1024)) : fmt::format("{} bytes", bytes);
}

class ExpansionMeter : public YAML::EventHandler {
public:
    ExpansionMeter(const std::string& file, const Limits& limits) : file_(file), limits_(limits) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }

    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 0); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
        leaf(mark, anchor, value.size());
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        const auto found = costs_.find(anchor);
        const std::string name = "*" + names_[anchor];
        if (found == costs_.end())
            fail(mark,
                 fmt::format("the alias {} refers to a node that contains it; a document cannot hold itself", name));
        const Cost& cost = found->second;
        add(mark, cost, fmt::format("the alias {} repeats {} node(s) and {} bytes: ", name, cost.nodes, cost.bytes));
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(mark, anchor);
    }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(mark, anchor);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapEnd() override { close(); }

private:
    int level() const { return static_cast<int>(open_.size()) + 1; }

    [[noreturn]] void fail(const YAML::Mark& mark, const std::string& what) const {
        throw Crossed{make_error(ErrorCode::syntax, what, SourceLocation{file_, mark.line + 1, mark.column + 1})};
    }

    // Charges `cost` for a node at the current level; `why` starts the message when a bound is crossed.
    void add(const YAML::Mark& mark, const Cost& cost, const std::string& why) {
        nodes_ += cost.nodes;
        bytes_ += cost.bytes;
        const int reach = level() + cost.depth - 1;
        if (nodes_ > limits_.max_nodes)
            fail(mark,
                 fmt::format(
                     "{}the document expands to more than {} nodes (the limit; an alias counts the nodes it repeats)",
                     why, limits_.max_nodes));
        if (bytes_ > limits_.max_scalar_bytes)
            fail(mark,
                 fmt::format(
                     "{}the document's values expand to more than {} (the limit; an alias counts the bytes it repeats)",
                     why, mebibytes(limits_.max_scalar_bytes)));
        if (reach > limits_.max_depth)
            fail(mark,
                 fmt::format(
                     "{}the document nests deeper than {} levels (the limit; an alias counts the levels it repeats)",
                     why, limits_.max_depth));
        if (!open_.empty()) open_.back().deepest = std::max(open_.back().deepest, reach);
    }

    void name_anchor(YAML::anchor_t anchor) {
        if (anchor == YAML::NullAnchor) return;
        names_[anchor] = pending_name_;
        pending_name_.clear();
    }

    void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, std::size_t bytes) {
        name_anchor(anchor);
        const Cost cost{1, bytes, 1};
        add(mark, cost, "");
        if (anchor != YAML::NullAnchor) costs_[anchor] = cost;
    }

    void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
        name_anchor(anchor);
        const std::uint64_t nodes = nodes_;
        const std::uint64_t bytes = bytes_;
        add(mark, Cost{1, 0, 1}, "");
        open_.push_back(OpenNode{anchor, nodes, bytes, level(), level()});
    }

    void close() {
        const OpenNode done = open_.back();
        open_.pop_back();
        if (done.anchor != YAML::NullAnchor)
            costs_[done.anchor] = Cost{nodes_ - done.nodes_before, bytes_ - done.bytes_before, done.deepest - done.level + 1};
        if (!open_.empty()) open_.back().deepest = std::max(open_.back().deepest, done.deepest);
    }

    const std::string& file_;
    const Limits& limits_;
    std::uint64_t nodes_ = 0;
    std::uint64_t bytes_ = 0;
    std::vector<OpenNode> open_;
    std::unordered_map<YAML::anchor_t, Cost> costs_;
    std::unordered_map<YAML::anchor_t, std::string> names_;
    std::string pending_name_;
};

}  // namespace

Status check_limits(std::string_view text, const std::string& file, const Limits& limits) {
    if (text.size() > limits.max_file_bytes)
        return make_error(ErrorCode::syntax,
                          fmt::format("the file is {} bytes, over the limit of {} for a YAML file", text.size(),
                                      mebibytes(limits.max_file_bytes)),
                          SourceLocation{file});
    std::istringstream input{std::string(text)};
    ExpansionMeter meter(file, limits);
    try {
        YAML::Parser parser(input);
        parser.HandleNextDocument(meter);
    } catch (const Crossed& crossed) {
        return crossed.error;
    } catch (const YAML::Exception& e) {
        return syntax_error(e, file);
    }
    return Ok{};
}

}  // namespace tandem::yaml
