// Copying, sealing and removing artifact trees.
#include "artifact/file_tree.hpp"

#include "support/read_only_tree.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <sys/stat.h>

namespace tandem::artifact {

namespace fs = std::filesystem;

namespace {

Error fs_error(const std::string& what, const fs::path& path, const std::error_code& ec) {
    return make_error(ErrorCode::io, fmt::format("cannot {} {}: {}", what, path.string(), ec.message()));
}

Status copy_entry(const ManifestEntry& entry, const fs::path& source, const fs::path& copy) {
    std::error_code ec;
    switch (entry.type) {
        case EntryType::directory: fs::create_directory(copy, ec); break;
        case EntryType::file: fs::copy_file(source, copy, ec); break;
        case EntryType::symlink: {
            const fs::path target = fs::read_symlink(source, ec);
            if (!ec) fs::create_symlink(target, copy, ec);
            break;
        }
    }
    if (ec) return fs_error(fmt::format("copy {} to", source.string()), copy, ec);
    return Ok{};
}

}  // namespace

Status copy_sealed(const Manifest& manifest, const fs::path& from, const fs::path& to) {
    for (const auto& [path, entry] : manifest)  // parents come before their children
        if (Status copied = copy_entry(entry, from / path, to / path); !copied) return copied;
    for (const auto& [path, entry] : manifest) {
        if (entry.type == EntryType::symlink) continue;  // chmod would follow it
        const mode_t mode = entry.type == EntryType::file && !entry.executable ? 0444 : 0555;
        if (::chmod((to / path).c_str(), mode) != 0)
            return errno_error("make read-only", to / path);
    }
    return Ok{};
}

Status replace_with_symlink(const fs::path& link, const fs::path& target) {
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(link, ec)))
        if (Status removed = remove_read_only_tree(link); !removed) return removed;
    // A new link renamed over the old file: a service never sees the path missing.
    fs::path temp = link;
    temp += ".tandem-link";
    fs::remove(temp, ec);
    fs::create_symlink(target, temp, ec);
    if (ec) return fs_error("create symlink", temp, ec);
    fs::rename(temp, link, ec);
    if (ec) {
        fs::remove(temp, ec);
        return fs_error("replace", link, ec);
    }
    return Ok{};
}

}  // namespace tandem::artifact
