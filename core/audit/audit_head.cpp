// The audit log's head file, read and written.
#include "audit/audit_head.hpp"

#include "audit/line_reader.hpp"
#include "support/durable_file.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fcntl.h>
#include <unistd.h>

namespace tandem::audit {

namespace {

constexpr std::string_view kPending = "pending ";

// "<seq> <64 hex>"
std::optional<HeadMark> parse_mark(std::string_view text) {
    HeadMark mark;
    const auto space = text.find(' ');
    if (space == std::string_view::npos || text.size() != space + 65) return std::nullopt;
    if (std::from_chars(text.data(), text.data() + space, mark.seq).ptr != text.data() + space) return std::nullopt;
    mark.hash = std::string(text.substr(space + 1));
    return mark;
}

std::string format_mark(const HeadMark& mark) {
    return fmt::format("{} {}\n", mark.seq, mark.hash.empty() ? std::string(64, '0') : mark.hash);
}

}  // namespace

std::filesystem::path head_path(const std::filesystem::path& log) {
    auto head = log;
    head += ".head";
    return head;
}

Result<std::optional<Head>> read_head(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::optional<Head>();
    if (fd < 0) return errno_error("open", file);
    LineReader reader(fd, file);
    auto first = reader.next();
    std::optional<HeadMark> last = first && *first ? parse_mark((*first)->text) : std::nullopt;
    Head head;
    if (last) {
        head.last = *last;
        if (head.last.hash == std::string(64, '0')) head.last.hash.clear();
        auto second = reader.next();
        if (!second) first = second.error();
        else if (*second && (*second)->text.starts_with(kPending)) {
            head.pending = parse_mark((*second)->text.substr(kPending.size()));
            if (!head.pending) last.reset();
        }
    }
    ::close(fd);
    if (!first) return first.error();
    if (!last)
        return make_error(
            ErrorCode::io,
            fmt::format(
                "the head file {} is not \"<seq> <sha256>\" (optionally followed by \"pending <seq> <sha256>\")",
                file.string()));
    return std::optional<Head>(head);
}

Status write_head(const std::filesystem::path& file, const Head& head) {
    std::string text = format_mark(head.last);
    if (head.pending) text += std::string(kPending) + format_mark(*head.pending);
    return replace_file_durably(file, text);
}

}  // namespace tandem::audit
