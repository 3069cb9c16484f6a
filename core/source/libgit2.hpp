// libgit2 from C++: the process-wide init, owning handles for its objects, and its last error.
#pragma once

#include <git2.h>

#include <string>
#include <utility>

namespace tandem::detail {

// libgit2 wants one process-wide init; it is reference counted, so pairing each owner's
// lifetime with init/shutdown keeps it balanced.
struct Libgit2 {
    Libgit2() { git_libgit2_init(); }
    ~Libgit2() { git_libgit2_shutdown(); }
    Libgit2(const Libgit2&) = delete;
    Libgit2& operator=(const Libgit2&) = delete;
};

// libgit2's reason for the last failed call on this thread.
inline std::string last_git_error() {
    const git_error* e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

template <class T, void (*Free)(T*)>
struct Owned {
    T* ptr = nullptr;
    Owned() = default;
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    Owned(Owned&& other) noexcept : ptr(std::exchange(other.ptr, nullptr)) {}
    Owned& operator=(Owned&& other) noexcept {
        std::swap(ptr, other.ptr);
        return *this;
    }
    ~Owned() { if (ptr) Free(ptr); }
};

using Repository = Owned<git_repository, git_repository_free>;
using Object = Owned<git_object, git_object_free>;
using Commit = Owned<git_commit, git_commit_free>;
using Tree = Owned<git_tree, git_tree_free>;
using TreeEntry = Owned<git_tree_entry, git_tree_entry_free>;
using Blob = Owned<git_blob, git_blob_free>;
using Reference = Owned<git_reference, git_reference_free>;
using Remote = Owned<git_remote, git_remote_free>;
using Diff = Owned<git_diff, git_diff_free>;

// A git_buf that frees itself.
struct Buffer {
    git_buf buf = GIT_BUF_INIT;
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { git_buf_dispose(&buf); }
    std::string str() const { return buf.ptr ? std::string(buf.ptr, buf.size) : std::string(); }
};

// The 40 hex digits of an object id.
inline std::string hex_id(const git_oid* id) {
    char text[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(text, sizeof text, id);
    return text;
}

}  // namespace tandem::detail
