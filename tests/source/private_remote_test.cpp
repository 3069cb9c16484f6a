// GitMirror::fetch against remotes that need more than a URL: a remote that never answers (the
// fetch is abandoned at its timeout), an https server that wants a token, an sshd that wants a
// key and whose host key must be known.
#include "source/private_remotes.hpp"
#include "source/upstream_repo.hpp"

#include <future>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A bare copy of a repository with one commit on main, under `root` as `name`.
std::string bare_repo(const fs::path& root, const std::string& name) {
    UpstreamRepo work;
    work.write("tandem.yaml", "version: 1\nservices: {}\n");
    work.run({"branch", "-M", "main"});
    const std::string commit = work.commit("first");
    const auto made = run_command({"git", "clone", "-q", "--bare", work.url(), (root / name).string()});
    REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    return commit;
}

GitMirror open_mirror(const TempDir& state, const std::string& url) {
    auto mirror = GitMirror::open(state.path() / "mirror.git", url);
    REQUIRE_MESSAGE(mirror.ok(), mirror.error().to_string());
    return std::move(*mirror);
}

}  // namespace

TEST_CASE("a fetch from a remote that accepts the connection and never answers is abandoned at its timeout") {
    SilentServer silent;
    TempDir state;
    const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/repo.git";
    GitMirror mirror = open_mirror(state, url);
    FetchOptions options;
    options.timeout = 1000ms;
    auto fetching = std::async(std::launch::async, [&] { return mirror.fetch(options); });
    // Not a timing of performance: a hung fetch never returns, an abandoned one does.
    REQUIRE(fetching.wait_for(30s) == std::future_status::ready);
    const Status fetched = fetching.get();
    REQUIRE_FALSE(fetched.ok());
    CHECK(fetched.error().code == ErrorCode::timed_out);
    CHECK(contains(fetched.error().message, url));
    CHECK(contains(fetched.error().message, "took longer than 1s"));
    CHECK(silent.accepted() >= 1);
}

TEST_CASE("an https remote that requires a token: refused without it, fetched with it, the token never in a message") {
    TempDir served;
    const std::string commit = bare_repo(served.path(), "app.git");
    const std::string token = "tok-5f1e9c0d7a-never-print-me";
    TokenGitServer server(served.path(), token);
    TempDir state;
    GitMirror mirror = open_mirror(state, server.url("app.git"));

    auto refused = mirror.fetch();
    REQUIRE_FALSE(refused.ok());
    CHECK(contains(refused.error().message, server.url("app.git")));

    FetchOptions wrong;
    wrong.token = token + "-wrong";
    auto denied = mirror.fetch(wrong);
    REQUIRE_FALSE(denied.ok());
    CHECK_FALSE(contains(denied.error().message, wrong.token));

    FetchOptions options;
    options.token = token;
    auto fetched = mirror.fetch(options);
    REQUIRE_MESSAGE(fetched.ok(), fetched.error().to_string());
    auto head = mirror.resolve("main");
    REQUIRE(head.ok());
    CHECK(head->id == commit);
}

TEST_CASE("an ssh remote: fetched with a key and a known host key, refused when the host is unknown, and through the agent") {
    TestSshd sshd;
    TempDir served;
    const std::string commit = bare_repo(served.path(), "app.git");
    const std::string url = sshd.url(served.path() / "app.git");

    TempDir unknown_state;
    GitMirror unknown = open_mirror(unknown_state, url);
    FetchOptions strangers;
    strangers.ssh_key = sshd.user_key();
    strangers.known_hosts = sshd.empty_known_hosts();
    auto refused = unknown.fetch(strangers);
    REQUIRE_FALSE(refused.ok());
    CHECK_MESSAGE(contains(refused.error().message, "host key is not in " + sshd.empty_known_hosts().string()),
                  refused.error().message);

    TempDir state;
    GitMirror mirror = open_mirror(state, url);
    FetchOptions options;
    options.ssh_key = sshd.user_key();
    options.known_hosts = sshd.known_hosts();
    auto fetched = mirror.fetch(options);
    REQUIRE_MESSAGE(fetched.ok(), ((fetched.ok() ? std::string() : fetched.error().to_string()) + "\n" + sshd.log()));
    auto head = mirror.resolve("main");
    REQUIRE(head.ok());
    CHECK(head->id == commit);

    // No key given: the agent's.
    TestSshAgent agent(sshd.user_key());
    TempDir agent_state;
    GitMirror through_agent = open_mirror(agent_state, url);
    FetchOptions agent_options;
    agent_options.known_hosts = sshd.known_hosts();
    auto via_agent = through_agent.fetch(agent_options);
    CHECK_MESSAGE(via_agent.ok(), via_agent.error().to_string());
}
