// ustar headers (POSIX.1-1988) with pax extended headers ('x') where a field does not fit.
#include "runtime/docker/tar_writer.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::docker {
namespace {

constexpr std::size_t block = 512;

using Header = std::array<char, block>;

void put_text(Header& header, std::size_t offset, std::size_t width, std::string_view text) {
    std::memcpy(header.data() + offset, text.data(), std::min(width, text.size()));
}

// An octal number of width-1 digits and a NUL, as ustar writes them.
void put_octal(Header& header, std::size_t offset, std::size_t width, std::uint64_t value) {
    const std::string digits = fmt::format("{:0{}o}", value, width - 1);
    put_text(header, offset, width - 1, digits);
}

bool fits_octal(std::uint64_t value, std::size_t width) { return value < (std::uint64_t{1} << (3 * (width - 1))); }

// Splits a long name into ustar's prefix (155) and name (100) at a '/'; false when no split fits.
bool split_name(std::string_view name, std::string_view& prefix, std::string_view& rest) {
    if (name.size() <= 100) {
        prefix = {};
        rest = name;
        return true;
    }
    for (std::size_t slash = name.find('/'); slash != std::string_view::npos; slash = name.find('/', slash + 1)) {
        if (slash <= 155 && name.size() - slash - 1 <= 100 && slash + 1 < name.size()) {
            prefix = name.substr(0, slash);
            rest = name.substr(slash + 1);
            return true;
        }
    }
    return false;
}

// One pax record: "<length> key=value\n", where length counts itself.
std::string pax_record(std::string_view key, std::string_view value) {
    const std::size_t body = 1 + key.size() + 1 + value.size() + 1;
    std::size_t length = body + 1;
    while (std::to_string(length).size() + body != length) ++length;
    return fmt::format("{} {}={}\n", length, key, value);
}

}  // namespace

void TarWriter::add_entry(std::string_view name, char type, std::string_view content, unsigned mode,
                          std::string_view link, std::uint64_t size) {
    std::string_view prefix;
    std::string_view short_name;
    std::string pax;
    if (!split_name(name, prefix, short_name)) {
        pax += pax_record("path", name);
        prefix = {};
        short_name = name.substr(0, 100);
    }
    if (link.size() > 100) pax += pax_record("linkpath", link);
    if (!fits_octal(size, 12)) pax += pax_record("size", std::to_string(size));
    if (!pax.empty()) add_entry("././@PaxHeader", 'x', pax, 0644, {}, pax.size());

    Header header{};
    put_text(header, 0, 100, short_name);
    put_octal(header, 100, 8, mode & 07777);
    put_octal(header, 108, 8, 0);
    put_octal(header, 116, 8, 0);
    put_octal(header, 124, 12, fits_octal(size, 12) ? size : 0);
    put_octal(header, 136, 12, static_cast<std::uint64_t>(mtime_ < 0 ? 0 : mtime_));
    header[156] = type;
    put_text(header, 157, 100, link.substr(0, 100));
    put_text(header, 257, 6, std::string_view("ustar\0", 6));
    put_text(header, 263, 2, "00");
    put_text(header, 265, 32, "root");
    put_text(header, 297, 32, "root");
    put_text(header, 345, 155, prefix);
    std::memset(header.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (const char c : header) sum += static_cast<unsigned char>(c);
    put_octal(header, 148, 7, sum);  // six digits, then a NUL and a space
    header[154] = '\0';

    out_.append(header.data(), header.size());
    out_.append(content);
    out_.append((block - content.size() % block) % block, '\0');
}

void TarWriter::add_file(std::string_view name, std::string_view content, unsigned mode) {
    add_entry(name, '0', content, mode, {}, content.size());
}

void TarWriter::add_directory(std::string_view name, unsigned mode) {
    std::string with_slash(name);
    if (with_slash.empty() || with_slash.back() != '/') with_slash += '/';
    add_entry(with_slash, '5', {}, mode, {}, 0);
}

void TarWriter::add_symlink(std::string_view name, std::string_view target) {
    add_entry(name, '2', {}, 0777, target, 0);
}

Status TarWriter::add_path(const std::filesystem::path& path, std::string_view name) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(path, ec);
    if (ec) return make_error(ErrorCode::io, fmt::format("{}: {}", path.string(), ec.message()));
    const auto mode = static_cast<unsigned>(status.permissions()) & 07777;
    if (fs::is_symlink(status)) {
        const fs::path target = fs::read_symlink(path, ec);
        if (ec) return make_error(ErrorCode::io, fmt::format("{}: {}", path.string(), ec.message()));
        add_symlink(name, target.string());
    } else if (fs::is_directory(status)) {
        add_directory(name, mode);
    } else if (fs::is_regular_file(status)) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream content;
        content << in.rdbuf();
        if (!in) return make_error(ErrorCode::io, fmt::format("{}: cannot be read", path.string()));
        add_file(name, content.str(), mode);
    } else {
        return make_error(ErrorCode::io,
                          fmt::format("{}: neither a file, a directory nor a symbolic link", path.string()));
    }
    return Ok{};
}

std::string TarWriter::finish() {
    out_.append(2 * block, '\0');
    std::string archive = std::move(out_);
    out_.clear();
    return archive;
}

}  // namespace tandem::docker
