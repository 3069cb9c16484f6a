// The decoders of the daemon's streams, and the client's error when no daemon listens.
#include "runtime/docker/docker_client.hpp"
#include "runtime/docker/docker_stream.hpp"
#include "support/asio.hpp"

#include <doctest/doctest.h>

#include <optional>

using namespace tandem;
using namespace tandem::docker;

namespace {

std::string frame(int stream, std::string_view bytes) {
    std::string out(8, '\0');
    out[0] = static_cast<char>(stream);
    const auto size = static_cast<std::uint32_t>(bytes.size());
    out[4] = static_cast<char>((size >> 24) & 0xff);
    out[5] = static_cast<char>((size >> 16) & 0xff);
    out[6] = static_cast<char>((size >> 8) & 0xff);
    out[7] = static_cast<char>(size & 0xff);
    return out + std::string(bytes);
}

}  // namespace

TEST_CASE("the demuxer splits frames into stdout and stderr lines wherever the bytes are cut") {
    // A stdout line cut by a stderr frame, a frame larger than 255 bytes, a stdin frame dropped.
    const std::string big(300, 'z');
    const std::string stream = frame(1, "par") + frame(2, "err line\n") + frame(1, "tial\n" + big + "\n") +
                               frame(0, "stdin\n") + frame(1, "last");
    for (std::size_t cut = 0; cut <= stream.size(); cut += 1) {
        std::vector<std::pair<OutputStream, std::string>> lines;
        DemuxedLines demux([&](OutputStream s, std::string_view line) { lines.emplace_back(s, std::string(line)); });
        demux.feed(std::string_view(stream).substr(0, cut));
        demux.feed(std::string_view(stream).substr(cut));
        demux.finish();
        const std::vector<std::pair<OutputStream, std::string>> expected = {
            {OutputStream::stderr_stream, "err line"},
            {OutputStream::stdout_stream, "partial"},
            {OutputStream::stdout_stream, big},
            {OutputStream::stdout_stream, "last"}};
        CHECK_MESSAGE(lines == expected, "cut at " << cut);
    }
}

TEST_CASE("the line splitter drops '\\r' before '\\n' and keeps a last line without one") {
    std::vector<std::string> lines;
    LineSplitter split([&](std::string_view line) { lines.emplace_back(line); });
    split.feed("{\"a\":1}\r\n{\"b\"");
    split.feed(":2}\nend");
    split.finish();
    CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "end"});
}

TEST_CASE("no daemon on the socket is an unavailable error that asks whether dockerd runs") {
    boost::asio::io_context io;
    DockerClient client(io, "/nonexistent/tandem-test/docker.sock");
    std::optional<Status> pinged;
    client.with_context("for service 'web'").ping([&](Status got) { pinged.emplace(std::move(got)); });
    io.run();
    REQUIRE(pinged);
    REQUIRE(!pinged->ok());
    CHECK(pinged->error().code == ErrorCode::unavailable);
    CHECK(pinged->error().message ==
          "docker: ping for service 'web': cannot connect to the daemon at /nonexistent/tandem-test/docker.sock: "
          "No such file or directory (is dockerd running?)");
}
