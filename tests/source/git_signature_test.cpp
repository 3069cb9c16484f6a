// GitMirror::verify_signature with real SSH keys and commits signed by git itself.
#include <doctest/doctest.h>

#include "source/upstream_repo.hpp"

#include <tandem/git_mirror.hpp>

#include <cstdlib>
#include <fstream>
#include <optional>

namespace fs = std::filesystem;
using tandem::ErrorCode;
using tandem::GitMirror;
using tandem::test::fetched_mirror;
using tandem::test::MirrorState;
using tandem::test::read_text;
using tandem::test::run_command;
using tandem::test::TempDir;
using tandem::test::UpstreamRepo;

namespace {

// Two ed25519 keys; only the first is in the allowed-signers file.
struct Keys {
    TempDir dir;
    fs::path allowed = dir.path() / "allowed_signers";
    fs::path trusted = make("trusted");
    fs::path stranger = make("stranger");

    Keys() { dir.write("allowed_signers", "test@example.com namespaces=\"git\" " + read_text(trusted.string() + ".pub")); }

    fs::path make(const std::string& name) const {
        const fs::path key = dir.path() / name;
        const auto made = run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.string(), "-C", "test"});
        REQUIRE_MESSAGE(made.exit_code == 0, made.err);
        return key;
    }
};

std::string signed_commit(const UpstreamRepo& upstream, const fs::path& key, const std::string& message) {
    upstream.write("file.txt", message + "\n");
    upstream.run({"add", "-A"});
    upstream.run({"-c", "gpg.format=ssh", "-c", "user.signingkey=" + key.string(), "commit", "-q", "-S", "-m", message});
    return upstream.run({"rev-parse", "HEAD"});
}

// The same commit with another message and the original's signature: signed bytes that differ.
std::string tampered_copy(const UpstreamRepo& upstream, const std::string& commit, const TempDir& scratch) {
    std::string raw = upstream.run({"cat-file", "commit", commit}) + "\n";
    const auto at = raw.rfind("good\n");
    REQUIRE(at != std::string::npos);
    raw.replace(at, 4, "evil");
    const auto file = scratch.write("tampered-commit", raw);
    const std::string id = upstream.run({"hash-object", "-w", "-t", "commit", file.string()});
    upstream.run({"update-ref", "refs/heads/tampered", id});
    return id;
}

// Sets PATH for one scope.
class PathOverride {
public:
    explicit PathOverride(const std::string& value) {
        if (const char* old = std::getenv("PATH")) old_ = old;
        ::setenv("PATH", value.c_str(), 1);
    }
    ~PathOverride() {
        if (old_) ::setenv("PATH", old_->c_str(), 1);
        else ::unsetenv("PATH");
    }
    PathOverride(const PathOverride&) = delete;
    PathOverride& operator=(const PathOverride&) = delete;

private:
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("SSH signatures: an allowed signer passes, and unsigned, unknown or tampered commits do not") {
    Keys keys;
    UpstreamRepo upstream;
    TempDir scratch;
    const std::string unsigned_id = upstream.commit("unsigned");
    const std::string stranger_id = signed_commit(upstream, keys.stranger, "by a stranger");
    const std::string good_id = signed_commit(upstream, keys.trusted, "good");
    const std::string tampered_id = tampered_copy(upstream, good_id, scratch);

    MirrorState state;
    GitMirror mirror = fetched_mirror(state, upstream);

    auto good = mirror.verify_signature(good_id, keys.allowed);
    CHECK_MESSAGE(good.ok(), good.error().message);

    auto unsigned_result = mirror.verify_signature(unsigned_id, keys.allowed);
    REQUIRE_FALSE(unsigned_result.ok());
    CHECK(unsigned_result.error().code == ErrorCode::policy_denied);
    CHECK(unsigned_result.error().message.find("commit " + unsigned_id.substr(0, 12) + " is not signed") == 0);

    auto stranger = mirror.verify_signature(stranger_id, keys.allowed);
    REQUIRE_FALSE(stranger.ok());
    CHECK(stranger.error().code == ErrorCode::policy_denied);
    CHECK(stranger.error().message.find("no allowed signer made the signature of commit " +
                                        stranger_id.substr(0, 12)) == 0);

    auto tampered = mirror.verify_signature(tampered_id, keys.allowed);
    REQUIRE_FALSE(tampered.ok());
    CHECK(tampered.error().code == ErrorCode::policy_denied);
    CHECK(tampered.error().message.find("does not verify") != std::string::npos);
    CHECK(tampered.error().message.find("test@example.com") != std::string::npos);

    auto no_file = mirror.verify_signature(good_id, keys.dir.path() / "missing");
    REQUIRE_FALSE(no_file.ok());
    CHECK(no_file.error().message.find("missing") != std::string::npos);
}

TEST_CASE("without ssh-keygen, checking a signature says to install openssh-client") {
    Keys keys;
    UpstreamRepo upstream;
    const std::string good_id = signed_commit(upstream, keys.trusted, "good");
    MirrorState state;
    GitMirror mirror = fetched_mirror(state, upstream);

    TempDir empty_bin;
    PathOverride no_programs(empty_bin.path().string());
    auto checked = mirror.verify_signature(good_id, keys.allowed);
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.error().message.find("openssh-client") != std::string::npos);
}
