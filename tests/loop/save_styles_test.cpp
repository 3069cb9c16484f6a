// One save is one pass, whatever the editor: in-place writes, rename-over saves (sed -i, vim
// with and without backupcopy, JetBrains' safe write, mv, cp) and a git checkout of several
// files, each through the real watcher and the real loop restarting a real service.
#include "loop/loop_session.hpp"
#include "source/settling_paths.hpp"
#include "support/http_client.hpp"
#include "support/run_command.hpp"

#include <tandem/ignore.hpp>
#include <tandem/watch.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tandem::test::eventually;
using tandem::test::git;
using tandem::test::run_command;

namespace {

// A service restarted by any change under src/, with the real watcher feeding the loop.
struct WatchedSession {
    tandem::test::Session session{"version: 1\nservices:\n" +
                                  tandem::test::service("app", "    watch: [{paths: [src/**], action: restart}]\n")};
    std::optional<tandem::IgnoreRules> rules;
    std::unique_ptr<tandem::DiskWatcher> watcher;

    explicit WatchedSession(const std::function<void(const fs::path&)>& prepare = {}) {
        session.dir.write("src/app.txt", "version 0\n");
        if (prepare) prepare(session.dir.path());
        auto loaded = tandem::IgnoreRules::load(session.dir.path());
        REQUIRE(loaded.ok());
        rules.emplace(std::move(*loaded));
        auto started = tandem::DiskWatcher::start(
            *rules, [this](std::vector<std::string> paths) { session.loop->changed(std::move(paths)); },
            [](const tandem::Error&) {});
        REQUIRE(started.ok());
        watcher = std::move(*started);
    }
    ~WatchedSession() { watcher.reset(); }  // before the loop it feeds goes

    fs::path path(const std::string& relative) const { return session.dir.path() / relative; }

    // Saves once and counts the passes it caused (finished or cancelled), once things are calm.
    // A save whose steps were spread over more than the watcher's quiet period (this thread
    // descheduled between them on a loaded machine) is two saves by design, not a defect: it
    // is saved again, a few times at most, until its steps come within the period.
    std::size_t passes_for(const std::function<void()>& save) {
        std::size_t passes = 0;
        for (int attempt = 1; attempt <= 5; ++attempt) {
            std::chrono::steady_clock::duration took{};
            passes = passes_of_one(save, took);
            if (passes == 1 || took < tandem::detail::SettlingPaths::kQuiet) return passes;
            MESSAGE("a save took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                   << " ms, longer than the quiet period: saved again");
        }
        return passes;
    }

private:
    std::size_t passes_of_one(const std::function<void()>& save, std::chrono::steady_clock::duration& took) {
        const auto before = session.loop->stats();
        const int replica_before = session.replica_id("app");
        const auto started = std::chrono::steady_clock::now();
        save();
        took = std::chrono::steady_clock::now() - started;
        REQUIRE(eventually([&] { return session.loop->stats().passes > before.passes; }, 10000ms));
        // Anything a second pass would come from has reached the loop by then.
        std::this_thread::sleep_for(400ms);
        REQUIRE(session.loop->wait_idle().ok());
        CHECK(session.replica_id("app") != replica_before);  // it did restart
        const auto after = session.loop->stats();
        return (after.passes - before.passes) + (after.cancelled - before.cancelled);
    }
};

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::trunc);
    out << text;
}

void run(const std::vector<std::string>& argv, const fs::path& cwd) {
    const auto result = run_command(argv, cwd);
    REQUIRE_MESSAGE(result.exit_code == 0, argv[0] << ": " << result.err);
}

constexpr int kSaves = 5;  // a race lost once in a few saves shows up

}  // namespace

TEST_CASE("save styles: sed -i (a temp file renamed over the file) is one pass per save") {
    WatchedSession w;
    for (int i = 1; i <= kSaves; ++i)
        CHECK(w.passes_for([&] { run({"sed", "-i", "s/version .*/version " + std::to_string(i) + "/", "src/app.txt"},
                                     w.session.dir.path()); }) == 1);
}

TEST_CASE("save styles: vim without backupcopy (probe 4913, move the file to file~, write it anew) is one pass") {
    WatchedSession w;
    for (int i = 1; i <= kSaves; ++i)
        CHECK(w.passes_for([&] {
            write_file(w.path("src/4913"), "");
            fs::remove(w.path("src/4913"));
            write_file(w.path("src/.app.txt.swp"), "swap");
            fs::rename(w.path("src/app.txt"), w.path("src/app.txt~"));
            write_file(w.path("src/app.txt"), "version " + std::to_string(i) + "\n");
            ::chmod(w.path("src/app.txt").c_str(), 0644);
            fs::remove(w.path("src/app.txt~"));
        }) == 1);
}

TEST_CASE("save styles: vim with backupcopy (copy to file~, write in place, chmod) is one pass") {
    WatchedSession w;
    for (int i = 1; i <= kSaves; ++i)
        CHECK(w.passes_for([&] {
            fs::copy_file(w.path("src/app.txt"), w.path("src/app.txt~"), fs::copy_options::overwrite_existing);
            write_file(w.path("src/app.txt"), "version " + std::to_string(i) + "\n");
            ::chmod(w.path("src/app.txt").c_str(), 0644);
            fs::remove(w.path("src/app.txt~"));
        }) == 1);
}

TEST_CASE("save styles: the real vim, with and without backupcopy, is one pass per save") {
    if (run_command({"sh", "-c", "command -v vim"}).exit_code != 0) {
        MESSAGE("skipped: vim is not installed");
        return;
    }
    WatchedSession w;
    for (const char* backupcopy : {"no", "yes", "auto"})
        CHECK(w.passes_for([&] {
            run({"vim", "-u", "NONE", "-i", "NONE", "-N", "-es", std::string("+set writebackup backupcopy=") + backupcopy,
                 "+%s/version .*/version " + std::string(backupcopy) + "/", "+wq", "src/app.txt"},
                w.session.dir.path());
        }) == 1);
}

TEST_CASE("save styles: JetBrains safe write and mv of a file over the file are one pass each") {
    WatchedSession w;
    for (int i = 1; i <= kSaves; ++i) {
        CHECK(w.passes_for([&] {
            write_file(w.path("src/app.txt___jb_tmp___"), "jetbrains " + std::to_string(i) + "\n");
            fs::rename(w.path("src/app.txt"), w.path("src/app.txt___jb_old___"));
            fs::rename(w.path("src/app.txt___jb_tmp___"), w.path("src/app.txt"));
            fs::remove(w.path("src/app.txt___jb_old___"));
        }) == 1);
        // `mv` of a file written beforehand: from outside the project, and from a place in it
        // that no rule watches (written and settled first, as a file a user mv's would be).
        tandem::test::TempDir outside;
        write_file(outside.path() / "app.txt", "from outside " + std::to_string(i) + "\n");
        CHECK(w.passes_for([&] { run({"mv", (outside.path() / "app.txt").string(), "src/app.txt"}, w.session.dir.path()); }) == 1);
        write_file(w.path("app.txt.new"), "mv " + std::to_string(i) + "\n");
        REQUIRE(w.session.loop->wait_idle().ok());
        CHECK(w.passes_for([&] { run({"mv", "app.txt.new", "src/app.txt"}, w.session.dir.path()); }) == 1);
    }
}

TEST_CASE("save styles: an in-place write (VS Code) and cp over the file are one pass each") {
    WatchedSession w;
    w.session.dir.write("other.txt", "copied\n");
    for (int i = 1; i <= kSaves; ++i) {
        CHECK(w.passes_for([&] { write_file(w.path("src/app.txt"), "in place " + std::to_string(i) + "\n"); }) == 1);
        CHECK(w.passes_for([&] { run({"cp", "other.txt", "src/app.txt"}, w.session.dir.path()); }) == 1);
    }
}

TEST_CASE("save styles: a git checkout that changes 5 files is one pass") {
    WatchedSession w([](const fs::path& root) {
        git(root, {"init", "-q", "-b", "main"});
        std::ofstream(root / ".gitignore") << ".tandem/\n";
        for (int f = 0; f < 5; ++f) std::ofstream(root / "src" / ("f" + std::to_string(f) + ".txt")) << "main\n";
        git(root, {"add", "-A"});
        git(root, {"commit", "-q", "-m", "main"});
        git(root, {"checkout", "-q", "-b", "other"});
        for (int f = 0; f < 5; ++f) std::ofstream(root / "src" / ("f" + std::to_string(f) + ".txt")) << "other\n";
        git(root, {"commit", "-q", "-am", "other"});
    });
    for (int i = 0; i < kSaves; ++i)
        CHECK(w.passes_for([&] { git(w.session.dir.path(), {"checkout", "-q", i % 2 == 0 ? "main" : "other"}); }) == 1);
}
