// devloop and shipper as a user runs them: real binaries, real files, real git repositories.
#include <doctest/doctest.h>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <tandem/project.hpp>

#include <nlohmann/json.hpp>

#include <fstream>

namespace fs = std::filesystem;
using tandem::test::CommandResult;
using tandem::test::git;
using tandem::test::run_command;
using tandem::test::TempDir;

namespace {

const fs::path kExample = fs::path(TANDEM_SOURCE_DIR) / "examples/hello";

CommandResult devloop(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv{TANDEM_DEVLOOP};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, cwd);
}

CommandResult shipper(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv{TANDEM_SHIPPER};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, cwd);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A copy of the example as the first commit of a fresh repository.
void make_example_repo(const fs::path& dir) {
    fs::copy(kExample, dir, fs::copy_options::recursive);
    git(dir, {"init", "-q"});
    git(dir, {"add", "-A"});
    git(dir, {"commit", "-q", "-m", "example"});
}

std::string head_commit(const fs::path& repo) {
    std::string id = git(repo, {"rev-parse", "HEAD"});
    return id.substr(0, id.find('\n'));
}

}  // namespace

TEST_CASE("devloop validate and plan the bundled example under wip by default") {
    auto validate = devloop({"validate"}, kExample);
    CHECK(validate.exit_code == 0);
    CHECK(validate.out == "tandem.yaml is valid: project 'hello', 3 services (store, api, worker), "
                          "policy 'wip' (devloop's default)\n");

    auto plan = devloop({"plan", "--output", "json"}, kExample);
    REQUIRE(plan.exit_code == 0);
    const auto j = nlohmann::json::parse(plan.out);
    CHECK(j["policy"] == "wip");
    CHECK(j["bootstrap"] == true);
    CHECK(j["incident"] == false);
    // store first; api and worker depend on it and come up together in the next wave.
    REQUIRE(j["waves"].size() == 2);
    CHECK(j["waves"][0]["steps"][0]["service"] == "store");
    CHECK(j["waves"][1]["steps"].size() == 2);
}

TEST_CASE("shipper plans from the commit, refuses a bootstrap without the flag, and shows it with it") {
    TempDir tmp;
    const fs::path repo = tmp.path() / "repo";
    make_example_repo(repo);

    auto refused = shipper({"plan"}, repo);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "--bootstrap"));
    CHECK(refused.out.empty());

    auto plan = shipper({"plan", "--bootstrap", "--output", "json"}, repo);
    REQUIRE(plan.exit_code == 0);
    const auto j = nlohmann::json::parse(plan.out);
    CHECK(j["policy"] == "harness");
    CHECK(j["incident"] == true);
    CHECK(j["revision"] == head_commit(repo));
    CHECK(j["max_parallel"] == 1);
    // One update at a time: three services, three waves.
    CHECK(j["waves"].size() == 3);
}

TEST_CASE("shipper reads the committed tree, not the working tree - devloop reads the disk") {
    TempDir tmp;
    const fs::path repo = tmp.path() / "repo";
    make_example_repo(repo);
    std::ofstream(repo / "tandem.yaml", std::ios::app) << "replicaz: 3\n";

    auto from_git = shipper({"validate"}, repo);
    CHECK(from_git.exit_code == 0);
    CHECK(contains(from_git.out, "at commit " + head_commit(repo).substr(0, 12)));

    auto from_disk = devloop({"validate", "-o", "json"}, repo);
    CHECK(from_disk.exit_code == 1);
    const auto j = nlohmann::json::parse(from_disk.out);
    CHECK(j["error"]["code"] == "unknown_key");
    CHECK(j["error"]["file"] == "tandem.yaml");
    CHECK(j["error"]["line"] > 0);
    CHECK(j["error"]["column"] == 1);

    auto disk_via_shipper = shipper({"validate", "--source", "disk"}, repo);
    CHECK(disk_via_shipper.exit_code == 1);
    CHECK(contains(disk_via_shipper.err, "unknown key 'replicaz'"));
}

TEST_CASE("shipper --ref plans an older commit and --repo takes a path inside the repository") {
    TempDir tmp;
    const fs::path repo = tmp.path() / "repo";
    fs::create_directories(repo);
    git(repo, {"init", "-q"});
    fs::copy(kExample, repo / "deploy", fs::copy_options::recursive);
    git(repo, {"add", "-A"});
    git(repo, {"commit", "-q", "-m", "first"});
    const std::string first = head_commit(repo);
    std::ofstream(repo / "deploy/tandem.yaml", std::ios::trunc)
        << "version: 1\nservices:\n  solo:\n    run: [sleep, '1000']\n";
    git(repo, {"commit", "-q", "-am", "second"});

    auto newest = shipper({"validate", "--repo", repo.string(), "-f", "deploy/tandem.yaml"}, tmp.path());
    CHECK(newest.exit_code == 0);
    CHECK(contains(newest.out, "1 service (solo)"));

    auto older = shipper({"validate", "--repo", repo.string(), "--ref", first, "-f", "deploy/tandem.yaml"}, tmp.path());
    CHECK(older.exit_code == 0);
    CHECK(contains(older.out, "3 services (store, api, worker)"));

    auto missing = shipper({"validate", "--repo", repo.string(), "--ref", "no-such-branch"}, tmp.path());
    CHECK(missing.exit_code == 1);
    CHECK(contains(missing.err, "cannot resolve 'no-such-branch'"));
}

TEST_CASE("--policy wins over policy: in the file, which wins over the tool's default") {
    TempDir tmp;
    tmp.write("tandem.yaml", "version: 1\npolicy: harness\nservices:\n  solo:\n    run: [sleep, '1000']\n");
    auto from_file = devloop({"validate"}, tmp.path());
    CHECK(contains(from_file.out, "policy 'harness' (from `policy:` in the file)"));
    auto from_flag = devloop({"validate", "--policy", "wip"}, tmp.path());
    CHECK(contains(from_flag.out, "policy 'wip' (from --policy)"));
    auto unknown = devloop({"validate", "--policy", "harnes"}, tmp.path());
    CHECK(unknown.exit_code == 1);
    CHECK(contains(unknown.err, "harnes"));
}

TEST_CASE("plan against a recorded state: a synced file under wip, a full rollout under harness") {
    TempDir tmp;
    fs::copy(kExample, tmp.path() / "p", fs::copy_options::recursive);
    const fs::path project = tmp.path() / "p";
    // Record every service as running from its current spec, under each policy set.
    for (const std::string policy : {"wip", "harness"}) {
        tandem::ProjectOptions options;
        options.policy = policy;
        auto loaded = tandem::load_project(project, options);
        REQUIRE(loaded.ok());
        nlohmann::json services;
        for (const auto& s : loaded->spec.services)
            services[s.name] = {{"fingerprint", tandem::fingerprint(loaded->spec, s)}, {"replicas", s.replicas}, {"state", "ready"}};
        std::ofstream(tmp.path() / (policy + ".json")) << nlohmann::json{{"services", services}}.dump();
    }
    const std::string wip_state = (tmp.path() / "wip.json").string();
    const std::string harness_state = (tmp.path() / "harness.json").string();

    auto unchanged = devloop({"plan", "--observed", wip_state}, project);
    CHECK(unchanged.exit_code == 0);
    CHECK(contains(unchanged.out, "nothing to do"));

    auto wip = devloop({"plan", "-o", "json", "--observed", wip_state, "--changed", "static/greeting.txt"}, project);
    REQUIRE(wip.exit_code == 0);
    auto w = nlohmann::json::parse(wip.out);
    REQUIRE(w["waves"].size() == 1);
    CHECK(w["waves"][0]["steps"][0]["service"] == "api");
    REQUIRE(w["waves"][0]["steps"][0]["actions"].size() == 1);
    CHECK(w["waves"][0]["steps"][0]["actions"][0]["kind"] == "sync");

    auto harness = devloop({"plan", "-o", "json", "--policy", "harness", "--observed", harness_state, "--changed",
                            "static/greeting.txt"},
                           project);
    REQUIRE(harness.exit_code == 0);
    auto h = nlohmann::json::parse(harness.out);
    REQUIRE(h["waves"].size() == 1);
    const auto& actions = h["waves"][0]["steps"][0]["actions"];
    REQUIRE(actions.size() == 2);
    CHECK(actions[0]["kind"] == "build");
    CHECK(actions[1]["kind"] == "replace");
    CHECK(actions[1]["rollout"]["strategy"] == "rolling");

    auto denied = devloop({"plan", "--policy", "harness", "--observed", harness_state, "--reset", "store"}, project);
    CHECK(denied.exit_code == 1);
    CHECK(contains(denied.err, "database.reset"));

    auto bad_state = devloop({"plan", "--observed", (tmp.path() / "missing.json").string()}, project);
    CHECK(bad_state.exit_code == 1);
    CHECK(contains(bad_state.err, "missing.json"));
}

TEST_CASE("policies lists the built-in and the project's sets and shows every knob of one") {
    TempDir tmp;
    tmp.write("tandem.yaml", "version: 1\npolicies:\n  staging:\n    from: harness\n    database:\n      reset: allow\n"
                             "services:\n  solo:\n    run: [sleep, '1000']\n");
    auto list = devloop({"policies"}, tmp.path());
    CHECK(list.exit_code == 0);
    CHECK(contains(list.out, "* wip"));
    CHECK(contains(list.out, "  harness"));
    CHECK(contains(list.out, "  staging"));
    CHECK(contains(list.out, "from harness"));

    auto show = devloop({"policies", "staging", "-o", "json"}, tmp.path());
    REQUIRE(show.exit_code == 0);
    auto j = nlohmann::json::parse(show.out);
    CHECK(j["knobs"]["database.reset"] == "allow");
    CHECK(j["knobs"]["rollout.strategy"] == "rolling");
    CHECK(j["lineage"] == nlohmann::json::array({"staging", "harness"}));
}

TEST_CASE("bad arguments exit 2 with a message that names them") {
    auto unknown_command = devloop({"deploy"}, kExample);
    CHECK(unknown_command.exit_code == 2);
    CHECK(contains(unknown_command.err, "unknown command 'deploy'"));
    auto unknown_option = devloop({"plan", "--fast"}, kExample);
    CHECK(unknown_option.exit_code == 2);
    CHECK(contains(unknown_option.err, "unknown option '--fast'"));
    auto missing_value = devloop({"plan", "--policy"}, kExample);
    CHECK(missing_value.exit_code == 2);
    CHECK(contains(missing_value.err, "--policy needs a value"));
    auto bad_output = devloop({"plan", "--output", "yaml"}, kExample);
    CHECK(bad_output.exit_code == 2);
    for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
             {"--http-max-connections", "0"}, {"--http-max-connections-per-peer", "many"},
             {"--http-header-timeout", "soon"}, {"--http-idle-timeout", "-1s"}, {"--http-allowed-host", "http://x:1"}}) {
        auto bad_limit = devloop({"up", flag, value}, kExample);
        CHECK(bad_limit.exit_code == 2);
        CHECK_MESSAGE(contains(bad_limit.err, flag + " takes"), bad_limit.err);
    }
    auto help = shipper({"--help"}, kExample);
    CHECK(help.exit_code == 0);
    CHECK(contains(help.out, "plan"));
    CHECK(contains(help.out, "default: harness"));
    auto no_file = devloop({"validate", "-f", "nope/tandem.yaml"}, kExample);
    CHECK(no_file.exit_code == 1);
    CHECK(contains(no_file.err, "tandem.yaml"));
}

TEST_CASE("policies prints its two tables with columns aligned, a name longer than its column followed by a space") {
    TempDir tmp;
    tmp.write("tandem.yaml", "version: 1\npolicies:\n  staging-for-release:\n    from: harness\n"
                             "    description: harness rules that allow a database reset\n"
                             "    database:\n      reset: allow\nservices:\n  solo:\n    run: [sleep, '1000']\n");
    auto list = devloop({"policies"}, tmp.path());
    REQUIRE(list.exit_code == 0);
    CHECK(list.out.rfind("policy sets (* active):\n* wip         built in        Work in progress", 0) == 0);
    CHECK(contains(list.out, "\n  harness     built in        Release harness"));
    CHECK(contains(list.out, "\n  staging-for-release from harness    harness rules that allow a database reset\n"));

    auto show = devloop({"policies", "staging-for-release"}, tmp.path());
    REQUIRE(show.exit_code == 0);
    CHECK(show.out.rfind("policy set 'staging-for-release' (from harness): harness rules that allow a database reset\n"
                         "\n"
                         "knob                        value         seed-table row\n"
                         "crash.on_crash              revert        Add segfaults to see what breaks\n",
                         0) == 0);
    CHECK(contains(show.out, "\ndatabase.reset              allow         Reset the database\n"));
    CHECK(contains(show.out, "\nbootstrap.from_scratch      require_flag  Bring up all services from scratch\n"));
}
