// The build key: what changes it (input files, command, workdir, outputs, env, sandbox) and what
// does not (files the build does not read), on real trees written to disk.
#include "support/temp_dir.hpp"

#include <tandem/builder.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace tandem;
using namespace tandem::test;

namespace {

Spec spec_of(ServiceSpec service) {
    Spec spec;
    spec.project = "keys";
    spec.services.push_back(std::move(service));
    return spec;
}

ServiceSpec web(std::vector<std::string> inputs) {
    ServiceSpec service;
    service.name = "web";
    service.build = BuildSpec{"make web", std::move(inputs), {"out"}, {}, false};
    service.run.argv = {"out/web"};
    return service;
}

PolicySet policy(bool sandbox) {
    PolicySet set;
    set.name = "test";
    set.builds.sandbox = sandbox;
    return set;
}

std::string key_of(const ServiceSpec& service, const TempDir& tree, const PolicySet& under = policy(false),
                   const std::string& project_dir = {}) {
    const Spec spec = spec_of(service);
    auto key = build_key(spec, *spec.find(service.name), under,
                         BuildSource{tree.path(), project_dir, tree.path() / "state", "", "test"});
    REQUIRE_MESSAGE(key.ok(), key.error().to_string());
    return key->digest;
}

}  // namespace

TEST_CASE("a build with declared inputs is keyed by those files: a file it does not read changes nothing") {
    TempDir tree;
    tree.write("src/main.c", "int main() {}\n");
    tree.write("README.md", "hello\n");
    const ServiceSpec service = web({"src/**"});
    const std::string before = key_of(service, tree);
    CHECK(before.rfind("sha256:", 0) == 0);
    CHECK(key_of(service, tree) == before);  // stable

    tree.write("README.md", "hello again\n");
    tree.write("docs/new.md", "new\n");
    CHECK(key_of(service, tree) == before);

    tree.write("src/main.c", "int main() { return 1; }\n");
    const std::string edited = key_of(service, tree);
    CHECK(edited != before);
    tree.write("src/util.c", "\n");  // a new file matching the glob
    const std::string added = key_of(service, tree);
    CHECK(added != edited);
    REQUIRE(::chmod((tree.path() / "src/util.c").c_str(), 0755) == 0);  // the executable bit
    CHECK(key_of(service, tree) != added);
}

TEST_CASE("the key's parts are visible: inputs declared, how many files, the text it hashes") {
    TempDir tree;
    tree.write("src/a.c", "a\n");
    tree.write("src/b.c", "b\n");
    tree.write("data.txt", "d\n");
    ServiceSpec service = web({"src/*.c"});
    service.env = {{"MODE", "fast"}};
    const Spec spec = spec_of(service);
    auto key = build_key(spec, *spec.find("web"), policy(true), BuildSource{tree.path(), "", tree.path(), "", "test"});
    REQUIRE(key.ok());
    CHECK(key->declared);
    CHECK(key->input_files == 2);
    CHECK(key->inputs.rfind("sha256:", 0) == 0);
    CHECK(key->text.find("inputs " + key->inputs + "\n") != std::string::npos);
    CHECK(key->text.find("command make web\n") != std::string::npos);
    CHECK(key->text.find("workdir .\n") != std::string::npos);
    CHECK(key->text.find("output out\n") != std::string::npos);
    CHECK(key->text.find("env MODE=fast\n") != std::string::npos);
    CHECK(key->text.find("sandbox on\nnetwork off\n") != std::string::npos);
}

TEST_CASE("a build without declared inputs is keyed by the whole tree, ignored files left out") {
    TempDir tree;
    tree.write("main.c", "int main() {}\n");
    tree.write(".gitignore", "*.log\n");
    tree.write("build.log", "old\n");
    const ServiceSpec service = web({});
    const Spec spec = spec_of(service);
    auto key = build_key(spec, *spec.find("web"), policy(false), BuildSource{tree.path(), "", tree.path(), "", "t"});
    REQUIRE(key.ok());
    CHECK_FALSE(key->declared);
    CHECK(key->input_files == 2);  // main.c and .gitignore
    const std::string before = key->digest;

    tree.write("build.log", "new\n");  // ignored
    CHECK(key_of(service, tree) == before);
    tree.write("README.md", "any file that counts\n");
    CHECK(key_of(service, tree) != before);
}

TEST_CASE("the paths of watch rules that rebuild are inputs, those that only restart are not") {
    TempDir tree;
    tree.write("src/main.c", "int main() {}\n");
    tree.write("config/build.h", "#define A 1\n");
    tree.write("static/page.html", "<p>1</p>\n");
    ServiceSpec service = web({"src/**"});
    service.watch = {WatchRule{{"config/*.h"}, WatchAction::rebuild, {}, {}, {}},
                     WatchRule{{"static/**"}, WatchAction::restart, {}, {}, {}}};
    const std::string before = key_of(service, tree);
    tree.write("static/page.html", "<p>2</p>\n");
    CHECK(key_of(service, tree) == before);
    tree.write("config/build.h", "#define A 2\n");
    CHECK(key_of(service, tree) != before);
}

TEST_CASE("the command, workdir, outputs, env and sandbox are in the key, the network only under the sandbox") {
    TempDir tree;
    tree.write("src/main.c", "int main() {}\n");
    tree.write("api/x", "x\n");
    const ServiceSpec base = web({"src/**"});
    const std::string key = key_of(base, tree);

    ServiceSpec changed = base;
    changed.build->command = "make web CFLAGS=-O2";
    CHECK(key_of(changed, tree) != key);
    changed = base;
    changed.workdir = "api";
    CHECK(key_of(changed, tree) != key);
    changed = base;
    changed.build->outputs = {"out", "lib"};
    CHECK(key_of(changed, tree) != key);
    changed = base;
    changed.env = {{"CFLAGS", "-O2"}};
    CHECK(key_of(changed, tree) != key);
    CHECK(key_of(base, tree, policy(true)) != key);

    changed = base;
    changed.build->network = true;
    CHECK(key_of(changed, tree, policy(false)) == key);  // no sandbox: the build has the network anyway
    CHECK(key_of(changed, tree, policy(true)) != key_of(base, tree, policy(true)));

    changed = base;
    changed.run.argv = {"out/web", "--verbose"};  // how it runs is not how it is built
    changed.replicas = 3;
    CHECK(key_of(changed, tree) == key);
}

TEST_CASE("${state.NAME} in build.command is keyed as the path it runs with") {
    TempDir tree;
    tree.write("src/main.c", "int main() {}\n");
    ServiceSpec service = web({"src/**"});
    service.state = {"cache"};
    service.build->command = "make web CACHE=${state.cache}";
    const Spec spec = spec_of(service);
    auto key = build_key(spec, *spec.find("web"), policy(false),
                         BuildSource{tree.path(), "", "/var/lib/engine/state", "", "t"});
    REQUIRE(key.ok());
    CHECK(key->text.find("command make web CACHE=" + (fs::path("/var/lib/engine/state") / "cache").string() + "\n") !=
          std::string::npos);
}

TEST_CASE("in a project below the top of the tree, inputs are relative to the project, the whole tree is everything") {
    TempDir tree;
    tree.write("app/src/main.c", "int main() {}\n");
    tree.write("app/README.md", "r\n");
    tree.write("lib/shared.c", "s\n");  // a sibling the build may read
    const ServiceSpec declared = web({"src/**"});
    const std::string before = key_of(declared, tree, policy(false), "app");
    tree.write("lib/shared.c", "s2\n");
    CHECK(key_of(declared, tree, policy(false), "app") == before);
    tree.write("app/src/main.c", "int main() { return 0; }\n");
    CHECK(key_of(declared, tree, policy(false), "app") != before);

    const ServiceSpec whole = web({});
    const std::string whole_before = key_of(whole, tree, policy(false), "app");
    tree.write("lib/shared.c", "s3\n");
    CHECK(key_of(whole, tree, policy(false), "app") != whole_before);
}

TEST_CASE("a service without a build has no key") {
    TempDir tree;
    ServiceSpec service = web({});
    service.build.reset();
    const Spec spec = spec_of(service);
    auto key = build_key(spec, *spec.find("web"), policy(false), BuildSource{tree.path(), "", tree.path(), "", "t"});
    REQUIRE_FALSE(key.ok());
    CHECK(key.error().message.find("'web' has no build") != std::string::npos);
}
