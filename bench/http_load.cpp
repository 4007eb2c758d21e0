// A small HTTP load client that opens one connection per request: the only way `openssl ocsp`
// (OpenSSL 3.0) can be measured. wrk cannot: its start-up probe connection, closed without a
// request, sends `openssl ocsp -port` into a busy loop on EOF, and it never accepts again.
// Loopback only, bounded in time.
//
// Usage: http_load PORT REQUEST_FILE SECONDS THREADS
//   REQUEST_FILE holds the raw HTTP request bytes to send on each connection.
// Prints: requests/s, p50 and p99 latency in ms, and errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// One request on a fresh connection; false on any error or a non-200 answer.
bool one_request(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  // Bounded: a server that stops answering costs at most this long per request.
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(request.size());
  std::string response;
  char buffer[4096];
  while (ok) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;  // the server closes after each answer
    }
    response.append(buffer, static_cast<std::size_t>(n));
    const auto header_end = response.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      const auto length_at = response.find("Content-Length: ");
      const auto length_at_lower = response.find("Content-length: ");
      const auto at = length_at != std::string::npos ? length_at : length_at_lower;
      if (at != std::string::npos &&
          response.size() >=
              header_end + 4 + std::strtoul(response.c_str() + at + 16, nullptr, 10)) {
        break;
      }
    }
  }
  ::close(fd);
  return ok && response.find(" 200 ") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: http_load PORT REQUEST_FILE SECONDS THREADS\n";
    return 2;
  }
  const int port = std::atoi(argv[1]);
  std::ifstream file(argv[2], std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  const std::string request = bytes.str();
  const auto duration = std::chrono::seconds(std::atoi(argv[3]));
  const int threads = std::atoi(argv[4]);

  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + duration;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = latencies[static_cast<std::size_t>(t)];
      while (std::chrono::steady_clock::now() < end) {
        const auto before = std::chrono::steady_clock::now();
        if (one_request(port, request)) {
          mine.push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before)
                  .count());
        } else {
          ++errors;
        }
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& mine : latencies) {
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::sort(all.begin(), all.end());
  auto percentile = [&](double p) {
    return all.empty() ? 0.0
                       : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))];
  };
  std::printf("requests/s %.1f p50_ms %.3f p99_ms %.3f errors %ld\n", all.size() / seconds,
              percentile(0.5), percentile(0.99), errors.load());
  return 0;
}
