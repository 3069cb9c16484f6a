// Walking artifact outputs into a manifest, and the digest and differences of manifests.
#include "artifact/manifest.hpp"

#include "artifact/output_links.hpp"

#include "support/path_inside.hpp"
#include "support/sha256.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tandem::artifact {

namespace fs = std::filesystem;

namespace {

Result<std::string> hash_file(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno_error("read", file);
    Sha256 hash;
    std::array<char, 64 * 1024> buffer;
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            Error error = errno_error("read", file);
            ::close(fd);
            return error;
        }
        if (n == 0) break;
        hash.update(buffer.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return hash.hex_digest();
}

Status add_entry(const fs::path& full, const std::string& relative, Manifest& manifest);

Status add_children(const fs::path& dir, const std::string& relative, Manifest& manifest) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (Status added =
                add_entry(it->path(), relative.empty() ? name : fmt::format("{}/{}", relative, name), manifest);
            !added)
            return added;
    }
    if (ec) return make_error(ErrorCode::io, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
    return Ok{};
}

Status add_entry(const fs::path& full, const std::string& relative, Manifest& manifest) {
    struct stat info {};
    if (::lstat(full.c_str(), &info) != 0) return errno_error("read", full);
    ManifestEntry entry;
    if (S_ISREG(info.st_mode)) {
        auto hash = hash_file(full);
        if (!hash) return hash.error();
        entry.executable = (info.st_mode & 0111) != 0;
        entry.hash = std::move(*hash);
    } else if (S_ISLNK(info.st_mode)) {
        std::error_code ec;
        const fs::path target = fs::read_symlink(full, ec);
        if (ec)
            return make_error(ErrorCode::io, fmt::format("cannot read symlink {}: {}", full.string(), ec.message()));
        entry.type = EntryType::symlink;
        entry.hash = sha256_hex(target.string());
    } else if (S_ISDIR(info.st_mode)) {
        entry.type = EntryType::directory;
        manifest[relative] = entry;
        return add_children(full, relative, manifest);
    } else {
        return make_error(ErrorCode::io, full.string() + " is not a file, directory or symlink");
    }
    manifest[relative] = std::move(entry);
    return Ok{};
}

std::string line_of(const std::string& path, const ManifestEntry& entry) {
    static constexpr std::array<const char*, 3> kTypes = {"file", "dir", "symlink"};
    return fmt::format("{}{}{} {}\n", kTypes[static_cast<std::size_t>(entry.type)], entry.executable ? " x " : " - ",
                       escaped(path), entry.hash.empty() ? "-" : entry.hash);
}

// Escaped path -> line; the path lies between the second space and the last.
std::map<std::string, std::string> lines_by_path(std::string_view text) {
    std::map<std::string, std::string> lines;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
        text.remove_prefix(line.size());
        const auto first = line.find(' ');
        const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
        const auto last = line.rfind(' ');
        if (second == std::string_view::npos || last <= second) continue;
        lines[std::string(line.substr(second + 1, last - second - 1))] = std::string(line);
    }
    return lines;
}

}  // namespace

std::string escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

Error errno_error(const std::string& what, const fs::path& path) {
    return make_error(ErrorCode::io, fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(errno)));
}

Result<std::string> output_path(const std::string& output, const fs::path& dir) {
    const InsideRoot inside = inside_root(output);
    if (!inside || inside.path.empty())  // the directory itself is not an output either
        return make_error(ErrorCode::invalid_value,
                          fmt::format("output '{}' is not a path inside {}", output, dir.string()));
    return inside.path;
}

Result<Manifest> manifest_of_outputs(const fs::path& dir, const std::vector<std::string>& outputs) {
    Manifest manifest;
    std::vector<std::string> relatives;
    for (const auto& output : outputs) {
        auto relative = output_path(output, dir);
        if (!relative) return relative.error();
        if (Status direct = check_no_linked_parent(dir, *relative); !direct) return direct.error();
        relatives.push_back(*relative);
        const fs::path full = dir / *relative;
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(full, ec)))
            return make_error(ErrorCode::io,
                              fmt::format("output '{}' was not built: {} does not exist", output, full.string()));
        for (auto parent = fs::path(*relative).parent_path(); !parent.empty(); parent = parent.parent_path())
            manifest.emplace(parent.generic_string(), ManifestEntry{EntryType::directory, false, {}});
        if (Status added = add_entry(full, *relative, manifest); !added) return added.error();
    }
    if (Status inside = check_links_stay_inside(dir, manifest, relatives); !inside) return inside.error();
    return manifest;
}

Result<Manifest> manifest_of_tree(const fs::path& root) {
    Manifest manifest;
    if (Status added = add_children(root, "", manifest); !added) return added.error();
    return manifest;
}

Result<Manifest> manifest_of_files(const fs::path& dir, const std::vector<std::string>& files) {
    Manifest manifest;
    for (const auto& file : files)
        if (Status added = add_entry(dir / file, file, manifest); !added) return added.error();
    return manifest;
}

std::string manifest_text(const Manifest& manifest) {
    std::string text;
    for (const auto& [path, entry] : manifest) text += line_of(path, entry);
    return text;
}

std::string manifest_digest(const Manifest& manifest) { return "sha256:" + sha256_hex(manifest_text(manifest)); }

std::string first_difference(std::string_view stored_text, const Manifest& now) {
    const auto before = lines_by_path(stored_text);
    const auto after = lines_by_path(manifest_text(now));
    auto a = before.begin();
    auto b = after.begin();
    while (a != before.end() || b != after.end()) {
        if (b == after.end() || (a != before.end() && a->first < b->first)) return a->first + " removed";
        if (a == before.end() || b->first < a->first) return b->first + " added";
        if (a->second != b->second) return a->first + " changed";
        ++a;
        ++b;
    }
    return {};
}

}  // namespace tandem::artifact
