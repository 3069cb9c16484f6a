// Remotes a private repository is reached through, run for real on 127.0.0.1 by the tests: a
// TCP server that accepts and never answers, a smart-HTTP git server (git http-backend behind a
// small Python server) that requires a token, and an sshd with a throwaway host key and user key.
#pragma once

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace tandem::test {

inline bool accepts_connections(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return ok;
}

// `argv` in the background, its output in `log`; killed (SIGTERM, then reaped) by stop_background.
inline pid_t start_background(std::vector<std::string> argv, const std::filesystem::path& log) {
    const pid_t pid = fork();
    if (pid == 0) {
        const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(out, 1);
        dup2(out, 2);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    return pid;
}

inline void stop_background(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
}

// Accepts every connection on 127.0.0.1 and never sends a byte; counts the connections.
class SilentServer {
public:
    SilentServer() {
        listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t length = sizeof address;
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        REQUIRE(listen(listener_, 16) == 0);
        thread_ = std::thread([this] {
            while (!stopping_) {
                pollfd p{listener_, POLLIN, 0};
                if (poll(&p, 1, 50) <= 0) continue;
                const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                if (fd >= 0) {
                    held_.push_back(fd);
                    ++accepted_;
                }
            }
        });
    }
    ~SilentServer() {
        stopping_ = true;
        thread_.join();
        for (int fd : held_) close(fd);
        close(listener_);
    }
    int port() const { return port_; }
    int accepted() const { return accepted_; }

private:
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::vector<int> held_;
    std::thread thread_;
};

// Serves the repositories under `root` over git's smart HTTP protocol at
// http://127.0.0.1:PORT/NAME, answering 401 to any request without "Basic
// base64(x-access-token:TOKEN)".
class TokenGitServer {
public:
    TokenGitServer(const std::filesystem::path& root, const std::string& token) {
        const auto script = dir_.write("git_server.py", R"(import base64, os, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
root, token, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
expected = 'Basic ' + base64.b64encode(('x-access-token:' + token).encode()).decode()
class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def serve(self):
        if self.headers.get('Authorization') != expected:
            self.send_response(401)
            self.send_header('WWW-Authenticate', 'Basic realm="git"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        path, _, query = self.path.partition('?')
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL='1', PATH_INFO=path, QUERY_STRING=query,
                   REQUEST_METHOD=self.command, CONTENT_TYPE=self.headers.get('Content-Type', ''),
                   CONTENT_LENGTH=str(len(body)), HTTP_CONTENT_ENCODING=self.headers.get('Content-Encoding', ''),
                   GIT_PROTOCOL=self.headers.get('Git-Protocol', ''), REMOTE_USER='token')
        out = subprocess.run(['git', 'http-backend'], input=body, env=env, capture_output=True).stdout
        head, _, rest = out.partition(b'\r\n\r\n')
        status, headers = 200, []
        for line in head.split(b'\r\n'):
            name, _, value = line.decode().partition(':')
            if name.lower() == 'status': status = int(value.strip().split()[0])
            elif name: headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers: self.send_header(name, value)
        self.send_header('Content-Length', str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)
    do_GET = serve
    do_POST = serve
server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
with open(port_file + '.tmp', 'w') as f: f.write(str(server.server_address[1]))
os.rename(port_file + '.tmp', port_file)
server.serve_forever()
)");
        const auto port_file = dir_.path() / "port";
        pid_ = start_background({"python3", script.string(), root.string(), token, port_file.string()},
                                dir_.path() / "server.log");
        REQUIRE(eventually([&] { return std::filesystem::exists(port_file); }, std::chrono::milliseconds(10000)));
        port_ = std::stoi(read_text(port_file));
    }
    ~TokenGitServer() { stop_background(pid_); }
    std::string url(const std::string& name) const { return "http://127.0.0.1:" + std::to_string(port_) + "/" + name; }

private:
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
};

inline std::string current_user() {
    const passwd* entry = getpwuid(geteuid());
    return entry ? entry->pw_name : "root";
}

// An sshd on 127.0.0.1 with a host key of its own, letting in the holder of `user_key()`.
// sshd comes from Debian's openssh-server, installed by scripts/install-deps.sh if missing.
class TestSshd {
public:
    TestSshd() {
        if (!std::filesystem::exists("/usr/sbin/sshd")) {
            const auto installed = run_command({"bash", std::string(TANDEM_SOURCE_DIR) + "/scripts/install-deps.sh"});
            REQUIRE_MESSAGE(std::filesystem::exists("/usr/sbin/sshd"),
                            (std::string("no /usr/sbin/sshd: scripts/install-deps.sh (openssh-server) failed: ") + installed.err));
        }
        std::filesystem::create_directories("/run/sshd");  // sshd's privilege separation directory
        keygen(dir_.path() / "host_key");
        keygen(dir_.path() / "user_key");
        std::filesystem::copy_file(dir_.path() / "user_key.pub", dir_.path() / "authorized_keys");
        port_ = free_port();
        dir_.write("sshd_config", "Port " + std::to_string(port_) + "\nListenAddress 127.0.0.1\nHostKey " +
                                      (dir_.path() / "host_key").string() + "\nAuthorizedKeysFile " +
                                      (dir_.path() / "authorized_keys").string() + "\nPidFile " +
                                      (dir_.path() / "sshd.pid").string() +
                                      "\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n"
                                      "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n");
        pid_ = start_background({"/usr/sbin/sshd", "-D", "-e", "-f", (dir_.path() / "sshd_config").string()},
                                dir_.path() / "sshd.log");
        REQUIRE_MESSAGE(eventually([&] { return accepts_connections(port_); }, std::chrono::milliseconds(10000)),
                        read_text(dir_.path() / "sshd.log"));
        std::string host_key = read_text(dir_.path() / "host_key.pub");
        dir_.write("known_hosts", "[127.0.0.1]:" + std::to_string(port_) + " " + host_key);
        dir_.write("empty_known_hosts", "");
    }
    ~TestSshd() { stop_background(pid_); }

    std::filesystem::path user_key() const { return dir_.path() / "user_key"; }
    std::filesystem::path known_hosts() const { return dir_.path() / "known_hosts"; }
    std::filesystem::path empty_known_hosts() const { return dir_.path() / "empty_known_hosts"; }
    std::string url(const std::filesystem::path& repo) const {
        return "ssh://" + current_user() + "@127.0.0.1:" + std::to_string(port_) + repo.string();
    }
    std::string log() const { return read_text(dir_.path() / "sshd.log"); }

private:
    static void keygen(const std::filesystem::path& file) {
        const auto made = run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tandem-test", "-f", file.string()});
        REQUIRE_MESSAGE(made.exit_code == 0, made.err);
    }

    TempDir dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// An ssh-agent on a socket of its own holding `key`; SSH_AUTH_SOCK points at it while it lives.
class TestSshAgent {
public:
    explicit TestSshAgent(const std::filesystem::path& key) {
        const auto socket = dir_.path() / "agent.sock";
        pid_ = start_background({"ssh-agent", "-D", "-a", socket.string()}, dir_.path() / "agent.log");
        REQUIRE(eventually([&] { return std::filesystem::exists(socket); }, std::chrono::milliseconds(5000)));
        ::setenv("SSH_AUTH_SOCK", socket.c_str(), 1);
        const auto added = run_command({"ssh-add", "-q", key.string()});
        REQUIRE_MESSAGE(added.exit_code == 0, added.err);
    }
    ~TestSshAgent() {
        ::unsetenv("SSH_AUTH_SOCK");
        stop_background(pid_);
    }

private:
    TempDir dir_;
    pid_t pid_ = -1;
};

}  // namespace tandem::test
