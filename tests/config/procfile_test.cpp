// A Procfile as a tandem.yaml document: foreman's ports, routed processes, .env, names and
// errors, each document read back through the real parser.
#include <doctest/doctest.h>

#include "config/procfile.hpp"
#include "config/spec_parser.hpp"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace tandem;

namespace {

using Variables = std::map<std::string, std::string>;
using Env = std::vector<std::pair<std::string, std::string>>;

Result<config::ProcfileDocument> convert(std::string_view text, const Variables& dotenv, const Variables& environment) {
    const auto lookup = [&](const std::string& name) -> std::optional<std::string> {
        const auto it = environment.find(name);
        if (it == environment.end()) return std::nullopt;
        return it->second;
    };
    return config::procfile_document(text, "Procfile", dotenv, lookup);
}

config::ProcfileDocument document_ok(std::string_view text, const Variables& dotenv = {},
                                     const Variables& environment = {}) {
    auto document = convert(text, dotenv, environment);
    if (!document) FAIL("unexpected error: " << document.error().to_string());
    CHECK(document->warnings.empty());
    return std::move(*document);
}

Error document_error(std::string_view text, const Variables& dotenv = {}, const Variables& environment = {}) {
    auto document = convert(text, dotenv, environment);
    if (document) FAIL("expected an error for: " << text);
    return document.error();
}

// The document as tandem.yaml text, through parse_spec: what a project loader would read.
Spec spec_of(const config::ProcfileDocument& document) {
    YAML::Emitter out;
    out << document.document;
    auto parsed = config::parse_spec(out.c_str(), "Procfile");
    if (!parsed) FAIL("the document does not parse: " << parsed.error().to_string() << "\n" << out.c_str());
    return parsed->spec;
}

std::vector<std::string> shell(const std::string& command) { return {"/bin/sh", "-c", command}; }

}  // namespace

TEST_CASE("procfile: base + 100 per line, web and $PORT users routed, the others get env PORT") {
    const auto document = document_ok("web: gunicorn app:app --bind 0.0.0.0:$PORT\n"
                                      "worker: bundle exec sidekiq\n"
                                      "api: ./api --port ${PORT}\n"
                                      "clock: ./clock $PORTAL\n");
    CHECK(document.document["version"].as<int>() == 1);
    CHECK(document.document["services"]["worker"]["env"]["PORT"].as<std::string>() == "5100");
    CHECK_FALSE(document.document["services"]["worker"]["port"]);

    const Spec spec = spec_of(document);
    REQUIRE(spec.services.size() == 4);
    const ServiceSpec& web = spec.services[0];
    CHECK(web.name == "web");
    CHECK(web.run.argv == shell("gunicorn app:app --bind 0.0.0.0:$PORT"));
    CHECK(web.port == 5000);
    CHECK(web.env.empty());
    const ServiceSpec& worker = spec.services[1];
    CHECK(worker.name == "worker");
    CHECK(worker.run.argv == shell("bundle exec sidekiq"));
    CHECK(worker.port == 0);
    CHECK(worker.env == Env{{"PORT", "5100"}});
    const ServiceSpec& api = spec.services[2];
    CHECK(api.name == "api");
    CHECK(api.port == 5200);
    CHECK(api.env.empty());
    const ServiceSpec& clock = spec.services[3];
    CHECK(clock.name == "clock");
    CHECK(clock.port == 0);
    CHECK(clock.env == Env{{"PORT", "5300"}});
}

TEST_CASE("procfile: web is routed even when its command does not mention $PORT") {
    const Spec spec = spec_of(document_ok("worker: ./work\nweb: python3 -m http.server\n"));
    REQUIRE(spec.services.size() == 2);
    CHECK(spec.services[0].port == 0);
    CHECK(spec.services[0].env == Env{{"PORT", "5000"}});
    CHECK(spec.services[1].name == "web");
    CHECK(spec.services[1].port == 5100);
    CHECK(spec.services[1].env.empty());
}

TEST_CASE("procfile: .env variables go into every service's env after PORT, and .env's PORT is the base") {
    const Variables dotenv = {{"DATABASE_URL", "postgres://127.0.0.1/shop"}, {"DEBUG", "true"}, {"EMPTY", ""},
                              {"PORT", "7000"}, {"QUOTED", "a: b # c"}};
    const Spec spec = spec_of(document_ok("web: ./server\nworker: ./work\n", dotenv));
    REQUIRE(spec.services.size() == 2);
    const Env shared = {{"DATABASE_URL", "postgres://127.0.0.1/shop"}, {"DEBUG", "true"}, {"EMPTY", ""},
                        {"QUOTED", "a: b # c"}};
    CHECK(spec.services[0].port == 7000);
    CHECK(spec.services[0].env == shared);
    Env worker = {{"PORT", "7100"}};
    worker.insert(worker.end(), shared.begin(), shared.end());
    CHECK(spec.services[1].port == 0);
    CHECK(spec.services[1].env == worker);
}

TEST_CASE("procfile: PORT of the environment wins over .env's") {
    const Spec spec = spec_of(document_ok("web: ./server\nworker: ./work\n", {{"PORT", "7000"}, {"MODE", "dev"}},
                                          {{"PORT", "8000"}}));
    REQUIRE(spec.services.size() == 2);
    CHECK(spec.services[0].port == 8000);
    CHECK(spec.services[0].env == Env{{"MODE", "dev"}});
    CHECK(spec.services[1].env == Env{{"PORT", "8100"}, {"MODE", "dev"}});
}

TEST_CASE("procfile: a PORT that is not a port is an error naming where it came from") {
    const Error from_environment = document_error("web: ./server\n", {}, {{"PORT", "abc"}});
    CHECK(from_environment.code == ErrorCode::invalid_value);
    CHECK(from_environment.to_string() ==
          "PORT in the environment is 'abc': the Procfile's base port must be a number from 1 to 65535");
    CHECK(document_error("web: ./server\n", {{"PORT", "0"}}).to_string() ==
          ".env: PORT is '0': the Procfile's base port must be a number from 1 to 65535");
    CHECK(document_error("web: ./server\n", {}, {{"PORT", "65536"}}).message ==
          "PORT in the environment is '65536': the Procfile's base port must be a number from 1 to 65535");
    CHECK(document_error("web: ./server\nworker: ./work\n", {}, {{"PORT", "65500"}}).to_string() ==
          "Procfile:2:1: process 'worker' would get port 65600 (base 65500 + 100 per process before it), "
          "above 65535: set a lower PORT");
}

TEST_CASE("procfile: comments, blank lines, indentation and CRLF line ends") {
    const auto document = document_ok("# the app\r\n\r\n  web: ./server --verbose  \r\n\t# a note\r\n"
                                      "worker:./work # not a comment for foreman\r\n   \r\n");
    const Spec spec = spec_of(document);
    REQUIRE(spec.services.size() == 2);
    CHECK(spec.services[0].name == "web");
    CHECK(spec.services[0].run.argv == shell("./server --verbose"));
    CHECK(spec.services[1].name == "worker");
    CHECK(spec.services[1].run.argv == shell("./work # not a comment for foreman"));
}

TEST_CASE("procfile: malformed lines are errors at their line and column") {
    const Error no_name = document_error("web: ./server\njust some words\n");
    CHECK(no_name.code == ErrorCode::syntax);
    CHECK(no_name.location.file == "Procfile");
    CHECK(no_name.location.line == 2);
    CHECK(no_name.location.column == 1);
    CHECK(no_name.to_string() == "Procfile:2:1: expected 'name: command' (a name of letters, digits, '_' and '-', "
                                 "then ':'), found 'just some words'");
    CHECK(document_error("web: ./server\n\n  web app: ./x\n").to_string() ==
          "Procfile:3:3: expected 'name: command' (a name of letters, digits, '_' and '-', then ':'), found 'web app: ./x'");
    CHECK(document_error("web.1: ./x\n").location.column == 1);

    const Error underscore = document_error("_worker: ./work\n");
    CHECK(underscore.code == ErrorCode::invalid_value);
    CHECK(underscore.to_string() ==
          "Procfile:1:1: process name '_worker' must start with a letter or a digit (a tandem service name)");
    CHECK(document_error("web: ./a\n-x: ./b\n").to_string() ==
          "Procfile:2:1: process name '-x' must start with a letter or a digit (a tandem service name)");

    const Error empty = document_error("web: ./a\nworker:   \r\n");
    CHECK(empty.code == ErrorCode::invalid_value);
    CHECK(empty.to_string() == "Procfile:2:8: process 'worker' has no command");
}

TEST_CASE("procfile: names are lowercased, and two that collide are an error at the second") {
    const Spec spec = spec_of(document_ok("Web: ./server\nBACK_end-2: ./work\n"));
    REQUIRE(spec.services.size() == 2);
    CHECK(spec.services[0].name == "web");
    CHECK(spec.services[0].port == 5000);
    CHECK(spec.services[1].name == "back_end-2");

    const Error collision = document_error("web: ./a\nworker: ./w\nWeb: ./b\n");
    CHECK(collision.code == ErrorCode::duplicate);
    CHECK(collision.to_string() ==
          "Procfile:3:1: process 'Web' is service 'web' in tandem, like 'web' at line 1 (names are lowercased)");
    const Error twice = document_error("worker: ./a\n\nworker: ./b\n");
    CHECK(twice.code == ErrorCode::duplicate);
    CHECK(twice.to_string() == "Procfile:3:1: process 'worker' is already defined at line 1");
}

TEST_CASE("procfile: a .env value holding ${ is an error naming the variable") {
    const Error error = document_error("web: ./server\n", {{"HOME_URL", "http://${HOST}/"}});
    CHECK(error.code == ErrorCode::invalid_value);
    CHECK(error.location.file == ".env");
    CHECK(error.to_string().rfind(".env: the value of HOME_URL holds '${'", 0) == 0);
}

TEST_CASE("procfile: a Procfile without processes is an error") {
    CHECK(document_error("").message == "Procfile defines no processes (each is a 'name: command' line)");
    CHECK(document_error("# nothing yet\r\n\n  \n").message ==
          "Procfile defines no processes (each is a 'name: command' line)");
}
