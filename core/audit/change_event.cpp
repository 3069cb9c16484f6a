// The spellings of change events and outcomes, as the audit log and the history file store them.
#include <tandem/change_event.hpp>

#include <array>
#include <utility>

namespace tandem {

namespace {

constexpr std::array<std::pair<ChangeEvent, const char*>, 18> kEvents{{
    {ChangeEvent::deploy, "deploy"},
    {ChangeEvent::bootstrap, "bootstrap"},
    {ChangeEvent::rollback, "rollback"},
    {ChangeEvent::revert, "revert"},
    {ChangeEvent::recover, "recover"},
    {ChangeEvent::refused, "refused"},
    {ChangeEvent::policy_refusal, "policy_refusal"},
    {ChangeEvent::interrupted, "interrupted"},
    {ChangeEvent::restart, "restart"},
    {ChangeEvent::reset, "reset"},
    {ChangeEvent::auth, "auth"},
    {ChangeEvent::audit_repair, "audit_repair"},
    {ChangeEvent::rejected, "rejected"},
    {ChangeEvent::preview_create, "preview_create"},
    {ChangeEvent::preview_update, "preview_update"},
    {ChangeEvent::preview_stop, "preview_stop"},
    {ChangeEvent::preview_teardown, "preview_teardown"},
    {ChangeEvent::none, "none"},
}};

constexpr std::array<std::pair<ChangeOutcome, const char*>, 7> kOutcomes{{
    {ChangeOutcome::succeeded, "succeeded"},
    {ChangeOutcome::failed, "failed"},
    {ChangeOutcome::refused, "refused"},
    {ChangeOutcome::reverted, "reverted"},
    {ChangeOutcome::up_to_date, "up to date"},
    {ChangeOutcome::held_back, "held back"},
    {ChangeOutcome::pinned, "pinned"},
}};

template <class Enum, std::size_t N>
const char* spelling(const std::array<std::pair<Enum, const char*>, N>& table, Enum value) {
    for (const auto& [known, text] : table)
        if (known == value) return text;
    return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> parse(const std::array<std::pair<Enum, const char*>, N>& table, std::string_view text) {
    for (const auto& [known, spelled] : table)
        if (text == spelled) return known;
    return std::nullopt;
}

}  // namespace

const char* to_string(ChangeEvent event) { return spelling(kEvents, event); }
const char* to_string(ChangeOutcome outcome) { return spelling(kOutcomes, outcome); }
std::optional<ChangeEvent> parse_change_event(std::string_view text) { return parse(kEvents, text); }
std::optional<ChangeOutcome> parse_change_outcome(std::string_view text) { return parse(kOutcomes, text); }

}  // namespace tandem
