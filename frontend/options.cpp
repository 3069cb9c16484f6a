// Parsing of the front-ends' command-line options.
#include "frontend/options.hpp"

#include <tandem/duration.hpp>

#include <functional>
#include <map>

namespace tandem::cli {

namespace {

Error usage(const std::string& message) { return make_error(ErrorCode::usage, message); }

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        if (end > start) out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

using Setter = std::function<Status(Options&, const std::string&)>;

// A setter of a count of at least 1 (--http-max-connections).
Setter count_option(const std::string& name, std::optional<std::size_t> Options::*field) {
    return [name, field](Options& o, const std::string& v) -> Status {
        if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos || std::stoul(v) == 0)
            return usage(name + " takes a number from 1 to 999999, not '" + v + "'");
        o.*field = std::stoul(v);
        return Ok{};
    };
}

// A setter of a positive duration (--http-header-timeout).
Setter duration_option(const std::string& name, std::optional<std::chrono::milliseconds> Options::*field) {
    return [name, field](Options& o, const std::string& v) -> Status {
        auto duration = parse_duration(v);
        if (!duration || duration->count() <= 0) return usage(name + " takes a duration like 10s or 500ms, not '" + v + "'");
        o.*field = *duration;
        return Ok{};
    };
}

// Adds the HTTP API's limits to `t`.
void add_http_limits(std::map<std::string, Setter>& t) {
    t["--http-max-connections"] = count_option("--http-max-connections", &Options::http_max_connections);
    t["--http-max-connections-per-peer"] =
        count_option("--http-max-connections-per-peer", &Options::http_max_connections_per_peer);
    t["--http-header-timeout"] = duration_option("--http-header-timeout", &Options::http_header_timeout);
    t["--http-idle-timeout"] = duration_option("--http-idle-timeout", &Options::http_idle_timeout);
    t["--http-allowed-host"] = [](Options& o, const std::string& v) -> Status {
        if (v.empty() || v.find_first_of("/ :@,") != std::string::npos)
            return usage("--http-allowed-host takes a host name without port or scheme (dev.example), not '" + v + "'");
        o.http_allowed_hosts.push_back(v);
        return Ok{};
    };
}

// Options that take a value, by every name they answer to.
const std::map<std::string, Setter>& valued_options() {
    static const std::map<std::string, Setter> table = [] {
        std::map<std::string, Setter> t;
        auto file = [](Options& o, const std::string& v) -> Status {
            if (v.empty()) return usage("-f needs a file name");
            (o.file.empty() ? o.file : o.more_files.emplace_back()) = v;
            return Ok{};
        };
        t["--profile"] = [](Options& o, const std::string& v) -> Status {
            if (v.empty()) return usage("--profile needs a profile name");
            o.profiles.push_back(v);
            return Ok{};
        };
        t["-f"] = file;
        t["--file"] = file;
        t["--policy"] = [](Options& o, const std::string& v) -> Status { o.policy = v; return Ok{}; };
        auto output = [](Options& o, const std::string& v) -> Status {
            if (v == "table") o.output = OutputFormat::table;
            else if (v == "json") o.output = OutputFormat::json;
            else return usage("--output takes 'table' or 'json', not '" + v + "'");
            return Ok{};
        };
        t["-o"] = output;
        t["--output"] = output;
        t["--source"] = [](Options& o, const std::string& v) -> Status {
            if (v == "disk") o.source_flag = SourceKind::disk;
            else if (v == "git") o.source_flag = SourceKind::git;
            else return usage("--source takes 'disk' or 'git', not '" + v + "'");
            return Ok{};
        };
        t["--repo"] = [](Options& o, const std::string& v) -> Status { o.repo = v; return Ok{}; };
        t["--ref"] = [](Options& o, const std::string& v) -> Status { o.ref = v; return Ok{}; };
        t["--state-dir"] = [](Options& o, const std::string& v) -> Status { o.state_dir = v; return Ok{}; };
        t["--allowed-signers"] = [](Options& o, const std::string& v) -> Status { o.allowed_signers = v; return Ok{}; };
        t["--ssh-key"] = [](Options& o, const std::string& v) -> Status { o.ssh_key = v; return Ok{}; };
        t["--known-hosts"] = [](Options& o, const std::string& v) -> Status { o.known_hosts = v; return Ok{}; };
        t["--token-file"] = [](Options& o, const std::string& v) -> Status { o.token_file = v; return Ok{}; };
        t["--fetch-timeout"] = [](Options& o, const std::string& v) -> Status {
            auto timeout = parse_duration(v);
            if (!timeout || timeout->count() <= 0) return usage("--fetch-timeout takes a duration like 60s or 500ms, not '" + v + "'");
            o.fetch_timeout = *timeout;
            return Ok{};
        };
        t["--audit-log"] = [](Options& o, const std::string& v) -> Status { o.audit_log = v; return Ok{}; };
        t["--reason"] = [](Options& o, const std::string& v) -> Status { o.reason = v; return Ok{}; };
        t["--checkpoints"] = [](Options& o, const std::string& v) -> Status { o.checkpoints = v; return Ok{}; };
        t["--checkpoint-key"] = [](Options& o, const std::string& v) -> Status { o.checkpoint_key = v; return Ok{}; };
        t["--checkpoint-repo"] = [](Options& o, const std::string& v) -> Status { o.checkpoint_repo = v; return Ok{}; };
        t["--runtime"] = [](Options& o, const std::string& v) -> Status {
            if (v != "local" && v != "swarm") return usage("--runtime takes 'local' or 'swarm', not '" + v + "'");
            o.runtime = v;
            return Ok{};
        };
        t["--swarm-host"] = [](Options& o, const std::string& v) -> Status {
            if (v.rfind("unix://", 0) != 0 || v.size() <= 7)
                return usage("--swarm-host takes a manager's socket as unix:///PATH, not '" + v + "'");
            o.swarm_host = v;
            return Ok{};
        };
        t["--registry"] = [](Options& o, const std::string& v) -> Status {
            if (v.empty() || v.find("://") != std::string::npos || v.find('/') != std::string::npos)
                return usage("--registry takes HOST:PORT of a registry (no scheme, no path), not '" + v + "'");
            o.registry = v;
            return Ok{};
        };
        t["--previews"] = [](Options& o, const std::string& v) -> Status {
            if (v.empty()) return usage("--previews needs a branch pattern, like 'feature/*'");
            o.previews.push_back(v);
            return Ok{};
        };
        t["--preview-policy"] = [](Options& o, const std::string& v) -> Status {
            if (v.empty()) return usage("--preview-policy needs a policy set's name");
            o.preview_policy = v;
            return Ok{};
        };
        t["--preview-max"] = [](Options& o, const std::string& v) -> Status {
            if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1)
                return usage("--preview-max takes how many previews may run at once (1 or more), not '" + v + "'");
            o.preview_max = std::stoi(v);
            return Ok{};
        };
        t["--preview-idle"] = [](Options& o, const std::string& v) -> Status {
            auto idle = parse_duration(v);
            if (!idle && v != "0") return usage("--preview-idle takes a duration like 2h or 30m (0: never), not '" + v + "'");
            o.preview_idle = idle.value_or(std::chrono::milliseconds(0));
            return Ok{};
        };
        t["--preview-port"] = [](Options& o, const std::string& v) -> Status {
            if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos ||
                std::stoi(v) < 1 || std::stoi(v) > 65535)
                return usage("--preview-port takes a port number (1-65535), not '" + v + "'");
            o.preview_port = std::stoi(v);
            return Ok{};
        };
        t["--poll"] = [](Options& o, const std::string& v) -> Status {
            auto interval = parse_duration(v);
            if (!interval && v != "0") return usage("--poll takes a duration like 2s or 500ms (0: only on sync), not '" + v + "'");
            o.poll = interval.value_or(std::chrono::milliseconds(0));
            return Ok{};
        };
        t["--http-port"] = [](Options& o, const std::string& v) -> Status {
            if (v == "off") {
                o.http_port = -1;
                return Ok{};
            }
            if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) > 65535)
                return usage("--http-port takes a port number (0: any free port) or 'off', not '" + v + "'");
            o.http_port = std::stoi(v);
            return Ok{};
        };
        t["--token"] = [](Options& o, const std::string& v) -> Status { o.token = v; return Ok{}; };
        t["--api-tokens"] = [](Options& o, const std::string& v) -> Status { o.api_tokens = v; return Ok{}; };
        t["--webhook-secret-file"] = [](Options& o, const std::string& v) -> Status {
            o.webhook_secret_file = v;
            return Ok{};
        };
        add_http_limits(t);
        t["--changed"] = [](Options& o, const std::string& v) -> Status { o.changed.push_back(v); return Ok{}; };
        t["--reset"] = [](Options& o, const std::string& v) -> Status { o.reset.push_back(v); return Ok{}; };
        t["--trigger"] = [](Options& o, const std::string& v) -> Status { o.trigger.push_back(v); return Ok{}; };
        t["--only"] = [](Options& o, const std::string& v) -> Status {
            for (auto& name : split_list(v)) o.only.push_back(name);
            return Ok{};
        };
        t["--observed"] = [](Options& o, const std::string& v) -> Status { o.observed = v; return Ok{}; };
        t["--tail"] = [](Options& o, const std::string& v) -> Status {
            if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || v.size() > 9)
                return usage("--tail takes a number of lines, not '" + v + "'");
            o.tail = std::stoul(v);
            return Ok{};
        };
        return t;
    }();
    return table;
}

Status apply_flag(Options& options, const std::string& arg) {
    if (arg == "-h" || arg == "--help") options.help = true;
    else if (arg == "--version") options.version = true;
    else if (arg == "--bootstrap") options.bootstrap = true;
    else if (arg == "--follow") options.follow = true;
    else if (arg == "--ignored") options.ignored = true;
    else return usage("unknown option '" + arg + "' (see --help)");
    return Ok{};
}

}  // namespace

Result<Options> parse_options(const std::vector<std::string>& args, const ToolDefaults& tool) {
    Options options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if (arg.size() > 1 && arg[0] == '-') {
            std::optional<std::string> inline_value;
            if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
                inline_value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
            }
            // `logs SERVICE -f` follows, as tail -f does; before the command, -f is still --file.
            if (arg == "-f" && options.command == "logs") {
                options.follow = true;
                continue;
            }
            const auto& table = valued_options();
            if (auto it = table.find(arg); it != table.end()) {
                if (!inline_value && i + 1 >= args.size()) return usage(arg + " needs a value");
                const std::string value = inline_value ? *inline_value : args[++i];
                if (auto status = it->second(options, value); !status) return status.error();
                continue;
            }
            if (inline_value) return usage("option '" + arg + "' takes no value");
            if (auto status = apply_flag(options, arg); !status) return status.error();
            continue;
        }
        if (options.command.empty()) options.command = arg;
        else options.operands.push_back(arg);
    }
    if (options.repo && options.source_flag == SourceKind::disk)
        return usage("--repo reads from git and cannot go with --source disk");
    options.source = options.source_flag.value_or(options.repo ? SourceKind::git : tool.default_source);
    const bool swarm = options.runtime == std::string("swarm");
    if (!swarm && (options.swarm_host || options.registry))
        return usage(std::string(options.swarm_host ? "--swarm-host" : "--registry") + " goes with --runtime swarm");
    if (swarm && !options.registry)
        return usage("--runtime swarm needs --registry HOST:PORT: the registry every node pulls the images from");
    return options;
}

std::string options_help(const ToolDefaults& tool) {
    const bool git = tool.default_source == SourceKind::git;
    return std::string("Options:\n") +
           "  -f, --file FILE        the project's file: tandem.yaml, a compose file or a Procfile (default: the\n"
           "                         first of tandem.yaml, compose.yaml, compose.yml, docker-compose.yaml,\n"
           "                         docker-compose.yml, Procfile here); again: compose files merged over it\n"
           "      --profile NAME     compose: enable the services of this profile (repeatable)\n"
           "      --policy NAME      the policy set to use; wins over `policy:` in tandem.yaml (default: " +
           tool.default_policy + ")\n" +
           "  -o, --output FORMAT    table (default) or json\n"
           "      --source KIND      where the project is read from: disk or git (default: " +
           (git ? "git" : "disk") + ")\n" +
           "      --repo PATH        git: the repository (default: the one holding FILE); FILE is then a path in it\n"
           "      --ref REF          git: branch, tag or commit to read (default: HEAD; run follows main)\n"
           "      --bootstrap        allow bringing every service up from nothing (an audited incident where\n"
           "                         the policy requires the flag)\n"
           "      --changed PATH     plan for a changed file (repeatable)\n"
           "      --reset SERVICE    plan a reset of the service's state (repeatable)\n"
           "      --trigger SERVICE  plan a rebuild and restart of the service (repeatable)\n"
           "      --only A,B         restrict to these services and what they depend on\n"
           "      --observed FILE    plan against a recorded running state (JSON) instead of nothing running\n"
           "      --follow           logs: keep printing new lines (also -f after `logs`)\n"
           "      --tail N           logs: how many of the lines already written to show first (default: 100)\n"
           "      --ignored          ls-watched: list the ignored files too, with the rule that ignores each\n"
           "      --http-port N      up/run: serve the API and web page on 127.0.0.1:N (0: any free port; off: none)\n"
           "                         (default: 10350 under up, 10351 under run)\n"
           "      --api-tokens FILE  up/run: bearer tokens, one per line: NAME ROLE SECRET (needed under security.strict)\n"
           "      --http-max-connections N  up/run: API connections open at once (default: 256; at most half the\n"
           "                         descriptor limit)\n"
           "      --http-max-connections-per-peer N  up/run: the same from one address (default: 32)\n"
           "      --http-header-timeout DURATION  up/run: close a client whose request header takes longer (default: 10s)\n"
           "      --http-idle-timeout DURATION  up/run: close a kept-alive API connection idle this long (default: 60s)\n"
           "      --http-allowed-host NAME  up/run: a host name the API answers to beyond localhost, 127.0.0.1\n"
           "                         and [::1] (repeatable)\n"
           "      --token SECRET     the commands that ask the engine: the API token (default: $TANDEM_API_TOKEN)\n" +
           std::string("      --state-dir DIR    run and its commands: mirror, snapshots, store, history, audit\n"
                  "                         (default: .shipper)\n"
                  "      --poll DURATION    run: fetch this often (default: 2s; 0: only on sync)\n"
                  "      --allowed-signers FILE  run: deploy only commits whose SSH signature verifies against FILE\n"
                  "                         (ssh-keygen's allowed signers format)\n"
                  "      --ssh-key FILE     run: the private key for ssh:// and user@host:path URLs (default: the ssh\n"
                  "                         agent, $SSH_AUTH_SOCK, or ssh's default keys)\n"
                  "      --known-hosts FILE run: the trusted ssh host keys (default: ~/.ssh/known_hosts); others are refused\n"
                  "      --token-file FILE  run: an https access token, sent as basic auth (default: $SHIPPER_GIT_TOKEN)\n"
                  "      --fetch-timeout DURATION  run: abandon a fetch that takes longer (default: 60s)\n"
                  "      --audit-log FILE   audit verify|show|repair: the log (default: STATE_DIR/audit.jsonl)\n"
                  "      --reason TEXT      audit repair: why the break is accepted (recorded in the repair record)\n"
                  "      --checkpoints REPO audit verify: check the log against the signed checkpoints in this git\n"
                  "                         repository (with --allowed-signers FILE: and who signed them)\n"
                  "      --checkpoint-key FILE  run: sign checkpoints of the audit log's head with this SSH key\n"
                  "      --checkpoint-repo DIR  run: commit them to this git repository (default:\n"
                  "                         STATE_DIR/audit-checkpoints.git); mirror it off the machine\n"
                  "      --webhook-secret-file FILE  run: accept push webhooks signed with this secret (HMAC-SHA256)\n"
                  "      --runtime KIND     run: local (default: processes and containers here) or swarm (container\n"
                  "                         services on a Docker Swarm cluster; docs/swarm.md)\n"
                  "      --swarm-host unix:///PATH  run --runtime swarm: a manager's socket (default: $DOCKER_HOST, or\n"
                  "                         /var/run/docker.sock)\n"
                  "      --registry HOST:PORT  run --runtime swarm: the registry images are pushed to and nodes pull from\n"
                  "      --previews PATTERN run: a deploy preview of every branch matching PATTERN ('feature/*';\n"
                  "                         repeatable; wins over previews.branches in tandem.yaml; docs/previews.md)\n"
                  "      --preview-policy NAME  run: the policy set previews run under (default: previews.policy, else wip)\n"
                  "      --preview-max N    run: previews running at once; the oldest idle one stops first (default: 3)\n"
                  "      --preview-idle DURATION  run: stop a preview whose branch had no push this long (default: never)\n"
                  "      --preview-port N   run: route http://<preview>.localhost:N/ to each preview by Host header\n") +
           "  -h, --help             this help\n"
           "      --version          the version\n";
}

}  // namespace tandem::cli
