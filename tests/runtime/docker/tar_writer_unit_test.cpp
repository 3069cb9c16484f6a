// The ustar writer, checked by GNU tar: what it extracts is what was written.
#include "runtime/docker/build_context.hpp"
#include "runtime/docker/tar_writer.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace tandem;
using namespace tandem::test;
namespace fs = std::filesystem;

namespace {

fs::path write_archive(const TempDir& dir, const std::string& archive) {
    const fs::path file = dir.path() / "out.tar";
    std::ofstream(file, std::ios::binary) << archive;
    return file;
}

std::vector<std::string> listing(const TempDir& dir, const std::string& archive) {
    const CommandResult listed = run_command({"tar", "-tf", write_archive(dir, archive).string()});
    REQUIRE_MESSAGE(listed.exit_code == 0, listed.err);
    std::vector<std::string> names;
    std::istringstream lines(listed.out);
    for (std::string line; std::getline(lines, line);) names.push_back(line);
    return names;
}

}  // namespace

TEST_CASE("GNU tar extracts what the tar writer wrote: files, modes, directories, symlinks, long names") {
    TempDir dir;
    const std::string long_dir = std::string(120, 'd') + "/" + std::string(60, 'e');  // ustar prefix + name
    const std::string very_long = std::string(200, 'x') + "/" + std::string(150, 'y');  // needs a pax header
    docker::TarWriter tar;
    tar.add_directory("app");
    tar.add_file("app/main.sh", "#!/bin/sh\necho hi\n", 0755);
    tar.add_file("app/empty", "");
    tar.add_file("app/block", std::string(512, 'b'));
    tar.add_symlink("app/link", "main.sh");
    tar.add_file(long_dir + "/file.txt", "in a long directory");
    tar.add_file(very_long, "very long name");
    const std::string archive = tar.finish();
    CHECK(archive.size() % 512 == 0);

    const fs::path out = dir.path() / "x";
    fs::create_directories(out);
    const CommandResult extracted = run_command({"tar", "-xf", write_archive(dir, archive).string(), "-C", out.string()});
    REQUIRE_MESSAGE(extracted.exit_code == 0, extracted.err);
    CHECK(read_text(out / "app/main.sh") == "#!/bin/sh\necho hi\n");
    CHECK((fs::status(out / "app/main.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
    CHECK((fs::status(out / "app/empty").permissions() & fs::perms::owner_exec) == fs::perms::none);
    CHECK(read_text(out / "app/empty").empty());
    CHECK(read_text(out / "app/block") == std::string(512, 'b'));
    CHECK(fs::read_symlink(out / "app/link") == "main.sh");
    CHECK(read_text(out / long_dir / "file.txt") == "in a long directory");
    CHECK(read_text(out / very_long) == "very long name");
}

TEST_CASE("the same entries give the same archive bytes") {
    auto make = [] {
        docker::TarWriter tar;
        tar.add_file("a.txt", "a");
        tar.add_directory("d");
        return tar.finish();
    };
    CHECK(make() == make());
}

TEST_CASE("a build context leaves out what .dockerignore excludes but always sends the Dockerfile and .dockerignore") {
    TempDir dir;
    dir.write("Dockerfile", "FROM scratch\n");
    dir.write(".dockerignore", "*\n!src\nsrc/*.log\n");
    dir.write("src/app.py", "print(1)\n");
    dir.write("src/debug.log", "noise");
    dir.write("secret.env", "KEY=1");
    dir.write("build/out.o", "obj");
    auto context = docker::make_build_context(dir.path(), "Dockerfile");
    REQUIRE(context.ok());
    TempDir scratch;
    const std::vector<std::string> names = listing(scratch, *context);
    const std::vector<std::string> expected = {".dockerignore", "Dockerfile", "src/", "src/app.py"};
    CHECK(names == expected);

    auto missing = docker::make_build_context(dir.path(), "Dockerfile.prod");
    REQUIRE(!missing.ok());
    CHECK(missing.error().message.find("no Dockerfile 'Dockerfile.prod'") != std::string::npos);
}
