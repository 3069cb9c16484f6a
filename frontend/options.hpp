// Command-line options of the front-ends, parsed into one struct.
#pragma once

#include "frontend/cli.hpp"

#include <tandem/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tandem::cli {

enum class OutputFormat { table, json };

struct Options {
    std::string command;               // "plan"; empty when only --help/--version was given
    std::vector<std::string> operands; // what follows the command
    std::string file;                  // -f: the project's file; empty: found in the current directory
    std::vector<std::string> more_files;  // -f given again: compose files merged over `file`
    std::vector<std::string> profiles;    // --profile NAME, repeatable: compose profiles to enable
    std::optional<std::string> policy; // --policy
    OutputFormat output = OutputFormat::table;
    SourceKind source = SourceKind::disk;   // --source, or git when --repo is given, or the tool's default
    std::optional<SourceKind> source_flag;  // --source as given
    std::optional<std::string> repo;   // --repo (git source)
    std::optional<std::string> ref;    // --ref (git source); plan/validate read HEAD, run follows main
    std::optional<std::string> state_dir;        // --state-dir (shipper run and its commands)
    std::optional<std::chrono::milliseconds> poll;  // --poll DURATION (shipper run)
    std::optional<std::string> allowed_signers;  // --allowed-signers FILE (shipper run)
    std::optional<std::string> ssh_key;          // --ssh-key FILE (shipper run: ssh URLs)
    std::optional<std::string> known_hosts;      // --known-hosts FILE (shipper run: ssh URLs)
    std::optional<std::string> token_file;       // --token-file FILE (shipper run: https token)
    std::optional<std::chrono::milliseconds> fetch_timeout;  // --fetch-timeout DURATION (shipper run)
    std::optional<std::string> audit_log;        // --audit-log FILE (audit verify|show|repair)
    std::optional<std::string> reason;           // --reason TEXT (audit repair)
    std::optional<std::string> checkpoints;      // --checkpoints REPO (audit verify)
    std::optional<std::string> checkpoint_key;   // --checkpoint-key FILE (shipper run)
    std::optional<std::string> checkpoint_repo;  // --checkpoint-repo DIR (shipper run)
    std::optional<std::string> runtime;          // --runtime local|swarm (shipper run)
    std::optional<std::string> swarm_host;       // --swarm-host unix:///PATH: a swarm manager's socket
    std::optional<std::string> registry;         // --registry HOST:PORT: where swarm nodes pull images
    std::vector<std::string> previews;           // --previews PATTERN, repeatable (shipper run)
    std::optional<std::string> preview_policy;   // --preview-policy NAME
    std::optional<int> preview_max;              // --preview-max N
    std::optional<std::chrono::milliseconds> preview_idle;  // --preview-idle DURATION (0: never)
    std::optional<int> preview_port;             // --preview-port N: route <preview>.localhost:N by Host
    std::optional<int> http_port;                // --http-port N (0: any free port); -1 for `off`
    std::optional<std::string> api_tokens;       // --api-tokens FILE
    std::optional<std::string> token;            // --token SECRET: the CLI's bearer token for the engine's API
    std::optional<std::string> webhook_secret_file;  // --webhook-secret-file FILE
    std::optional<std::size_t> http_max_connections;           // --http-max-connections N
    std::optional<std::size_t> http_max_connections_per_peer;  // --http-max-connections-per-peer N
    std::optional<std::chrono::milliseconds> http_header_timeout;  // --http-header-timeout DURATION
    std::optional<std::chrono::milliseconds> http_idle_timeout;    // --http-idle-timeout DURATION
    std::vector<std::string> http_allowed_hosts;  // --http-allowed-host NAME, repeatable
    bool bootstrap = false;
    std::vector<std::string> changed;  // --changed PATH, repeatable
    std::vector<std::string> reset;    // --reset SERVICE, repeatable
    std::vector<std::string> trigger;  // --trigger SERVICE, repeatable
    std::vector<std::string> only;     // --only a,b
    std::optional<std::string> observed;  // --observed FILE
    bool ignored = false;              // ls-watched: --ignored, list ignored paths too
    bool follow = false;               // logs: -f (after `logs`) or --follow
    std::size_t tail = 100;            // logs: --tail N, the lines already written to show
    bool help = false;
    bool version = false;
};

// `args` excludes the program name. Errors are ErrorCode::usage and name the argument.
Result<Options> parse_options(const std::vector<std::string>& args, const ToolDefaults& tool);

// The options part of --help.
std::string options_help(const ToolDefaults& tool);

}  // namespace tandem::cli
