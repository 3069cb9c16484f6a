// Tests of the TCP proxy with real sockets on 127.0.0.1: forwarding, round robin, parking while
// there is no backend, failover, draining, and a listener that stays bound across backend swaps.
#include "proxy/loopback.hpp"
#include "runtime/process/tcp_proxy.hpp"

#include <doctest/doctest.h>

#include <thread>

#include <atomic>
#include <map>

using tandem::Duration;
using tandem::process::ProxyStats;
using tandem::process::TcpProxy;
using namespace tandem::test;  // the helpers of this test area only

namespace {

using Server = LoopbackServer;

// A proxy and its backends, all living on one loop thread.
struct Rig {
    explicit Rig(TcpProxy::Options options = {}) {
        loop.call([&] {
            auto listening = TcpProxy::listen(loop.io(), options);
            REQUIRE_MESSAGE(listening.ok(), (listening.ok() ? "" : listening.error().to_string()));
            proxy = std::move(listening).value();
            return 0;
        });
        port = loop.call([&] { return proxy->port(); });
    }
    ~Rig() {
        loop.call([&] {
            proxy.reset();
            servers.clear();
            return 0;
        });
    }
    // Starts a backend server and returns its index in `servers`.
    std::size_t server(Server::Behaviour behaviour = Server::Behaviour::echo, std::string greeting = {}) {
        return loop.call([&] {
            servers.push_back(std::make_unique<Server>(loop.io(), behaviour, greeting));
            return servers.size() - 1;
        });
    }
    int server_port(std::size_t index) {
        return loop.call([&] { return servers[index]->port(); });
    }
    void add(int id, int backend_port) {
        loop.call([&] {
            proxy->add_backend(id, backend_port);
            return 0;
        });
    }
    ProxyStats stats() {
        return loop.call([&] { return proxy->stats(); });
    }

    LoopThread loop;
    std::unique_ptr<TcpProxy> proxy;
    std::vector<std::unique_ptr<Server>> servers;
    int port = 0;
};

TcpProxy::Options quick_options() {
    TcpProxy::Options options;
    options.backend_wait = Duration(3000);
    options.connect_timeout = Duration(1000);
    return options;
}

}  // namespace

TEST_CASE("proxy: forwards bytes both ways, including a 5 MB payload, and half-closes") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server()));

    RawClient client;
    REQUIRE(client.connect(rig.port));
    REQUIRE(client.send("hello"));
    CHECK(client.receive(5) == "hello");

    std::string payload = random_bytes(5 * 1024 * 1024);
    auto echoed = client.exchange(payload);
    REQUIRE(echoed.has_value());
    CHECK(echoed->size() == payload.size());
    CHECK(*echoed == payload);

    CHECK(eventually([&] { return rig.stats().active == 0; }));
    ProxyStats stats = rig.stats();
    CHECK(stats.accepted == 1);
    CHECK(stats.forwarded == 1);
    CHECK(stats.backend_errors == 0);
    CHECK(rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 0);
}

TEST_CASE("proxy: a listener on a port already in use is an error naming the port") {
    Rig first(quick_options());
    LoopThread loop;
    TcpProxy::Options options = quick_options();
    options.port = first.port;
    auto second = loop.call([&] { return TcpProxy::listen(loop.io(), options); });
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message.find(std::to_string(first.port)) != std::string::npos);
}

TEST_CASE("proxy: connections alternate between two backends") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server(Server::Behaviour::echo, "A")));
    rig.add(2, rig.server_port(rig.server(Server::Behaviour::echo, "B")));
    CHECK(rig.loop.call([&] { return rig.proxy->backend_count(); }) == 2);

    std::string tags;
    for (int i = 0; i < 6; ++i) {
        RawClient client;
        REQUIRE(client.connect(rig.port));
        tags += client.receive(1);
    }
    CHECK(tags.size() == 6);
    for (std::size_t i = 1; i < tags.size(); ++i) CHECK(tags[i] != tags[i - 1]);
}

TEST_CASE("proxy: a connection made while no backend exists waits and succeeds once one is added") {
    Rig rig(quick_options());
    std::size_t echo = rig.server();

    RawClient client;
    REQUIRE(client.connect(rig.port));  // accepted, not refused
    REQUIRE(client.send("early"));
    CHECK(eventually([&] { return rig.stats().accepted == 1; }));
    CHECK(client.receive(5, milliseconds(100)).empty());  // nothing to answer yet

    rig.add(7, rig.server_port(echo));
    CHECK(client.receive(5) == "early");
    ProxyStats stats = rig.stats();
    CHECK(stats.forwarded == 1);
    CHECK(stats.timed_out == 0);
}

TEST_CASE("proxy: a connection that waits longer than backend_wait is closed and counted") {
    TcpProxy::Options options = quick_options();
    options.backend_wait = Duration(150);
    Rig rig(options);

    RawClient client;
    auto started = Clock::now();
    REQUIRE(client.connect(rig.port));
    CHECK(client.closed_by_peer());
    CHECK(Clock::now() - started >= milliseconds(140));
    CHECK(eventually([&] { return rig.stats().timed_out == 1; }));
    CHECK(rig.stats().active == 0);
    CHECK(rig.loop.call([&] { return rig.proxy->unserved_connections(); }) == 1);
}

TEST_CASE("proxy: a refused backend falls over to the next one and counts a backend error") {
    Rig rig(quick_options());
    rig.add(1, refused_port());
    rig.add(2, rig.server_port(rig.server(Server::Behaviour::echo, "B")));

    for (int i = 0; i < 4; ++i) {
        RawClient client;
        REQUIRE(client.connect(rig.port));
        CHECK(client.receive(1) == "B");
    }
    ProxyStats stats = rig.stats();
    CHECK(stats.forwarded == 4);
    CHECK(stats.backend_errors >= 1);
    CHECK(stats.unserved == 0);  // every client reached a backend in the end
    CHECK(rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 0);
}

TEST_CASE("proxy: when every backend refuses, the client is closed and counted as unserved") {
    Rig rig(quick_options());
    rig.add(1, refused_port());
    rig.add(2, refused_port());
    RawClient client;
    REQUIRE(client.connect(rig.port));
    CHECK(client.closed_by_peer());
    CHECK(eventually([&] { return rig.stats().backend_errors == 2 && rig.stats().active == 0; }));
    CHECK(rig.loop.call([&] { return rig.proxy->unserved_connections(); }) == 1);
}

TEST_CASE("proxy: draining waits for a connection in the middle of a request to close before reporting") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server(Server::Behaviour::http_status)));
    RawClient client;
    REQUIRE(client.connect(rig.port));
    REQUIRE(client.send("GET / HTTP/1.0\r\n"));  // half a request: in flight, no answer yet
    CHECK(eventually([&] { return rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 1; }));

    std::atomic<bool> drained{false};
    rig.loop.call([&] {
        rig.proxy->drain_backend(1, Duration(10000), [&] { drained = true; });
        return 0;
    });
    CHECK(rig.loop.call([&] { return rig.proxy->backend_count(); }) == 0);
    std::this_thread::sleep_for(milliseconds(200));  // well past the idle quiet time
    CHECK_FALSE(drained.load());
    CHECK(rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 1);

    REQUIRE(client.send("\r\n"));  // the rest: it is answered, and the server closes
    CHECK(client.closed_by_peer());
    CHECK(eventually([&] { return drained.load(); }));
    CHECK(rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 0);
}

// A client connects, and its request is late (a loaded machine): the connection is not an idle
// keep-alive, and the drain waits for its answer instead of resetting it.
TEST_CASE("proxy: draining waits for a new connection whose request has not arrived yet") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server(Server::Behaviour::http_status)));
    RawClient client;
    REQUIRE(client.connect(rig.port));
    CHECK(eventually([&] { return rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 1; }));
    std::this_thread::sleep_for(milliseconds(200));  // connected to the backend, quiet past the idle time

    std::atomic<bool> drained{false};
    rig.loop.call([&] {
        rig.proxy->drain_backend(1, Duration(10000), [&] { drained = true; });
        return 0;
    });
    std::this_thread::sleep_for(milliseconds(200));
    CHECK_FALSE(drained.load());
    REQUIRE(rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 1);

    REQUIRE(client.send("GET / HTTP/1.0\r\n\r\n"));
    CHECK(client.receive(12) == "HTTP/1.0 200");
    CHECK(client.closed_by_peer());
    CHECK(eventually([&] { return drained.load(); }));
}

// A server that sends its headers, then its body a while later (busybox httpd under load): the
// connection looks idle in between, and a drain must let the reply finish, not cut it.
TEST_CASE("proxy: draining lets a reply whose body comes after a pause finish") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server(Server::Behaviour::slow_body)));
    RawClient client;
    REQUIRE(client.connect(rig.port));
    REQUIRE(client.send("GET / HTTP/1.0\r\n\r\n"));
    const std::string head = "HTTP/1.0 200 Test\r\nContent-Length: 4\r\n\r\n";
    REQUIRE(client.receive(head.size()) == head);
    std::this_thread::sleep_for(milliseconds(100));  // quiet past the idle time: it looks idle

    std::atomic<bool> drained{false};
    rig.loop.call([&] {
        rig.proxy->drain_backend(1, Duration(10000), [&] { drained = true; });
        return 0;
    });
    CHECK(client.receive(4) == "body");
    CHECK(client.closed_by_peer());
    CHECK(eventually([&] { return drained.load(); }));
    CHECK(rig.stats().backend_errors == 0);
}

TEST_CASE("proxy: draining closes an idle keep-alive connection at once instead of waiting for the timeout") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server()));
    RawClient client;
    REQUIRE(client.connect(rig.port));
    REQUIRE(client.send("x"));
    REQUIRE(client.receive(1) == "x");  // answered: between requests now

    std::atomic<bool> drained{false};
    auto started = Clock::now();
    rig.loop.call([&] {
        rig.proxy->drain_backend(1, Duration(10000), [&] { drained = true; });
        return 0;
    });
    CHECK(client.closed_by_peer());
    CHECK(eventually([&] { return drained.load(); }));
    CHECK(Clock::now() - started < milliseconds(5000));
}

TEST_CASE("proxy: draining past its timeout closes the remaining connections") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server(Server::Behaviour::silent)));
    RawClient client;
    REQUIRE(client.connect(rig.port));
    REQUIRE(client.send("request"));  // never answered
    CHECK(eventually([&] { return rig.loop.call([&] { return rig.proxy->open_connections(1); }) == 1; }));

    std::atomic<bool> drained{false};
    auto started = Clock::now();
    rig.loop.call([&] {
        rig.proxy->drain_backend(1, Duration(200), [&] { drained = true; });
        return 0;
    });
    CHECK(client.closed_by_peer());
    CHECK(Clock::now() - started >= milliseconds(180));
    CHECK(eventually([&] { return drained.load(); }));
    CHECK(eventually([&] { return rig.stats().active == 0; }));
}

TEST_CASE("proxy: draining a backend with no connection reports on the loop, not inside the call") {
    Rig rig(quick_options());
    rig.add(1, rig.server_port(rig.server()));
    std::atomic<int> calls{0};
    bool called_inside = rig.loop.call([&] {
        rig.proxy->drain_backend(1, Duration(1000), [&] { ++calls; });
        return calls.load() != 0;
    });
    CHECK_FALSE(called_inside);
    CHECK(eventually([&] { return calls.load() == 1; }));
}

TEST_CASE("proxy: the listening port stays bound while backends are swapped") {
    Rig rig(quick_options());
    int next_id = 1;
    rig.add(next_id, rig.server_port(rig.server()));

    // Swap backends on the loop while this thread connects over and over; half of the swaps
    // drain first and add later, leaving a moment with no backend at all.
    std::atomic<bool> stop{false};
    std::thread swapper([&] {
        for (int swap = 0; !stop && swap < 40; ++swap) {
            int old_id = next_id++;
            std::size_t fresh = rig.server();
            int fresh_port = rig.server_port(fresh);
            rig.loop.call([&] {
                if (swap % 2 == 0) rig.proxy->add_backend(next_id - 1, fresh_port);
                rig.proxy->drain_backend(old_id, Duration(2000), [] {});
                return 0;
            });
            std::this_thread::sleep_for(milliseconds(5));
            if (swap % 2 == 1) rig.add(next_id - 1, fresh_port);
            std::this_thread::sleep_for(milliseconds(5));
        }
    });

    int failures = 0, successes = 0;
    for (int i = 0; i < 400; ++i) {
        RawClient client;
        std::string message = "m" + std::to_string(i);
        if (client.connect(rig.port) && client.send(message) && client.receive(message.size()) == message)
            ++successes;
        else
            ++failures;
    }
    stop = true;
    swapper.join();
    CHECK(failures == 0);
    CHECK(successes == 400);
    CHECK(rig.stats().timed_out == 0);
}
