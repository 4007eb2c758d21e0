// `revocore serve` and `revocore ocsp presign`.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "api/admin_server.hpp"
#include "api/job_runner.hpp"
#include "cli/commands.hpp"
#include "ocsp/http_server.hpp"
#include "ocsp/ocsp_responder.hpp"
#include "replication/feed_publisher.hpp"
#include "replication/replica_follower.hpp"
#include "revocation/error.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::cli {

namespace {

// "ADDRESS:PORT" from the command line; port 0 picks a free one.
void parse_listen_option(const std::string& listen, std::string_view option, std::string& address,
                         unsigned short& port) {
  const auto split = config::split_listen(listen);
  if (!split) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} '{}' must be ADDRESS:PORT, e.g. 127.0.0.1:8080", option, listen));
  }
  address = split->address;
  port = split->port;
}

// One `revocore serve` per data directory: two would answer from the same store, resume the same
// batch jobs and, through SO_REUSEPORT, split a port between them. An exclusive flock(2) on
// <data-dir>/serve.lock, held for the life of the process (the kernel drops it when the process
// ends, even by SIGKILL, so a crash never leaves a stale lock); the file holds the PID so that
// the refusal can name the running server. CLI commands do not take it and keep working beside a
// running server.
FileDescriptor lock_data_directory(const std::filesystem::path& data_dir) {
  const std::filesystem::path file = data_dir / "serve.lock";
  FileDescriptor fd(::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    throw Error(ErrorCode::kIo,
                fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    const ssize_t n = ::pread(fd.get(), pid, sizeof pid - 1, 0);
    const std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "";
    throw Error(
        ErrorCode::kIo,
        fmt::format("another `revocore serve`{} is running on the data directory {}; "
                    "stop it first (one server per data directory)",
                    holder.empty() ? "" : fmt::format(" (PID {})", holder), data_dir.string()));
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    throw Error(ErrorCode::kIo,
                fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
  }
  return fd;
}

}  // namespace

void serve_command(const GlobalOptions& options, const std::string& listen, unsigned threads,
                   const std::string& admin_listen, std::ostream& out) {
  // Structured logs on stderr: one line per event, key=value, UTC.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("revocore"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);

  DataDirectory dir = DataDirectory::open(options);
  const FileDescriptor serve_lock = lock_data_directory(options.data_dir);
  config::OcspSettings settings = dir.config.ocsp;
  if (!listen.empty()) {
    parse_listen_option(listen, "--listen", settings.listen_address, settings.port);
  }
  if (threads != 0) {
    settings.threads = threads;
  }
  // Replication (docs/REPLICATION.md): a writer publishes its change feed from a thread of its
  // own; a replica follows the stream and answers only once it has caught up with the writer.
  std::atomic<bool> feed_stop{false};
  std::optional<replication::FeedPublisher> publisher;
  std::optional<replication::ReplicaFollower> follower;
  std::thread feed_thread;
  struct JoinFeed {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinFeed() {
      stop = true;
      if (thread.joinable()) {
        thread.join();
      }
    }
  } join_feed{feed_stop, feed_thread};
  ocsp::ReplicaResponderOptions replica_options;
  std::vector<std::string> missing_issuers;
  if (dir.config.replication) {
    publisher.emplace(dir.store, dir.config, options.clock);
    feed_thread = std::thread([&] { publisher->run(feed_stop); });
  }
  if (dir.config.replica) {
    const std::filesystem::path crl_directory = dir.config.replica->crl_directory.empty()
                                                    ? options.data_dir / "crl"
                                                    : dir.config.replica->crl_directory;
    follower.emplace(dir.store, dir.config, options.clock, crl_directory);
    feed_thread = std::thread([&] { follower->run(feed_stop); });
    spdlog::info("event=replica_catching_up stream={}", dir.config.replica->nats.stream);
    follower->wait_until_caught_up(feed_stop);
    replica_options.fresh = &follower->fresh_flag();
    replica_options.missing_issuers = &missing_issuers;
  }
  ocsp::OcspResponder responder(dir.store, dir.config, options.clock, replica_options);
  if (follower) {
    for (const auto& name : missing_issuers) {
      spdlog::error(
          "event=replica_issuer_missing issuer={} reason=\"configured in {} but the "
          "writer does not publish it; its requests get unauthorized\"",
          name, dir.config.source);
    }
    follower->set_missing_issuers(missing_issuers);
  }
  if (responder.issuer_count() == 0 && !follower) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("no issuer in {} has an OCSP or CA key, so there is nothing to "
                            "answer for; add ocsp_certificate and ocsp_private_key (or "
                            "private_key) to an [[issuer]]",
                            dir.config.source));
  }
  ocsp::ResponderMetrics metrics;
  ocsp::HttpRoutes routes(responder, metrics, dir.config, options.clock);
  if (publisher) {
    routes.set_replication_hooks({{}, [&] {
                                    const StoreTransaction txn = dir.store.read();
                                    return replication::render_metrics(
                                        publisher->counters(), publisher->position(),
                                        txn.last_journal_sequence(),
                                        txn.last_registration_sequence());
                                  }});
  }
  if (follower) {
    routes.set_replication_hooks({[&] { return follower->status().problem; },
                                  [&] { return replication::render_metrics(follower->status()); }});
    routes.serve_replicated_crls(dir.config.replica->crl_directory.empty()
                                     ? options.data_dir / "crl"
                                     : dir.config.replica->crl_directory);
  }
  ocsp::OcspServer server(routes, responder, settings);
  const unsigned short port = server.listen(settings.listen_address, settings.port);

  // The operator API, when configured: its own listener, thread and batch job runner.
  std::optional<config::AdminSettings> admin_settings = dir.config.admin;
  if (admin_settings && !admin_listen.empty()) {
    parse_listen_option(admin_listen, "--admin-listen", admin_settings->listen_address,
                        admin_settings->port);
  }
  std::optional<api::JobRunner> jobs;
  std::optional<api::ClientAuthenticator> authenticator;
  std::optional<api::AdminRoutes> admin_routes;
  std::optional<api::AdminServer> admin;
  unsigned short admin_port = 0;
  if (admin_settings) {
    jobs.emplace(dir.store, dir.config, options.clock, admin_settings->job_chunk);
    authenticator.emplace(dir.store, dir.config, options.clock);
    admin_routes.emplace(dir.store, dir.config, options.clock,
                         [&jobs](std::uint64_t id) { jobs->enqueue(id); });
    admin_routes->set_ocsp_status([&metrics] {
      boost::json::object responses;
      const auto counts = metrics.outcome_counts();
      for (std::size_t i = 0; i < counts.size(); ++i) {
        responses[ocsp::to_string(static_cast<ocsp::OcspOutcome>(i))] = counts[i];
      }
      return boost::json::value(boost::json::object{{"responses", std::move(responses)},
                                                    {"presigned", metrics.presigned_count()}});
    });
    admin.emplace(*admin_routes, *authenticator, *admin_settings);
    admin_port = admin->listen();
  }

  fmt::print(out, "revocore OCSP responder on http://{}:{}/ ({} issuer(s), {} thread(s))\n",
             settings.listen_address, port, responder.issuer_count(), settings.threads);
  if (admin) {
    fmt::print(
        out, "revocore operator API on https://{}:{}/api/v1/ (client certificates from {})\n",
        admin_settings->listen_address, admin_port, authenticator->operator_ca().subject_text());
  }
  out.flush();
  spdlog::info("event=listening address={} port={} threads={}", settings.listen_address, port,
               settings.threads);
  if (admin) {
    spdlog::info("event=admin_listening address={} port={}", admin_settings->listen_address,
                 admin_port);
    jobs->start();
    admin->start();
  }
  server.run();
  if (admin) {
    admin->stop();
    jobs->stop();
  }
}

void ocsp_presign_command(const GlobalOptions& options, const std::string& issuer,
                          std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  ocsp::OcspResponder responder(dir.store, dir.config, options.clock);
  for (const auto& configured : dir.config.issuers) {
    if (!issuer.empty() && configured.name != issuer) {
      continue;
    }
    if (configured.ocsp_certificate.empty() && !configured.crl) {
      continue;
    }
    const std::size_t signed_count = ocsp::presign_issuer(responder, configured.name);
    fmt::print(out, "{}: {} response(s) signed and stored\n", configured.name, signed_count);
  }
}

}  // namespace revocore::cli
