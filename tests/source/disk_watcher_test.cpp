// DiskWatcher with real files: saves, new nested directories, moves, deletes, ignored files,
// ignore-file edits, bursts, and the inotify watch limit (simulated through a private seam).
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include "source/watched_directories.hpp"

#include <tandem/watch.hpp>

#include <doctest/doctest.h>

#include <sys/inotify.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <fstream>
#include <set>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tandem::DiskWatcher;
using tandem::IgnoreRules;
using tandem::test::TempDir;

namespace {

// Collects what a watcher delivers and lets a test wait for a condition on it.
class Deliveries {
public:
    DiskWatcher::ChangeHandler change_handler() {
        return [this](std::vector<std::string> paths) {
            std::lock_guard lock(mutex_);
            batches_.push_back(std::move(paths));
            changed_.notify_all();
        };
    }
    DiskWatcher::ProblemHandler problem_handler() {
        return [this](const tandem::Error& problem) {
            std::lock_guard lock(mutex_);
            problems_.push_back(problem);
            changed_.notify_all();
        };
    }
    // Waits (up to a generous timeout) until every path in `expected` has been delivered.
    bool wait_for(const std::set<std::string>& expected, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] {
            const auto seen = paths_locked();
            return std::includes(seen.begin(), seen.end(), expected.begin(), expected.end());
        });
    }
    std::set<std::string> paths() {
        std::lock_guard lock(mutex_);
        return paths_locked();
    }
    std::size_t batch_count() {
        std::lock_guard lock(mutex_);
        return batches_.size();
    }
    std::size_t total_delivered() {
        std::lock_guard lock(mutex_);
        std::size_t total = 0;
        for (const auto& batch : batches_) total += batch.size();
        return total;
    }
    std::vector<tandem::Error> problems() {
        std::lock_guard lock(mutex_);
        return problems_;
    }
    void clear() {
        std::lock_guard lock(mutex_);
        batches_.clear();
    }

private:
    std::set<std::string> paths_locked() const {
        std::set<std::string> all;
        for (const auto& batch : batches_) all.insert(batch.begin(), batch.end());
        return all;
    }
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::vector<std::string>> batches_;
    std::vector<tandem::Error> problems_;
};

// A project directory with its rules and a running watcher.
struct WatchedProject {
    TempDir tmp;
    Deliveries deliveries;
    std::optional<IgnoreRules> rules;
    std::unique_ptr<DiskWatcher> watcher;

    void start() {
        auto loaded = IgnoreRules::load(tmp.path());
        REQUIRE(loaded.ok());
        rules.emplace(std::move(*loaded));
        auto started = DiskWatcher::start(*rules, deliveries.change_handler(), deliveries.problem_handler());
        REQUIRE(started.ok());
        watcher = std::move(*started);
    }
    void write(const std::string& path, const std::string& text = "x\n") { tmp.write(path, text); }
};

}  // namespace

TEST_CASE("watcher: a save is delivered at once, as its relative path, in one batch") {
    WatchedProject project;
    project.write("src/main.c", "int main() {}\n");
    project.start();
    CHECK(project.watcher->stats().directories == 2);

    const auto saved_at = std::chrono::steady_clock::now();
    project.write("src/main.c", "int main() { return 1; }\n");
    REQUIRE(project.deliveries.wait_for({"src/main.c"}));
    const auto latency = std::chrono::steady_clock::now() - saved_at;
    MESSAGE("save → delivery: " << std::chrono::duration_cast<std::chrono::microseconds>(latency).count() << " us");
    CHECK(latency < 1s);
    CHECK(project.deliveries.paths() == std::set<std::string>{"src/main.c"});
    CHECK(project.deliveries.problems().empty());
}

TEST_CASE("watcher: sed -i delivers the file alone, never its temp file, and a chmod to the same mode is no change") {
    WatchedProject project;
    project.write("src/app.txt", "version 0\n");
    project.start();
    for (int i = 1; i <= 3; ++i) {
        const auto sed = tandem::test::run_command({"sed", "-i", "s/0/" + std::to_string(i) + "/", "src/app.txt"},
                                                   project.tmp.path());
        REQUIRE(sed.exit_code == 0);
    }
    ::chmod((project.tmp.path() / "src/app.txt").c_str(), 0644);  // vim does this after a save
    project.write("sentinel.txt");  // new files settle last: once it is in, the rest would be
    REQUIRE(project.deliveries.wait_for({"sentinel.txt"}));
    CHECK(project.deliveries.paths() == std::set<std::string>{"src/app.txt", "sentinel.txt"});

    project.deliveries.clear();
    REQUIRE(tandem::test::run_command({"touch", "-d", "2001-01-01", "src/app.txt"}, project.tmp.path()).exit_code == 0);
    REQUIRE(project.deliveries.wait_for({"src/app.txt"}));  // a touch does count
}

TEST_CASE("watcher: a file kept open and appended to is one change, when it is closed") {
    WatchedProject project;
    project.write("app.log", "");
    project.start();
    {
        std::ofstream log(project.tmp.path() / "app.log", std::ios::app);
        for (int i = 0; i < 4; ++i) {
            log << "line " << i << std::endl;  // IN_MODIFY, no close
            std::this_thread::sleep_for(400ms);  // longer than anything is held, all told
        }
        project.write("sentinel.txt");
        REQUIRE(project.deliveries.wait_for({"sentinel.txt"}));
        CHECK(project.deliveries.paths().count("app.log") == 0);
    }
    REQUIRE(project.deliveries.wait_for({"app.log"}));
}

TEST_CASE("watcher: a file in a newly created nested directory tree is delivered, and the tree is watched") {
    WatchedProject project;
    project.start();
    fs::create_directories(project.tmp.path() / "a/b/c");
    project.write("a/b/c/new.txt");
    REQUIRE(project.deliveries.wait_for({"a", "a/b/c/new.txt"}));
    // The new directories are watched: a later save deep inside is delivered too.
    project.write("a/b/later.txt");
    REQUIRE(project.deliveries.wait_for({"a/b/later.txt"}));
    CHECK(project.watcher->stats().directories == 4);
}

TEST_CASE("watcher: moves report both paths, deletes are reported, moved directories stay watched") {
    WatchedProject project;
    project.write("old.txt");
    project.write("dir/inner.txt");
    project.write("gone/x.txt");
    project.start();

    fs::rename(project.tmp.path() / "old.txt", project.tmp.path() / "new.txt");
    REQUIRE(project.deliveries.wait_for({"old.txt", "new.txt"}));

    fs::rename(project.tmp.path() / "dir", project.tmp.path() / "moved");
    REQUIRE(project.deliveries.wait_for({"dir", "moved", "moved/inner.txt"}));
    project.write("moved/after.txt");
    REQUIRE(project.deliveries.wait_for({"moved/after.txt"}));

    fs::remove(project.tmp.path() / "new.txt");
    fs::remove_all(project.tmp.path() / "gone");
    REQUIRE(project.deliveries.wait_for({"new.txt", "gone/x.txt", "gone"}));
    CHECK(project.watcher->stats().directories == 2);  // the root and moved/
}

TEST_CASE("watcher: ignored files are never delivered") {
    WatchedProject project;
    project.write(".gitignore", "*.log\nbuild/\n");
    project.write("build/old.o");
    project.start();
    CHECK(project.watcher->stats().directories == 1);  // build/ is not watched

    project.write("app.log");
    project.write("src/.main.c.swp");
    project.write("src/main.c~");
    project.write("src/4913");
    project.write("build/new.o");
    project.write(".tandem/state.json");
    project.write(".git/HEAD");
    project.write("sentinel.txt");  // written last: once it is in, the others would be too
    REQUIRE(project.deliveries.wait_for({"sentinel.txt"}));
    CHECK(project.deliveries.paths() == std::set<std::string>{"sentinel.txt", "src"});
}

TEST_CASE("watcher: a .gitignore edit that unignores a directory makes its files count") {
    WatchedProject project;
    project.write(".gitignore", "gen/\n");
    project.write("gen/before.txt");
    project.start();
    project.write("gen/ignored.txt");
    project.write("sentinel.txt");
    REQUIRE(project.deliveries.wait_for({"sentinel.txt"}));
    CHECK(project.deliveries.paths().count("gen/ignored.txt") == 0);

    project.write(".gitignore", "# nothing ignored now\n");
    // The files already there count from now on, so they are reported with the edit.
    REQUIRE(project.deliveries.wait_for({".gitignore", "gen/before.txt", "gen/ignored.txt"}));
    project.write("gen/after.txt");
    REQUIRE(project.deliveries.wait_for({"gen/after.txt"}));

    project.deliveries.clear();  // .gitignore was delivered already: wait for this edit's delivery
    project.write(".gitignore", "gen/\n");
    REQUIRE(project.deliveries.wait_for({".gitignore"}));
    project.write("gen/again.txt");
    project.write("sentinel2.txt");
    REQUIRE(project.deliveries.wait_for({"sentinel2.txt"}));
    CHECK(project.deliveries.paths().count("gen/again.txt") == 0);
}

TEST_CASE("watcher: a burst of 200 writes arrives complete, each path once per batch, in few batches") {
    WatchedProject project;
    fs::create_directories(project.tmp.path() / "burst");
    project.start();
    std::set<std::string> expected;
    for (int i = 0; i < 200; ++i) {
        const auto path = "burst/file" + std::to_string(i) + ".txt";
        project.write(path, std::string(100, 'x'));
        expected.insert(path);
    }
    REQUIRE(project.deliveries.wait_for(expected));
    const auto delivered = project.deliveries.paths();
    CHECK(delivered == expected);
    const auto batches = project.deliveries.batch_count();
    MESSAGE("200 writes arrived in " << batches << " batches");
    CHECK(batches <= 200);
    CHECK(project.deliveries.total_delivered() <= 200 + batches);  // a path repeats only across batches
}

TEST_CASE("watcher: a new directory that brings its own .gitignore has it applied") {
    WatchedProject project;
    project.start();
    TempDir outside;  // staged outside the project, so that only the final rename is watched
    const auto staging = outside.path() / "staging";
    fs::create_directories(staging / "lib/out");
    std::ofstream(staging / "lib/.gitignore") << "out/\n";
    std::ofstream(staging / "lib/out/x.o") << "x";
    fs::rename(staging / "lib", project.tmp.path() / "lib");  // appears at once, as a checkout does
    REQUIRE(project.deliveries.wait_for({"lib", "lib/.gitignore"}));
    project.write("lib/out/y.o");
    project.write("lib/sentinel.txt");
    REQUIRE(project.deliveries.wait_for({"lib/sentinel.txt"}));
    CHECK(project.deliveries.paths().count("lib/out/y.o") == 0);
}

TEST_CASE("watcher: an event queue overflow is reported and every file that counts is delivered") {
    WatchedProject project;
    fs::create_directories(project.tmp.path() / "flood");
    project.write(".gitignore", "*.skip\n");
    project.write("untouched.txt");
    project.write("ignored.skip");
    // The first delivery blocks the watcher thread until the flood is written, so the kernel
    // queue (fs.inotify.max_queued_events, 16384 by default) overflows; nothing global is changed.
    std::mutex gate;
    std::unique_lock held(gate);
    std::atomic<bool> blocked_once{false};
    auto deliver = project.deliveries.change_handler();
    auto loaded = IgnoreRules::load(project.tmp.path());
    REQUIRE(loaded.ok());
    project.rules.emplace(std::move(*loaded));
    auto started = DiskWatcher::start(
        *project.rules,
        [&](std::vector<std::string> paths) {
            if (!blocked_once.exchange(true)) std::lock_guard wait_for_flood(gate);
            deliver(std::move(paths));
        },
        project.deliveries.problem_handler());
    REQUIRE(started.ok());
    project.write("first.txt");
    while (!blocked_once) std::this_thread::yield();
    std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
    int queue_limit = 16384;
    limit_file >> queue_limit;
    if (queue_limit > 100000) {
        MESSAGE("skipped: fs.inotify.max_queued_events is " << queue_limit << ", too many files to write");
        started->reset();
        return;
    }
    const int files = queue_limit / 2 + 500;  // IN_CREATE + IN_CLOSE_WRITE each
    for (int i = 0; i < files; ++i) std::ofstream(project.tmp.path() / "flood" / ("f" + std::to_string(i))) << "x";
    held.unlock();
    REQUIRE(project.deliveries.wait_for({"untouched.txt", "flood/f0", "flood/f" + std::to_string(files - 1)}));
    const auto problems = project.deliveries.problems();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].message.find("overflow") != std::string::npos);
    const auto delivered = project.deliveries.paths();
    CHECK(delivered.count("ignored.skip") == 0);
    CHECK(delivered.size() >= static_cast<std::size_t>(files) + 3);  // flood/*, first, untouched, .gitignore
    for (const char* name : {".gitignore", "first.txt", "untouched.txt"}) CHECK(delivered.count(name) == 1);
    started->reset();  // stops the thread before `gate` goes away
}

namespace {

// Lets the first `g_watches_allowed` watches through, then fails as the kernel does at the limit.
std::atomic<int> g_watches_allowed{0};
int add_watch_with_tiny_limit(int fd, const char* path, std::uint32_t mask) {
    if (g_watches_allowed.fetch_sub(1) <= 0) {
        errno = ENOSPC;
        return -1;
    }
    return inotify_add_watch(fd, path, mask);
}

struct TinyWatchLimit {
    explicit TinyWatchLimit(int allowed) {
        g_watches_allowed = allowed;
        tandem::detail::set_add_watch_call_for_testing(&add_watch_with_tiny_limit);
    }
    ~TinyWatchLimit() { tandem::detail::set_add_watch_call_for_testing(nullptr); }
};

}  // namespace

TEST_CASE("watcher: hitting the watch limit is reported once, with the sysctl, and watching goes on") {
    WatchedProject project;
    for (int i = 0; i < 6; ++i) project.write("d" + std::to_string(i) + "/sub/f.txt");  // 13 directories
    {
        TinyWatchLimit limit(3);
        project.start();
    }
    const auto problems = project.deliveries.problems();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].code == tandem::ErrorCode::io);
    CHECK(problems[0].message.find("10 directories") != std::string::npos);
    CHECK(problems[0].message.find("sysctl fs.inotify.max_user_watches=524288") != std::string::npos);
    CHECK(problems[0].message.find("/etc/sysctl.d/") != std::string::npos);
    CHECK(project.watcher->stats().directories == 3);
    CHECK(project.watcher->stats().unwatched == 10);

    project.write("root.txt");  // the root is watched
    REQUIRE(project.deliveries.wait_for({"root.txt"}));
    CHECK(project.deliveries.problems().size() == 1);
}

TEST_CASE("watcher: the watch-limit problem names the count and the fix") {
    const auto problem = tandem::detail::watch_limit_problem(42, "/srv/project");
    CHECK(problem.message.find("42 directories of /srv/project") != std::string::npos);
    CHECK(problem.message.find("sysctl fs.inotify.max_user_watches=524288") != std::string::npos);
    CHECK(problem.message.find("/etc/sysctl.d/") != std::string::npos);
}
