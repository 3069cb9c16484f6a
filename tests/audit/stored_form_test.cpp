// Audit records in the words every earlier version wrote: events and outcomes are enums in
// memory, but a log written before them must verify, read, and be written back byte for byte.
#include <doctest/doctest.h>

#include <tandem/audit_log.hpp>

#include "audit/audit_line.hpp"
#include "support/audit_files.hpp"
#include "support/temp_dir.hpp"

#include <string>
#include <vector>

using namespace tandem;
using tandem::test::lines_of;
using tandem::test::rechain;
using tandem::test::TempDir;

namespace {

// One line as the previous version wrote it (prev filled in by rechain).
std::string old_line(int seq, const std::string& event, const std::string& outcome, const std::string& tail = {},
                     const std::string& service_tail = {}) {
    return R"({"seq":)" + std::to_string(seq) + R"(,"prev":"","time":"2026-11-25T17:15:5)" + std::to_string(seq % 10) +
           R"(.123Z","event":")" + event + R"(","actor":"poll","commit":"0123456789abcdef0123456789abcdef01234567",)"
           R"("author":"Ada <ada@example.com>","subject":"api: faster","previous_commit":"",)"
           R"("services":[{"service":"api","old_digest":"","new_digest":"sha256:)" + std::string(64, 'a') +
           R"(","change":"start")" + service_tail + R"(}],"outcome":")" + outcome +
           R"(","message":"m","incident":false)" + tail + "}";
}

// Every event and outcome an audit log holds.
const std::vector<std::pair<std::string, std::string>> kWritten = {
    {"bootstrap", "succeeded"}, {"deploy", "succeeded"},         {"deploy", "failed"},
    {"rollback", "succeeded"},  {"revert", "succeeded"},         {"recover", "succeeded"},
    {"refused", "refused"},     {"policy_refusal", "refused"},   {"interrupted", "failed"},
    {"restart", "succeeded"},   {"restart", "failed"},           {"reset", "succeeded"},
    {"auth", "refused"},        {"audit_repair", "succeeded"},
};

}  // namespace

TEST_CASE("an audit log in the text of earlier versions verifies, reads, and is written back byte for byte") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    std::vector<std::string> lines;
    // The third carries timings, the fourth a build-cache verdict on its service.
    const std::string key = R"(,"build":"reused","build_key":"sha256:)" + std::string(64, 'b') + "\"";
    for (const auto& [event, outcome] : kWritten)
        lines.push_back(old_line(static_cast<int>(lines.size()) + 1, event, outcome,
                                 lines.size() == 2 ? R"(,"build_ms":1200,"total_ms":3400)" : "",
                                 lines.size() == 3 ? key : ""));
    rechain(file, lines);
    lines = lines_of(file);

    const auto verified = AuditLog::verify(file);
    CHECK_MESSAGE(verified.ok, verified.problem);
    CHECK(verified.records == kWritten.size());
    const auto records = AuditLog::read(file);
    REQUIRE(records);
    REQUIRE(records->size() == kWritten.size());
    for (std::size_t i = 0; i < kWritten.size(); ++i) {
        const AuditRecord& record = (*records)[i];
        CHECK(to_string(record.entry.event) == kWritten[i].first);
        CHECK(to_string(record.entry.outcome) == kWritten[i].second);
        // What this version writes for the entry it read is the line as it was.
        CHECK(audit::format_line(record.seq, record.prev, record.entry, record.segment) == lines[i]);
    }
    CHECK((*records)[2].entry.event == ChangeEvent::deploy);
    CHECK((*records)[2].entry.outcome == ChangeOutcome::failed);
    CHECK((*records)[2].entry.build_ms == 1200);
    REQUIRE((*records)[3].entry.services.size() == 1);
    CHECK((*records)[3].entry.services[0].build == "reused");

    // And the log goes on: opened (its chain verified) and appended to.
    auto log = AuditLog::open(file);
    REQUIRE(log);
    AuditEntry entry;
    entry.event = ChangeEvent::rollback;
    entry.outcome = ChangeOutcome::succeeded;
    entry.actor = "user root";
    const auto appended = (*log)->append(entry);
    REQUIRE(appended);
    CHECK(appended->line.find(R"("event":"rollback")") != std::string::npos);
    CHECK(AuditLog::verify(file).ok);
}

TEST_CASE("a record with an event or outcome no version writes is an error naming its line") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    rechain(file, {old_line(1, "deploy", "succeeded"), old_line(2, "teleport", "succeeded")});
    auto records = AuditLog::read(file);
    REQUIRE_FALSE(records);
    CHECK(records.error().location.line == 2);
    CHECK_MESSAGE(records.error().message.find("unknown event 'teleport'") != std::string::npos,
                  records.error().message);

    rechain(file, {old_line(1, "deploy", "maybe")});
    records = AuditLog::read(file);
    REQUIRE_FALSE(records);
    CHECK(records.error().location.line == 1);
    CHECK(records.error().message.find("unknown outcome 'maybe'") != std::string::npos);
}

TEST_CASE("every change event and outcome reads back from its spelling") {
    for (int i = 0; i <= static_cast<int>(ChangeEvent::none); ++i) {
        const auto event = static_cast<ChangeEvent>(i);
        CHECK(parse_change_event(to_string(event)) == event);
    }
    for (int i = 0; i <= static_cast<int>(ChangeOutcome::pinned); ++i) {
        const auto outcome = static_cast<ChangeOutcome>(i);
        CHECK(parse_change_outcome(to_string(outcome)) == outcome);
    }
    CHECK(std::string(to_string(ChangeOutcome::up_to_date)) == "up to date");
    CHECK(std::string(to_string(ChangeOutcome::held_back)) == "held back");
    CHECK_FALSE(parse_change_event("Deploy"));
    CHECK_FALSE(parse_change_outcome(""));
}
