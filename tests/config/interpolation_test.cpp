// Compose's variable substitution and .env files, as `docker compose` reads them.
#include "config/interpolation.hpp"

#include <doctest/doctest.h>

#include <map>

namespace {

using tandem::config::interpolate;
using tandem::config::parse_env_file;

const std::map<std::string, std::string> kEnv = {{"USER", "ada"}, {"EMPTY", ""}, {"PORT", "8080"}, {"TAG", "1.2"}};

std::optional<std::string> lookup(const std::string& name) {
    const auto it = kEnv.find(name);
    if (it == kEnv.end()) return std::nullopt;
    return it->second;
}

std::string ok(std::string_view text) {
    auto out = interpolate(text, lookup);
    REQUIRE_MESSAGE(out.ok(), (out ? "" : out.error().message));
    return *out;
}

std::string error(std::string_view text) {
    auto out = interpolate(text, lookup);
    REQUIRE_FALSE(out.ok());
    return out.error().message;
}

}  // namespace

TEST_CASE("interpolation: $VAR and ${VAR}, unset is empty, $$ is a dollar, other dollars stay") {
    CHECK(ok("web:${TAG}") == "web:1.2");
    CHECK(ok("$USER-$PORT/x") == "ada-8080/x");
    CHECK(ok("[${NOPE}]") == "[]");
    CHECK(ok("cost: $$5 and $$HOME") == "cost: $5 and $HOME");
    CHECK(ok("a $ b $1 end$") == "a $ b $1 end$");
}

TEST_CASE("interpolation: defaults, required and replacements, with and without the colon") {
    CHECK(ok("${NOPE:-d}|${EMPTY:-d}|${USER:-d}") == "d|d|ada");
    CHECK(ok("${NOPE-d}|${EMPTY-d}|${USER-d}") == "d||ada");
    CHECK(ok("${USER:+set}|${EMPTY:+set}|${EMPTY+set}|${NOPE+set}") == "set||set|");
    CHECK(ok("${NOPE:-${USER:-x}-${PORT}}") == "ada-8080");
    CHECK(ok("${EMPTY?must be set}") == "");
    CHECK(error("${NOPE:?give NOPE a value}") == "required variable NOPE is not set: give NOPE a value");
    CHECK(error("${EMPTY:?}") == "required variable EMPTY is empty: (no message)");
}

TEST_CASE("interpolation: malformed variables are errors naming them and where they are") {
    CHECK(error("x ${USER") == "'${' without a closing '}' (at offset 2)");
    CHECK(error("${9LIVES}") == "'${9LIVES}' is not a variable: a name is letters, digits and '_' (at offset 0)");
    CHECK(error("ab${USER:}") == "'${USER:}': an operator is missing after ':' (at offset 2)");
    CHECK(error("${USER*x}") == "'${USER*x}': unknown operator '*x' (use :-, -, :?, ?, :+ or +) (at offset 0)");
}

TEST_CASE("interpolation: an .env file: comments, export, quotes, escapes and earlier keys") {
    const auto vars = parse_env_file("# settings\n\nexport A=1\nB = two words  # a comment\nC='${A} $$ raw'\n"
                                     "D=\"x\\ny \\\"q\\\" ${A}${USER}\"\nE=${B:-none}-${PORT}\nF=\n",
                                     lookup);
    REQUIRE_MESSAGE(vars.ok(), (vars ? "" : vars.error().message));
    CHECK(vars->at("A") == "1");
    CHECK(vars->at("B") == "two words");
    CHECK(vars->at("C") == "${A} $$ raw");
    CHECK(vars->at("D") == "x\ny \"q\" 1ada");
    CHECK(vars->at("E") == "two words-8080");
    CHECK(vars->at("F") == "");

    auto bad_line = parse_env_file("A=1\nnot a pair\n", lookup);
    REQUIRE_FALSE(bad_line.ok());
    CHECK(bad_line.error().message == "line 2: expected KEY=VALUE with KEY letters, digits and '_', found 'not a pair'");
    auto open_quote = parse_env_file("A=\"never closed\n", lookup);
    REQUIRE_FALSE(open_quote.ok());
    CHECK(open_quote.error().message == "line 1: the value of A opens a double quote and never closes it");
    auto required = parse_env_file("X=${NOPE:?set NOPE}\n", lookup);
    REQUIRE_FALSE(required.ok());
    CHECK(required.error().message == "line 1: required variable NOPE is not set: set NOPE");
}
