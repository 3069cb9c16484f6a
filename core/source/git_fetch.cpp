// `git fetch` as a child process. libgit2 1.5 cannot time a fetch out (its server timeouts
// arrived in 1.7) and a thread blocked inside it cannot be stopped, while a child process can
// be killed at the deadline with everything it started (ssh, git-remote-https). OpenSSH then
// brings the agent, known_hosts checking and ~/.ssh/config as users know them.
#include "source/git_fetch.hpp"

#include "source/program_output.hpp"
#include "support/base64.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

namespace tandem::detail {

namespace fs = std::filesystem;

namespace {

std::string basic_auth(const std::string& token) { return base64_encode("x-access-token:" + token); }

// A word for the shell that runs GIT_SSH_COMMAND.
std::string quoted(const std::string& word) {
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

fs::path default_known_hosts() {
    const char* home = std::getenv("HOME");
    return fs::path(home ? home : "/") / ".ssh/known_hosts";
}

std::string ssh_command(const FetchOptions& options) {
    const fs::path known = options.known_hosts.empty() ? default_known_hosts() : options.known_hosts;
    const auto seconds = std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count());
    std::string command = fmt::format(
        "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile={} "
        "-o ConnectTimeout={}",
        quoted(known.string()), seconds);
    if (!options.ssh_key.empty()) command += " -o IdentitiesOnly=yes -i " + quoted(options.ssh_key.string());
    return command;
}

std::vector<std::string> environment(const FetchOptions& options) {
    std::vector<std::string> env{"GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=", "LC_ALL=C",
                                 "GIT_SSH_COMMAND=" + ssh_command(options)};
    if (!options.token.empty()) {
        env.push_back("GIT_CONFIG_COUNT=1");
        env.push_back("GIT_CONFIG_KEY_0=http.extraHeader");
        env.push_back("GIT_CONFIG_VALUE_0=Authorization: Basic " + basic_auth(options.token));
    }
    return env;
}

// git's own words, one line: its "fatal:"/"error:" lines, joined.
std::string reason(const std::string& err) {
    std::string out;
    std::size_t start = 0;
    while (start < err.size()) {
        const std::size_t end = std::min(err.find('\n', start), err.size());
        std::string line = err.substr(start, end - start);
        start = end + 1;
        if (line.empty()) continue;
        out += (out.empty() ? "" : "; ") + line;
    }
    return out.empty() ? "git fetch failed without a message" : out;
}

std::string format_seconds(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000) : fmt::format("{}ms", d.count());
}

}  // namespace

std::string redact(std::string text, const std::string& secret) {
    if (secret.empty()) return text;
    for (const std::string& s : {secret, basic_auth(secret)})
        for (auto at = text.find(s); at != std::string::npos; at = text.find(s, at)) text.replace(at, s.size(), "***");
    return text;
}

Status fetch_with_git(const fs::path& mirror, const std::string& url, const FetchOptions& options) {
    const std::vector<std::string> argv{"git", "--git-dir=" + mirror.string(), "-c", "credential.helper=",
                                        "fetch", "--prune", "--no-write-fetch-head", "--quiet", "origin"};
    const ProgramOutput run = run_program(argv, {}, ProgramLimits{environment(options), options.timeout});
    if (run.start_error != 0)
        return make_error(ErrorCode::source,
                          fmt::format("cannot run git to fetch from {} ({}): install git (Debian's git package)", url,
                                      std::strerror(run.start_error)));
    if (run.timed_out)
        return make_error(
            ErrorCode::timed_out,
            fmt::format("fetching from {} took longer than {} (--fetch-timeout): abandoned; the next poll tries again",
                        url, format_seconds(options.timeout)));
    if (run.exit_code == 0) return Ok{};
    const std::string why = redact(reason(run.err), options.token);
    if (why.find("Host key verification failed") != std::string::npos)
        return make_error(
            ErrorCode::source,
            fmt::format("cannot fetch from {}: the server's ssh host key is not in {} (or does not match it); refused. "
                        "Check the host, then add its key (ssh-keyscan) or give --known-hosts FILE",
                        url, (options.known_hosts.empty() ? default_known_hosts() : options.known_hosts).string()));
    return make_error(
        ErrorCode::source,
        fmt::format("cannot fetch from {}: {} (check that the URL is right and reachable, and its credentials)", url,
                    why));
}

Result<std::string> remote_commit_with_git(const fs::path& mirror, const std::string& url, const std::string& ref,
                                           const FetchOptions& options) {
    const std::vector<std::string> argv{"git", "--git-dir=" + mirror.string(), "-c", "credential.helper=",
                                        "ls-remote", "origin", ref};
    const ProgramOutput run = run_program(argv, {}, ProgramLimits{environment(options), options.timeout});
    if (run.start_error != 0 || run.timed_out || run.exit_code != 0)
        return make_error(ErrorCode::source,
                          fmt::format("cannot list the refs of {}: {}", url,
                                      run.timed_out ? "no answer within " + format_seconds(options.timeout)
                                                    : redact(reason(run.err), options.token)));
    // "<id>\t<name>" lines; a branch before a tag's commit before the tag itself.
    const std::vector<std::string> wanted{"refs/heads/" + ref, "refs/tags/" + ref + "^{}", "refs/tags/" + ref, ref};
    std::map<std::string, std::string> ids;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);)
        if (const auto tab = line.find('\t'); tab != std::string::npos) ids[line.substr(tab + 1)] = line.substr(0, tab);
    for (const std::string& name : wanted)
        if (auto found = ids.find(name); found != ids.end()) return found->second;
    return make_error(ErrorCode::unknown_reference, fmt::format("{} has no branch or tag '{}'", url, ref));
}

}  // namespace tandem::detail
