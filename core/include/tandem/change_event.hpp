// What a change the engine carried out (or refused) was, and how it ended: the `event` and
// `outcome` of an audit record and of a release outcome, and the `how` of a release history
// record. Each value has one fixed spelling, on disk (audit log, history file) and on the wire
// (JSON): to_string gives it, parse_* reads it back (nullopt for a spelling it does not know).
#pragma once

#include <optional>
#include <string_view>

namespace tandem {

enum class ChangeEvent {
    deploy,          // a new commit rolled out
    bootstrap,       // a deploy that brought everything up from nothing
    rollback,        // a kept release redeployed on request (and pinned)
    revert,          // back to the last good release after a bad one (auto_revert)
    recover,         // the deployed release restored after an engine restart
    refused,         // a commit refused (bad config, signature, a stalled fetch, a crash loop)
    policy_refusal,  // a request the policy forbids
    interrupted,     // the engine stopped during a deploy (counted at the next start)
    restart,         // a service restarted (a request, or a crash restart by the supervisor)
    reset,           // a service's state reset
    auth,            // an API request refused for want of a token or role
    audit_repair,    // a broken audit chain closed on record
    rejected,        // history only: a commit tried and rejected (ReleaseHistory::rejections)
    preview_create,  // a branch's deploy preview started (its first deploy, or again after a stop)
    preview_update,  // a deploy preview deployed a new commit of its branch (or failed to)
    preview_stop,    // a deploy preview stopped: idle, or making room under the limit (its state kept)
    preview_teardown,  // a deploy preview removed with its state: its branch was deleted
    none,            // release outcome only: nothing was done (up to date, held back, pinned)
};

enum class ChangeOutcome {
    succeeded,
    failed,
    refused,
    reverted,    // it rolled out or failed, and was reverted
    up_to_date,  // "up to date": the commit is deployed already (event none)
    held_back,   // "held back": the commit is not deployed again, or waits for a flag (event none)
    pinned,      // a rollback pinned the deployed release (event none)
};

// "deploy", "policy_refusal", ...; "succeeded", "up to date", "held back", ...
const char* to_string(ChangeEvent event);
const char* to_string(ChangeOutcome outcome);
std::optional<ChangeEvent> parse_change_event(std::string_view text);
std::optional<ChangeOutcome> parse_change_outcome(std::string_view text);

}  // namespace tandem
