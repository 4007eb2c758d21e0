// Hostile HTTP clients against `revocore serve`: thousands of idle connections (the connection
// limit and the header timeout), slow headers, oversized headers, pipelining, chunked bodies,
// HTTP/1.0 and bytes that are not HTTP. Well-behaved clients keep
// being answered. Loopback only; every wait is bounded.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

class OcspHostileClients : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::run_command(
                  fmt::format("{} --data-dir {} demo", REVOCORE_BINARY, data().string())),
              0);
    // Tight limits so the test is quick: a 1 s header timeout, at most 100 connections.
    std::stringstream config;
    config << std::ifstream(data() / "revocore.toml").rdbuf();
    std::string text = config.str();
    auto replace = [&](const std::string& from, const std::string& to) {
      ASSERT_NE(text.find(from), std::string::npos) << from;
      text.replace(text.find(from), from.size(), to);
    };
    replace("header_timeout_seconds = 10", "header_timeout_seconds = 1");
    replace("max_connections = 10000", "max_connections = 100");
    std::ofstream(data() / "revocore.toml") << text;

    const auto responder = testing::start_responder(REVOCORE_BINARY, data(), dir_.path());
    pid_ = responder.pid;
    port_ = responder.port;
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    testing::ResponderProcess responder{pid_, port_};
    testing::stop_responder(responder);
  }

  // A well-behaved client: GET /health within `seconds`.
  bool healthy_within(int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      std::string out;
      if (testing::run_command(
              fmt::format("curl -s --max-time 1 http://127.0.0.1:{}/health", port_), &out) == 0 &&
          out == "ok\n") {
        return true;
      }
      ::usleep(100'000);
    }
    return false;
  }

  bool alive() { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  fs::path data() const { return dir_.path() / "data"; }

  testing::TempDir dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

TEST_F(OcspHostileClients, ThousandsOfIdleConnectionsDoNotStarveOthers) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  const int wanted = std::min<int>(3000, static_cast<int>(limit.rlim_cur) - 100);
  std::vector<int> idle;
  for (int i = 0; i < wanted; ++i) {
    const int fd = connect_to(port_);
    if (fd >= 0) {
      idle.push_back(fd);
    }
  }
  EXPECT_GE(idle.size(), 1000u);
  // The idle ones hold at most 100 slots, each for at most the 1 s header timeout.
  EXPECT_TRUE(healthy_within(5));
  EXPECT_TRUE(alive());
  for (const int fd : idle) {
    ::close(fd);
  }
  std::stringstream log;
  log << std::ifstream(dir_.path() / "serve.err").rdbuf();
  EXPECT_NE(log.str().find("event=connection_limit max_connections=100"), std::string::npos)
      << log.str();
}

TEST_F(OcspHostileClients, SlowHeadersAreCutOffAndOthersServedMeanwhile) {
  const int slow = connect_to(port_);
  ASSERT_GE(slow, 0);
  const std::string partial = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  ASSERT_EQ(::send(slow, partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  EXPECT_TRUE(healthy_within(1));  // served while the slow client dawdles
  ::usleep(1'500'000);             // past the 1 s header timeout
  char byte = 0;
  EXPECT_LE(::recv(slow, &byte, 1, 0), 0) << "the slow client was not cut off";
  ::close(slow);
  EXPECT_TRUE(alive());
}

TEST_F(OcspHostileClients, OversizedHeadersAreRefused) {
  const int fd = connect_to(port_);
  ASSERT_GE(fd, 0);
  const std::string request =
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(100'000, 'a') + "\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  char buffer[256] = {};
  const ssize_t n = ::recv(fd, buffer, sizeof buffer - 1, 0);
  ::close(fd);
  // Either a 413 answer or a closed connection; never a crash.
  if (n > 0) {
    EXPECT_NE(std::string(buffer).find("413"), std::string::npos) << buffer;
  }
  EXPECT_TRUE(healthy_within(2));
  EXPECT_TRUE(alive());
}

// Everything the connection sends until it closes (bounded by the 5 s receive timeout).
std::string read_until_closed(int fd) {
  std::string all;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
    all.append(buffer, static_cast<std::size_t>(n));
  }
  return all;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t found = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++found;
  }
  return found;
}

TEST_F(OcspHostileClients, PipelinedRequestsAreAnsweredInOrderAndChunkedBodiesRead) {
  const int fd = connect_to(port_);
  ASSERT_GE(fd, 0);
  // Three requests in one segment: a GET, a chunked POST of a body that is not an OCSP request,
  // and a GET asking to close.
  const std::string requests =
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\nju\r\n2\r\nnk\r\n0\r\n\r\n"
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(requests.size()));
  const std::string answers = read_until_closed(fd);
  ::close(fd);
  EXPECT_EQ(count(answers, "HTTP/1.1 200 OK\r\n"), 3u) << answers;
  const std::size_t first = answers.find("\r\n\r\nok\n");
  const std::size_t malformed = answers.find(std::string("\r\n\r\n\x30\x03\x0a\x01\x01", 9));
  const std::size_t last = answers.rfind("Connection: close\r\n");
  EXPECT_LT(first, malformed);  // malformedRequest, in order
  EXPECT_LT(malformed, last);
  EXPECT_NE(last, std::string::npos);
  EXPECT_TRUE(answers.ends_with("ok\n")) << answers;
}

TEST_F(OcspHostileClients, Http10ClosesUnlessAskedAndGarbageGets400) {
  int fd = connect_to(port_);
  ASSERT_GE(fd, 0);
  const std::string old = "GET /health HTTP/1.0\r\n\r\n";
  ::send(fd, old.data(), old.size(), MSG_NOSIGNAL);
  const std::string answer = read_until_closed(fd);  // closed by the server, not the timeout
  ::close(fd);
  EXPECT_TRUE(answer.starts_with("HTTP/1.0 200 OK\r\n")) << answer;
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;

  fd = connect_to(port_);
  ASSERT_GE(fd, 0);
  const std::string garbage = "\x16\x03\x01\x02\x00 not HTTP at all\r\n\r\n";
  ::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
  const std::string refused = read_until_closed(fd);
  ::close(fd);
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 400 Bad Request\r\n")) << refused;
  EXPECT_TRUE(healthy_within(2));
  EXPECT_TRUE(alive());
}

// One server per data directory and per port (SO_REUSEPORT would otherwise let a second one in
// and the kernel split the traffic); CLI commands keep working beside the running one.
TEST_F(OcspHostileClients, ASecondServerIsRefusedNamingTheFirst) {
  std::string out;
  const int same_directory = testing::run_command(
      fmt::format("timeout 10 {} --data-dir {} serve --listen 127.0.0.1:0 --admin-listen "
                  "127.0.0.1:0",
                  REVOCORE_BINARY, data().string()),
      &out);
  EXPECT_EQ(same_directory, 10) << out;
  EXPECT_NE(out.find(fmt::format("another `revocore serve` (PID {}) is running on the data "
                                 "directory",
                                 pid_)),
            std::string::npos)
      << out;

  const fs::path other = dir_.path() / "other";
  ASSERT_EQ(testing::run_command(
                fmt::format("{} --data-dir {} demo >/dev/null", REVOCORE_BINARY, other.string())),
            0);
  const int same_port = testing::run_command(
      fmt::format("timeout 10 {} --data-dir {} serve --listen 127.0.0.1:{} --admin-listen "
                  "127.0.0.1:0",
                  REVOCORE_BINARY, other.string(), port_),
      &out);
  EXPECT_EQ(same_port, 11) << out;
  EXPECT_NE(out.find("is another OCSP responder (or revocore serve) running there?"),
            std::string::npos)
      << out;

  EXPECT_EQ(testing::run_command(fmt::format("{} --data-dir {} user show 1002 >/dev/null",
                                             REVOCORE_BINARY, data().string())),
            0);
  EXPECT_TRUE(alive());
  EXPECT_TRUE(healthy_within(2));
}

// Sends `request` on a fresh connection and returns all that comes back until the server closes.
std::string exchange(int port, const std::string& request) {
  const int fd = connect_to(port);
  if (fd < 0) {
    return "no connection";
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer = read_until_closed(fd);
  ::close(fd);
  return answer;
}

// Smuggling primitives (RFC 9112 6.1, 6.3): a Transfer-Encoding that does not end in chunked,
// or one beside a Content-Length, is refused with 400 and the connection closed, so a request
// hidden in the body is never answered.
TEST_F(OcspHostileClients, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  const std::string hidden = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const std::string coding : {"chunked, gzip", "xchunked", "identity", "gzip"}) {
    const std::string request =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: " + coding +
        "\r\nContent-Length: " + std::to_string(hidden.size()) + "\r\n\r\n" + hidden;
    const std::string answer = exchange(port_, request);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << coding << "\n" << answer;
    EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
    EXPECT_EQ(answer.find("ok\n"), std::string::npos) << "the hidden request was answered";
  }
  const std::string both =
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "5\r\n\r\n0\r\n\r\n" +
      hidden;
  const std::string answer = exchange(port_, both);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
  EXPECT_EQ(answer.find("ok\n"), std::string::npos) << answer;
  EXPECT_TRUE(alive());
}

TEST_F(OcspHostileClients, HostIsRequiredOnceAndAbsoluteFormAndHeadWork) {
  EXPECT_TRUE(exchange(port_, "GET /health HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(exchange(port_, "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
                  .starts_with("HTTP/1.1 400"));
  // HTTP/1.0 may leave Host out (RFC 9112 3.2).
  EXPECT_TRUE(exchange(port_, "GET /health HTTP/1.0\r\n\r\n").starts_with("HTTP/1.0 200"));
  const std::string absolute =
      exchange(port_,
               "GET http://127.0.0.1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
               "close\r\n\r\n");
  EXPECT_TRUE(absolute.starts_with("HTTP/1.1 200 OK\r\n")) << absolute;
  EXPECT_TRUE(absolute.ends_with("\r\n\r\nok\n")) << absolute;
  // HEAD: GET's status and Content-Length, no body; the connection goes on to the next request.
  const std::string head =
      exchange(port_,
               "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
               "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_EQ(count(head, "Content-Length: 3\r\n"), 2u) << head;
  EXPECT_EQ(count(head, "ok\n"), 1u) << head;
  std::string curl;
  EXPECT_EQ(testing::run_command(
                fmt::format("curl -sI --max-time 5 http://127.0.0.1:{}/health", port_), &curl),
            0);
  EXPECT_TRUE(curl.starts_with("HTTP/1.1 200 OK")) << curl;
}

// Every part of a request is bounded before it is buffered: a chunk extension, a chunk-size
// line and trailers without end are cut off after a few kilobytes, not buffered to gigabytes.
TEST_F(OcspHostileClients, ChunkExtensionsAndTrailersAreBounded) {
  const long before = testing::peak_rss_kb(pid_);
  ASSERT_GT(before, 0);
  const std::string heads[] = {
      // a chunk extension without end
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=",
      // trailers without end
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ",
  };
  const std::string filler(1 << 20, 'a');
  for (const std::string& head : heads) {
    const int fd = connect_to(port_);
    ASSERT_GE(fd, 0);
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    std::size_t sent = 0;
    // Up to 256 MiB; the server must refuse long before (the send then fails).
    while (sent < (std::size_t{256} << 20)) {
      const ssize_t n = ::send(fd, filler.data(), filler.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        break;
      }
      sent += static_cast<std::size_t>(n);
    }
    EXPECT_LT(sent, std::size_t{64} << 20) << "the server kept reading";
    std::string answer = read_until_closed(fd);
    ::close(fd);
    if (!answer.empty()) {
      EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer.substr(0, 200);
    }
  }
  const long after = testing::peak_rss_kb(pid_);
  EXPECT_LT(after - before, 16 * 1024)
      << "peak RSS grew from " << before << " to " << after << " kB";
  EXPECT_TRUE(healthy_within(2));
}

}  // namespace
}  // namespace revocore
