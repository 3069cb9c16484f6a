// `updates.coalesce` under devloop: true folds what arrives during a pass into one more pass;
// false gives each batch of changes that arrives during a pass a pass of its own, in order.
#include <doctest/doctest.h>

#include "loop/loop_session.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tandem::test::eventually;
using tandem::test::read_text;
using tandem::test::service;
using tandem::test::Session;

namespace {

// A project whose `web` build takes a while and logs each run, under a policy `p` from wip
// with `updates.coalesce: <coalesce>`.
std::string project(bool coalesce) {
    return std::string("version: 1\npolicy: p\npolicies:\n  p:\n    from: wip\n    updates:\n      coalesce: ") +
           (coalesce ? "true" : "false") + "\nservices:\n" +
           service("web", "    build: {command: 'touch started.$$; sleep 0.5; echo built >> builds.log', inputs: [src/**]}\n");
}

bool build_running(const fs::path& dir, int builds_before) {
    int started = 0;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().rfind("started.", 0) == 0) ++started;
    return started > builds_before;
}

int lines(const fs::path& file) {
    std::istringstream in(read_text(file));
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
}

// Starts a pass for one change, then sends three more batches while its build runs; returns
// how many passes (and builds) they made.
std::pair<std::uint64_t, int> passes_for_four_batches(Session& s) {
    const auto before = s.loop->stats();
    const int builds_before = lines(s.dir.path() / "builds.log");
    s.loop->changed({"src/a.c"});
    REQUIRE(eventually([&] { return build_running(s.dir.path(), builds_before); }, 10000ms));
    s.loop->changed({"src/b.c"});
    s.loop->changed({"src/c.c"});
    s.loop->changed({"src/d.c"});
    REQUIRE(s.loop->wait_idle().ok());
    const auto after = s.loop->stats();
    return {after.passes - before.passes, lines(s.dir.path() / "builds.log") - builds_before};
}

}  // namespace

TEST_CASE("with updates.coalesce false each batch of changes that arrives during a pass gets a pass of its own") {
    Session s(project(false), "p");
    const auto [passes, builds] = passes_for_four_batches(s);
    CHECK(passes == 4);
    CHECK(builds == 4);
    CHECK(s.loop->stats().cancelled == 0);  // nothing is overtaken: each batch waits its turn
}

TEST_CASE("with updates.coalesce true the batches that arrive during a pass fold into one more pass") {
    Session s(project(true), "p");
    const auto [passes, builds] = passes_for_four_batches(s);
    CHECK(passes <= 2);  // the first, and one for the three that came during it (fewer if it was cancelled)
    CHECK(builds <= 2);
}
