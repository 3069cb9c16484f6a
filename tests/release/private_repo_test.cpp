// shipper run following repositories that are not public: a remote that never answers, and an
// https remote that requires a token, which must never show in any output or file.
#include "source/private_remotes.hpp"
#include "release/release_fixture.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tandem;
using namespace tandem::test;
using nlohmann::json;

namespace {

json release_of(const fs::path& state) { return shipper_status(state).value("release", json::object()); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every regular file below `dir` whose bytes contain `secret`.
std::vector<fs::path> files_containing(const fs::path& dir, const std::string& secret) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied))
        if (entry.is_regular_file() && !entry.is_symlink() && contains(read_text(entry.path()), secret))
            found.push_back(entry.path());
    return found;
}

}  // namespace

TEST_CASE("shipper run abandons a fetch from a remote that never answers, reports it, stays responsive and retries") {
    SilentServer silent;
    TempDir state;
    const std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/repo.git";
    BackgroundProgram engine(state.path(),
                                       {TANDEM_SHIPPER, "run", "--repo", url, "--state-dir", state.path().string(),
                                        "--poll", "200ms", "--fetch-timeout", "1s", "--http-port", "0"},
                                       state.path() / "shipper.log");
    CHECK_MESSAGE(eventually([&] { return contains(release_of(state.path()).value("last_error", ""), "took longer than 1s"); },
                             20000ms),
                  read_text(state.path() / "shipper.log"));
    CHECK(eventually([&] { return silent.accepted() >= 2; }, 20000ms));  // the next poll tried again
    const auto status = shipper(state.path(), {"status"});              // and the engine still answers
    CHECK(status.exit_code == 0);
    CHECK(contains(status.out, "last error: "));
    engine.stop();
}

TEST_CASE("shipper follows an https repository that needs a token, from a file or the environment, and never shows it") {
    Upstream upstream;
    const int port = free_port();
    const auto first = upstream.commit({{"tandem.yaml", project_yaml(port)}, {"version.txt", "v1\n"}}, "first");
    TempDir served;
    REQUIRE(run_command({"git", "clone", "-q", "--bare", upstream.path().string(), (served.path() / "app.git").string()})
                .exit_code == 0);
    const std::string token = "tok-8c2f41d9e7-must-not-leak";
    TokenGitServer server(served.path(), token);
    TempDir secrets;
    const auto token_file = secrets.write("token", token + "\n");

    for (const bool from_environment : {false, true}) {
        CAPTURE(from_environment);
        TempDir state;
        std::vector<std::string> argv{TANDEM_SHIPPER, "run", "--repo", server.url("app.git"), "--state-dir",
                                      state.path().string(), "--poll", "100ms", "--bootstrap", "--http-port", "0"};
        if (from_environment) ::setenv("SHIPPER_GIT_TOKEN", token.c_str(), 1);
        else argv.insert(argv.end(), {"--token-file", token_file.string()});
        BackgroundProgram engine(state.path(), argv, state.path() / "shipper.log");
        ::unsetenv("SHIPPER_GIT_TOKEN");
        REQUIRE_MESSAGE(eventually([&] { return release_of(state.path()).value("deployed", "") == first; }, 30000ms),
                        read_text(state.path() / "shipper.log"));
        CHECK(served_version(port) == "v1");

        std::string outputs;
        for (const std::vector<std::string>& command :
             {std::vector<std::string>{"status"}, {"status", "-o", "json"}, {"history"}, {"history", "-o", "json"},
              {"audit", "show"}, {"audit", "show", "-o", "json"}, {"sync", "-o", "json"}, {"diff", "main"}}) {
            const auto result = shipper(state.path(), command);
            outputs += result.out + result.err;
        }
        engine.stop();
        CHECK_FALSE(contains(outputs, token));
        CHECK(files_containing(state.path(), token).empty());  // log, audit, history, mirror, api.json, ...
        CHECK(files_containing(state.path(), "eC1hY2Nlc3MtdG9rZW46dG9rLThjMmY0MWQ5ZTctbXVzdC1ub3QtbGVhaw").empty());  // as basic auth
    }
}
