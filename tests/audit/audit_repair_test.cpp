// A tampered audit log is refused by open() until `repair` records the break: a new record
// that starts a chain segment bound to every byte before it, nothing rewritten.
#include <doctest/doctest.h>

#include <tandem/audit_log.hpp>

#include "support/audit_files.hpp"
#include "support/sha256.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <fstream>

using namespace tandem;
using tandem::test::lines_of;
using tandem::test::read_text;
using tandem::test::TempDir;

namespace {

AuditEntry note(const std::string& message) {
    AuditEntry entry;
    entry.event = ChangeEvent::deploy;
    entry.actor = "poll";
    entry.outcome = ChangeOutcome::succeeded;
    entry.message = message;
    return entry;
}

// Four records written by the log, then a fifth forged by hand with the right prev and the
// head left alone: what someone with write access to the log alone can do.
struct ForgedLog {
    TempDir dir;
    std::filesystem::path file = dir.path() / "audit.jsonl";
    ForgedLog() {
        {
            auto log = AuditLog::open(file);
            REQUIRE(log);
            for (int i = 1; i <= 4; ++i) REQUIRE((*log)->append(note("record " + std::to_string(i))));
        }
        const std::string prev = sha256_hex(lines_of(file).back());
        std::ofstream(file, std::ios::app) << "{\"seq\":5,\"prev\":\"" << prev
                                           << "\",\"time\":\"2026-12-01T00:00:00Z\",\"event\":\"deploy\",\"actor\":\"forger\"}\n";
    }
};

}  // namespace

TEST_CASE_FIXTURE(ForgedLog, "open refuses a tampered log, naming the file, the line and what is wrong, and appends nothing") {
    const auto before = read_text(file);
    auto log = AuditLog::open(file);
    REQUIRE_FALSE(log);
    const std::string message = log.error().to_string();
    CHECK_MESSAGE(message.find(file.string()) != std::string::npos, message);
    CHECK_MESSAGE(message.find("line 5 (seq 5)") != std::string::npos, message);
    CHECK_MESSAGE(message.find("audit repair") != std::string::npos, message);
    CHECK(log.error().location.line == 5);
    CHECK(read_text(file) == before);
}

TEST_CASE_FIXTURE(ForgedLog, "repair records the break in a new segment, keeps every line, and the log opens again") {
    const auto before = read_text(file);
    auto repaired = AuditLog::repair(file, "audit repair command by user ops (pid 1)", "forged record 5 kept as evidence");
    REQUIRE(repaired);
    REQUIRE(*repaired);
    const AuditRecord& record = **repaired;
    CHECK(record.seq == 6);
    CHECK(record.entry.event == ChangeEvent::audit_repair);
    CHECK(record.entry.actor == "audit repair command by user ops (pid 1)");
    CHECK_MESSAGE(record.entry.message.find("line 5 (seq 5)") != std::string::npos, record.entry.message);
    CHECK_MESSAGE(record.entry.message.find("forged record 5 kept as evidence") != std::string::npos, record.entry.message);
    CHECK(record.segment == sha256_hex(before));
    CHECK(read_text(file).starts_with(before));  // nothing rewritten

    const auto verified = AuditLog::verify(file);
    CHECK_MESSAGE(verified.ok, verified.problem);
    REQUIRE(verified.repairs.size() == 1);
    CHECK(verified.repairs[0].line == 6);
    CHECK(verified.repairs[0].seq == 6);
    auto log = AuditLog::open(file);
    REQUIRE(log);
    CHECK((*log)->append(note("after the repair"))->seq == 7);
    CHECK(AuditLog::verify(file).ok);
    CHECK_FALSE(AuditLog::repair(file, "ops", "again"));  // the log is held open: refused
}

TEST_CASE_FIXTURE(ForgedLog, "a closed segment changed after its repair fails verify and open") {
    REQUIRE(*AuditLog::repair(file, "ops", "evidence"));
    std::string text = read_text(file);
    const auto at = text.find("record 2");
    REQUIRE(at != std::string::npos);
    text[at + 7] = '9';  // the closed segment edited after the repair
    std::ofstream(file, std::ios::trunc | std::ios::binary) << text;
    const auto verified = AuditLog::verify(file);
    CHECK_FALSE(verified.ok);
    CHECK(verified.bad_line == 6);
    CHECK_MESSAGE(verified.problem.find("changed after the repair") != std::string::npos, verified.problem);
    CHECK_FALSE(AuditLog::open(file));
}

TEST_CASE("repair of a log that verifies writes nothing") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    {
        auto log = AuditLog::open(file);
        REQUIRE(log);
        REQUIRE((*log)->append(note("one")));
    }
    const auto before = read_text(file);
    auto repaired = AuditLog::repair(file, "ops", "nothing wrong");
    REQUIRE(repaired);
    CHECK_FALSE(*repaired);
    CHECK(read_text(file) == before);
}

TEST_CASE("a log written to behind an open log's back is refused by its next append") {
    TempDir dir;
    const auto file = dir.path() / "audit.jsonl";
    auto log = AuditLog::open(file);
    REQUIRE(log);
    REQUIRE((*log)->append(note("one")));
    std::ofstream(file, std::ios::app) << "{\"seq\":2,\"prev\":\"\",\"event\":\"forged\"}\n";
    auto appended = (*log)->append(note("two"));
    REQUIRE_FALSE(appended);
    CHECK_MESSAGE(appended.error().message.find("was changed by something else") != std::string::npos, appended.error().message);
}
