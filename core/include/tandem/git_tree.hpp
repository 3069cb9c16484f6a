// The files of one commit of a git repository, read without a working tree: the read side
// of the git source of truth (shipper's default). Fetching and mirroring build on it.
#pragma once

#include <tandem/error.hpp>
#include <tandem/policy.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace tandem {

// Where a project lives in git: a repository, a ref, and a directory inside its tree.
struct GitLocation {
    std::filesystem::path repository;  // a work tree (or a directory inside one) or a bare repository
    std::string ref = "HEAD";          // a branch, tag, "HEAD" or a commit id
    std::string project_dir;           // relative to the top of the repository's tree; "" = the top
};

class GitTree {
public:
    // Opens the repository and resolves the ref to a commit.
    static Result<GitTree> open(const GitLocation& location);
    // The location of a project directory on disk: the work tree holding it and its path
    // inside that tree.
    static Result<GitLocation> locate(const std::filesystem::path& project_dir, std::string ref = "HEAD");

    GitTree(GitTree&&) noexcept;
    GitTree& operator=(GitTree&&) noexcept;
    ~GitTree();

    const std::string& commit() const;  // the full commit id
    std::string short_commit() const;   // its first 12 characters
    const std::string& ref() const;     // as given
    const std::string& prefix() const;  // the project's directory inside the repository ("" at the top)

    // A file's bytes at the commit, by its path relative to the project directory. Paths
    // that leave the project, symlinks and submodules are refused.
    Result<std::string> read(const std::string& relative_path) const;
    // read() as a FileReader for load_project().
    FileReader reader() const;

private:
    struct State;
    explicit GitTree(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace tandem
