// The audit log: appends hash-chained records, each fsynced and announced in the head file first;
// open verifies the chain and puts right what a crash left.
#include <tandem/audit_log.hpp>

#include "audit/audit_head.hpp"
#include "audit/audit_line.hpp"
#include "audit/line_reader.hpp"
#include "audit/log_check.hpp"
#include "support/durable_file.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tandem {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Reads [offset, offset + size) of `fd`.
Result<std::string> read_at(int fd, off_t offset, std::size_t size, const std::filesystem::path& file) {
    std::string bytes(size, '\0');
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::pread(fd, bytes.data() + done, size - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return audit::errno_error("read", file);
        if (n == 0)
            return make_error(ErrorCode::io, fmt::format("cannot read {}: it shrank while being read", file.string()));
        done += static_cast<std::size_t>(n);
    }
    return bytes;
}

// The offset just past the last '\n' before `end` (0 when there is none), reading backwards.
Result<off_t> line_start_before(int fd, off_t end, const std::filesystem::path& file) {
    while (end > 0) {
        const off_t from = end > static_cast<off_t>(kChunk) ? end - static_cast<off_t>(kChunk) : 0;
        auto chunk = read_at(fd, from, static_cast<std::size_t>(end - from), file);
        if (!chunk) return chunk.error();
        const auto newline = chunk->rfind('\n');
        if (newline != std::string::npos) return from + static_cast<off_t>(newline) + 1;
        end = from;
    }
    return off_t{0};
}

// What open() finds at the end of the file.
struct Tail {
    std::uint64_t seq = 0;
    std::string hash;          // of the last whole line
    std::size_t torn_bytes = 0;  // cut away after the last newline
};

// Cuts a torn last line away and reads the seq and hash of the last whole line.
Result<Tail> repair_tail(int fd, const std::filesystem::path& file) {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return audit::errno_error("stat", file);
    Tail tail;
    off_t end = info.st_size;
    if (end == 0) return tail;
    auto last_byte = read_at(fd, end - 1, 1, file);
    if (!last_byte) return last_byte.error();
    if (*last_byte != "\n") {
        auto cut = line_start_before(fd, end, file);
        if (!cut) return cut.error();
        if (::ftruncate(fd, *cut) != 0 || ::fsync(fd) != 0) return audit::errno_error("cut the torn last line of", file);
        tail.torn_bytes = static_cast<std::size_t>(end - *cut);
        end = *cut;
        if (end == 0) return tail;
    }
    auto start = line_start_before(fd, end - 1, file);
    if (!start) return start.error();
    auto line = read_at(fd, *start, static_cast<std::size_t>(end - 1 - *start), file);
    if (!line) return line.error();
    const auto prefix = audit::parse_line_prefix(*line);
    if (!prefix)
        return make_error(
            ErrorCode::io,
            fmt::format("the last line of {} is not an audit record; check it with `shipper audit verify`",
                        file.string()));
    tail.seq = prefix->seq;
    tail.hash = sha256_hex(*line);
    return tail;
}

AuditEntry repair_entry(const std::filesystem::path& file, std::size_t torn_bytes, std::optional<std::uint64_t> lost) {
    AuditEntry entry;
    entry.event = ChangeEvent::audit_repair;
    entry.actor = "audit log open";
    entry.outcome = ChangeOutcome::succeeded;
    if (torn_bytes > 0)
        entry.message = fmt::format(
            "removed {} byte(s) of a record cut off at the end of {} (a write was interrupted, e.g. by a crash)",
            torn_bytes, file.string());
    else
        entry.message =
            fmt::format("record {} was being written to {} when the engine stopped; none of it reached the log", *lost,
                        file.string());
    return entry;
}

// What a crash between the head's two writes left: the announced record is in the log (the
// head is completed), or it is not (the announcement is withdrawn); nullopt, or the lost seq.
Result<std::optional<std::uint64_t>> settle_head(const std::filesystem::path& path, const Tail& tail) {
    const auto file = audit::head_path(path);
    auto head = audit::read_head(file);
    if (!head) return head.error();
    if (!*head || !(*head)->pending) return std::optional<std::uint64_t>();
    const audit::HeadMark pending = *(*head)->pending;
    const bool written = tail.seq == pending.seq && tail.hash == pending.hash;
    const audit::Head settled{written ? pending : (*head)->last, std::nullopt};
    if (Status status = audit::write_head(file, settled); !status) return status.error();
    return written ? std::optional<std::uint64_t>() : std::optional<std::uint64_t>(pending.seq);
}

}  // namespace

namespace audit {

Result<int> open_locked(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error("open audit log", path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const bool held = errno == EWOULDBLOCK;
        Error error =
            held ? make_error(ErrorCode::io,
                              fmt::format("the audit log {} is open for writing in another process (a running engine?)",
                                          path.string()))
                 : errno_error("lock", path);
        ::close(fd);
        return error;
    }
    return fd;
}

Error broken_log(const std::filesystem::path& path, const AuditVerification& found) {
    return make_error(
        ErrorCode::io,
        fmt::format("the audit log {} does not verify{}: {}. Nothing is appended to it until the break is on record: "
                    "read it with `audit show`, then record the break with `audit repair --reason TEXT` (which keeps "
                    "every line and starts a new chain segment)",
                    path.string(), found.bad_seq > 0 ? fmt::format(" at seq {}", found.bad_seq) : std::string(),
                    found.problem),
        SourceLocation{path.string(), static_cast<int>(found.bad_line), 0});
}

std::unique_ptr<AuditLog> AuditLogAccess::make(std::filesystem::path path, int fd, std::uint64_t seq, std::string hash,
                                               std::uint64_t size) {
    return std::unique_ptr<AuditLog>(new AuditLog(std::move(path), fd, seq, std::move(hash), size));
}

void AuditLogAccess::set_tail(AuditLog& log, std::uint64_t seq, std::string hash, std::uint64_t size) {
    std::lock_guard lock(log.mutex_);
    log.seq_ = seq;
    log.last_hash_ = std::move(hash);
    log.size_ = size;
}

Result<AuditRecord> AuditLogAccess::append(AuditLog& log, AuditEntry entry, const std::string& segment) {
    std::lock_guard lock(log.mutex_);
    return log.append_locked(std::move(entry), segment);
}

}  // namespace audit

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& path) {
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
        return make_error(ErrorCode::io,
                          fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
    const bool existed = std::filesystem::exists(path, ec);
    auto fd = audit::open_locked(path);
    if (!fd) return fd.error();
    std::unique_ptr<AuditLog> log(new AuditLog(path, *fd, 0, {}, 0));  // closes the file on every return
    if (const auto found = audit::verify_log(path, true); !found.ok) return audit::broken_log(path, found);
    auto tail = repair_tail(*fd, path);
    if (!tail) return tail.error();
    if (!existed)
        if (Status created = sync_directory(path.has_parent_path() ? path.parent_path() : "."); !created) return created.error();
    auto lost = settle_head(path, *tail);
    if (!lost) return lost.error();
    struct stat info {};
    if (::fstat(*fd, &info) != 0) return audit::errno_error("stat", path);
    log->seq_ = tail->seq;
    log->last_hash_ = tail->hash;
    log->size_ = static_cast<std::uint64_t>(info.st_size);
    if (tail->torn_bytes > 0 || *lost) {
        if (auto repaired = log->append(repair_entry(path, tail->torn_bytes, *lost)); !repaired) return repaired.error();
    }
    return log;
}

AuditLog::AuditLog(std::filesystem::path path, int fd, std::uint64_t seq, std::string last_hash, std::uint64_t size)
    : path_(std::move(path)), fd_(fd), seq_(seq), last_hash_(std::move(last_hash)), size_(size) {}

AuditLog::~AuditLog() {
    if (fd_ >= 0) ::close(fd_);
}

std::uint64_t AuditLog::last_seq() const {
    std::lock_guard lock(mutex_);
    return seq_;
}

std::string AuditLog::last_hash() const {
    std::lock_guard lock(mutex_);
    return last_hash_;
}

Result<AuditRecord> AuditLog::append(AuditEntry entry) {
    std::lock_guard lock(mutex_);
    return append_locked(std::move(entry), {});
}

// The head announces the record (pending), the record is written and synced, and the head
// names it: a record past the head that the head did not announce is a forgery.
Result<AuditRecord> AuditLog::append_locked(AuditEntry entry, const std::string& segment) {
    if (entry.time == std::chrono::system_clock::time_point{}) entry.time = std::chrono::system_clock::now();
    struct stat before {};
    if (::fstat(fd_, &before) != 0) return audit::errno_error("stat", path_);
    if (static_cast<std::uint64_t>(before.st_size) != size_)
        return make_error(ErrorCode::io,
                          fmt::format("the audit log {} was changed by something else (it is {} bytes; this engine "
                                      "wrote {}): nothing more is appended; check it with `audit verify`",
                                      path_.string(), before.st_size, size_));
    AuditRecord record{seq_ + 1, last_hash_, segment, std::move(entry), {}};
    record.line = audit::format_line(record.seq, record.prev, record.entry, segment);
    const std::string hash = sha256_hex(record.line);
    const auto head_file = audit::head_path(path_);
    if (Status announced = audit::write_head(head_file, {{seq_, last_hash_}, audit::HeadMark{record.seq, hash}}); !announced)
        return announced.error();
    if (Status written = write_all(fd_, record.line + '\n'); !written) {
        // Take a partial line back out, so the next record does not follow a torn one.
        [[maybe_unused]] const int ignored = ::ftruncate(fd_, before.st_size);
        (void)audit::write_head(head_file, {{seq_, last_hash_}, std::nullopt});
        return make_error(ErrorCode::io, fmt::format("cannot append audit record {} to {}: {}", record.seq,
                                                     path_.string(), written.error().message));
    }
    seq_ = record.seq;
    last_hash_ = hash;
    size_ = static_cast<std::uint64_t>(before.st_size) + record.line.size() + 1;
    if (::fdatasync(fd_) != 0) return audit::errno_error(fmt::format("fsync audit record {} of", seq_), path_);
    if (Status head = audit::write_head(head_file, {{seq_, last_hash_}, std::nullopt}); !head) return head.error();
    return record;
}

}  // namespace tandem
