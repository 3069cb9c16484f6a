// Checking an audit log's chain without parsing its JSON, and reading its records back.
#include <tandem/audit_log.hpp>

#include "audit/audit_head.hpp"
#include "audit/audit_line.hpp"
#include "audit/line_reader.hpp"
#include "audit/log_check.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

namespace tandem {

namespace {

using audit::Head;

std::string line_name(std::size_t line) { return fmt::format("line {}", line); }

// Where a segment's chain starts: before line 1, or at a repair record that follows `line`.
struct ChainStart {
    std::size_t line = 0;
    std::uint64_t seq = 0;
    std::string hash;
};

// Follows the chain of one segment line by line and keeps the first problem.
class ChainCheck {
public:
    ChainCheck(const std::optional<Head>& head, bool torn_tail_allowed, ChainStart start)
        : head_(head), torn_tail_allowed_(torn_tail_allowed), line_(start.line), seq_(start.seq),
          hash_(std::move(start.hash)) {}

    void feed(const audit::Line& line) {
        ++line_;
        if (!result_.ok) return look_for_missing(line.text);
        if (!line.whole) {
            if (!torn_tail_allowed_) fail(line_, line_name(line_) + " is torn: a write was cut off");
            return;
        }
        const auto prefix = audit::parse_line_prefix(line.text);
        if (!prefix) return fail(line_, line_name(line_) + " is not an audit record (it must start with "
                                                           "{\"seq\":N,\"prev\":\"...\", and end with })");
        const std::uint64_t expected = seq_ + 1;
        if (prefix->seq > expected) return gap(expected, prefix->seq);
        if (prefix->seq < expected)
            return fail(
                line_,
                fmt::format("{} is out of order (reordered): seq {} after seq {}", line_name(line_), prefix->seq, seq_),
                prefix->seq);
        // Only the record the head announced as pending may follow the head's seq: that is
        // what a crash between the record and the head's second write leaves.
        if (head_ && prefix->seq > head_->last.seq && !(head_->pending && head_->pending->seq == prefix->seq))
            return fail(line_,
                        fmt::format("{} (seq {}) comes after the head's seq {} and the head did not announce it: a "
                                    "record appended behind the engine's back (forged)",
                                    line_name(line_), prefix->seq, head_->last.seq),
                        prefix->seq);
        if (prefix->prev != hash_) {
            if (line_ == 1) return fail(1, "line 1 was changed after it was written (the first record's prev must be empty)", prefix->seq);
            return fail(line_ - 1, line_name(line_ - 1) + " was changed after it was written (its hash does not "
                                                          "match the next record's prev)", seq_);
        }
        seq_ = prefix->seq;
        hash_ = sha256_hex(line.text);
        if (head_ && head_->last.seq == seq_ && head_->last.hash != hash_)
            fail(line_, line_name(line_) + " was changed after it was written (its hash does not match the head file)", seq_);
        else if (head_ && head_->pending && head_->pending->seq == seq_ && head_->pending->hash != hash_)
            fail(line_,
                 fmt::format(
                     "{} (seq {}) comes after the head's seq {} and is not the record the head announced (forged)",
                     line_name(line_), seq_, head_->last.seq),
                 seq_);
    }

    // The result of a segment that a repair record closed: its chain alone, no head.
    const AuditVerification& closed() const { return result_; }

    // The result of the last segment, checked against the head too.
    AuditVerification finish(const std::filesystem::path& head_file) {
        if (!result_.ok) return result_;
        result_.records = line_;
        if (!head_ && seq_ >= 2)
            fail(0, fmt::format(
                        "the head file {} is missing (it holds the last seq, so that deleted records at the end show)",
                        head_file.string()));
        else if (head_ && head_->last.seq > seq_)
            fail(line_ + 1,
                 fmt::format("{} (the head says seq {})",
                             line_ == 0 ? std::string("all records were deleted")
                                        : fmt::format("records after {} were deleted", line_name(line_)),
                             head_->last.seq),
                 seq_ + 1);
        return result_;
    }

private:
    void fail(std::size_t bad_line, std::string problem, std::uint64_t bad_seq = 0) {
        result_.ok = false;
        result_.bad_line = bad_line;
        result_.bad_seq = bad_seq;
        result_.records = bad_line > 0 ? bad_line - 1 : line_;
        result_.problem = std::move(problem);
    }

    // A seq skipped: deleted records, unless the skipped seq turns up further down.
    void gap(std::uint64_t expected, std::uint64_t seq) {
        gap_expected_ = expected;
        gap_seq_ = seq;
        const std::string range =
            seq - 1 == expected ? fmt::format("record {}", expected) : fmt::format("records {}..{}", expected, seq - 1);
        fail(line_, fmt::format("{}: {} missing before this line (deleted)", line_name(line_), range), seq);
    }

    void look_for_missing(std::string_view text) {
        if (gap_expected_ == 0) return;
        const auto prefix = audit::parse_line_prefix(text);
        if (!prefix || prefix->seq != gap_expected_) return;
        result_.problem = fmt::format("{} is out of order (reordered): seq {} comes before seq {} ({})",
                                      line_name(result_.bad_line), gap_seq_, gap_expected_, line_name(line_));
        gap_expected_ = 0;
    }

    const std::optional<Head>& head_;
    bool torn_tail_allowed_;
    std::size_t line_ = 0;
    std::uint64_t seq_ = 0;
    std::string hash_;
    std::uint64_t gap_expected_ = 0, gap_seq_ = 0;
    AuditVerification result_;
};

Result<std::vector<AuditRecord>> read_records(audit::LineReader& reader, const std::filesystem::path& path) {
    std::vector<AuditRecord> records;
    for (std::size_t number = 1;; ++number) {
        auto line = reader.next();
        if (!line) return line.error();
        if (!*line) return records;
        if (!(*line)->whole)
            return make_error(ErrorCode::io, "torn: a write was cut off", SourceLocation{path.string(), static_cast<int>(number), 0});
        auto record = audit::parse_line((*line)->text, path, number);
        if (!record) return record.error();
        records.push_back(std::move(*record));
    }
}

AuditVerification failed(std::string problem) {
    AuditVerification result;
    result.ok = false;
    result.problem = std::move(problem);
    return result;
}

// Checks every segment of an open log: each repair record must hash what precedes it.
AuditVerification check_segments(audit::LineReader& reader, const std::filesystem::path& path,
                                  const std::optional<Head>& head, bool torn_tail_allowed) {
    std::vector<AuditRepairedBreak> repairs;
    std::optional<ChainCheck> check;
    check.emplace(head, torn_tail_allowed, ChainStart{});
    std::uint64_t offset = 0;
    std::size_t number = 0;
    std::string previous;  // the line before, for a repair's start
    for (;;) {
        auto line = reader.next();
        if (!line) return failed(line.error().message);
        if (!*line) break;
        ++number;
        const auto prefix = (*line)->whole ? audit::parse_line_prefix((*line)->text) : std::nullopt;
        if (prefix && !prefix->segment.empty()) {
            auto covered = audit::hash_file_prefix(path, offset);
            if (!covered) return failed(covered.error().message);
            if (*covered != prefix->segment) {
                AuditVerification result =
                    failed(fmt::format("{} (seq {}, an audit repair): the lines before it were changed after the "
                                       "repair (their bytes no longer hash to what it recorded)",
                                       line_name(number), prefix->seq));
                result.bad_line = number;
                result.bad_seq = prefix->seq;
                result.records = number - 1;
                return result;
            }
            repairs.push_back({number, prefix->seq, check->closed().problem});
            check.emplace(head, torn_tail_allowed,
                          ChainStart{number - 1, prefix->seq - 1, number == 1 ? "" : sha256_hex(previous)});
        }
        check->feed(**line);
        offset += (*line)->text.size() + 1;
        previous.assign((*line)->text);
    }
    AuditVerification result = check->finish(audit::head_path(path));
    result.repairs = std::move(repairs);
    return result;
}

}  // namespace

namespace audit {

Result<std::string> hash_file_prefix(const std::filesystem::path& path, std::uint64_t size) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error("open", path);
    Sha256 hash;
    std::string buffer(1 << 16, '\0');
    while (size > 0) {
        const ssize_t n = ::read(fd, buffer.data(), std::min<std::uint64_t>(size, buffer.size()));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            return n < 0 ? Result<std::string>(errno_error("read", path))
                         : make_error(ErrorCode::io,
                                      fmt::format("cannot read {}: it shrank while being read", path.string()));
        }
        hash.update(buffer.data(), static_cast<std::size_t>(n));
        size -= static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    return hash.hex_digest();
}

AuditVerification verify_log(const std::filesystem::path& path, bool torn_tail_allowed) {
    const auto head_file = head_path(path);
    auto head = read_head(head_file);
    if (!head) return failed(head.error().to_string());
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (!*head || (*head)->last.seq == 0) return AuditVerification{};
        return failed(
            fmt::format("the log {} is missing, but its head file says seq {}", path.string(), (*head)->last.seq));
    }
    if (fd < 0) return failed(errno_error("open", path).message);
    LineReader reader(fd, path);
    AuditVerification result = check_segments(reader, path, *head, torn_tail_allowed);
    ::close(fd);
    return result;
}

}  // namespace audit

AuditVerification AuditLog::verify(const std::filesystem::path& path) { return audit::verify_log(path, false); }

Result<std::vector<AuditRecord>> AuditLog::read(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::vector<AuditRecord>{};
    if (fd < 0) return audit::errno_error("open", path);
    audit::LineReader reader(fd, path);
    auto records = read_records(reader, path);
    ::close(fd);
    return records;
}

}  // namespace tandem
