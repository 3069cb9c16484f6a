// Writable copies of read-only trees.
#include "support/writable_copy.hpp"

namespace tandem {

namespace fs = std::filesystem;

namespace {

Error copy_error(const fs::path& path, const std::string& what, const std::error_code& ec) {
    return make_error(ErrorCode::io, "cannot " + what + ": " + ec.message(), SourceLocation{path.string(), 0, 0});
}

}  // namespace

Status copy_writable(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) return copy_error(to, "copy the snapshot " + from.string(), ec);
    fs::permissions(to, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec, ec);
    for (auto it = fs::recursive_directory_iterator(to, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it->is_directory() && !it->is_symlink())
            fs::permissions(it->path(), fs::perms::owner_write, fs::perm_options::add, ec);
    }
    if (ec) return copy_error(to, "make the copy writable", ec);
    return Ok{};
}

}  // namespace tandem
