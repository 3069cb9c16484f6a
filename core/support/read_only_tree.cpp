// Removal of read-only trees.
#include "support/read_only_tree.hpp"

#include <fmt/format.h>

namespace tandem {

namespace fs = std::filesystem;

Status remove_read_only_tree(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (!fs::exists(status)) return Ok{};
    auto failed = [&path](const std::string& what, const std::error_code& error) {
        return make_error(ErrorCode::io, fmt::format("cannot {} {}: {}", what, path.string(), error.message()));
    };
    if (fs::is_directory(status)) {
        // Removing an entry needs write permission on its directory (root has it anyway).
        constexpr auto writable = fs::perms::owner_all;
        fs::permissions(path, writable, fs::perm_options::add, ec);
        for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
            if (it->is_directory(ec) && !it->is_symlink(ec)) fs::permissions(it->path(), writable, fs::perm_options::add, ec);
        if (ec) return failed("make writable", ec);
    }
    fs::remove_all(path, ec);
    if (ec) return failed("remove", ec);
    return Ok{};
}

}  // namespace tandem
