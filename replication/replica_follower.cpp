#include "replication/replica_follower.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "crl/atomic_file.hpp"
#include "crl/crl_file_names.hpp"
#include "replication/steady_time.hpp"
#include "replication/stream_connection.hpp"

namespace revocore::replication {

namespace {

std::uint64_t apply_certificates(WriteTransaction& txn, const FeedMessage& message) {
  std::uint64_t stored = 0;
  IssuerId known = 0;
  for (const auto& certificate : message.certificates) {
    if (certificate.key.issuer != known) {
      if (!txn.issuer(certificate.key.issuer)) {
        throw Error(ErrorCode::kReplication,
                    fmt::format("a {} message names issuer #{}, which the stream never "
                                "announced; the stream is damaged or was fed by two writers",
                                to_string(message.kind), certificate.key.issuer));
      }
      known = certificate.key.issuer;
    }
    stored += txn.apply_replicated_certificate(certificate.key, certificate.record) ? 1 : 0;
  }
  return stored;
}

}  // namespace

std::uint64_t apply_feed_message(WriteTransaction& txn, const FeedMessage& message,
                                 std::uint64_t stream_sequence, ReplicaPosition& position) {
  std::uint64_t stored = 0;
  switch (message.kind) {
    case MessageKind::kIssuers:
      for (const auto& issuer : message.issuers) {
        txn.put_replicated_issuer(issuer);
      }
      break;
    case MessageKind::kChanges:
      if (message.journal_from > position.journal ||
          message.registrations_from > position.registrations) {
        throw FeedGap(
            fmt::format("a gap in the feed: stream message {} starts after journal sequence {} "
                        "and registration {}, but this replica has applied only {} and {}; a "
                        "message is missing from the stream (waiting for the writer's next "
                        "snapshot, or start this replica on an empty data directory)",
                        stream_sequence, message.journal_from, message.registrations_from,
                        position.journal, position.registrations),
            message.journal_from, message.registrations_from);
      }
      stored = apply_certificates(txn, message);
      position.journal = std::max(position.journal, message.journal_to);
      position.registrations = std::max(position.registrations, message.registrations_to);
      break;
    case MessageKind::kSnapshotBegin:
      position.snapshot_journal = message.journal_to;
      position.snapshot_registrations = message.registrations_to;
      break;
    case MessageKind::kSnapshotPart:
      // A snapshot's states are real states of the writer; the newer of two always wins, so a
      // part applied beside newer changes cannot undo them.
      stored = apply_certificates(txn, message);
      break;
    case MessageKind::kSnapshotEnd:
      if (position.snapshot_journal == message.journal_to &&
          position.snapshot_registrations == message.registrations_to) {
        position.journal = std::max(position.journal, message.journal_to);
        position.registrations = std::max(position.registrations, message.registrations_to);
        position.snapshot_journal = 0;
        position.snapshot_registrations = 0;
      }
      break;
    case MessageKind::kCrl:
    case MessageKind::kShardList:
    case MessageKind::kHeartbeat:
      break;  // files, written by the caller after the commit
  }
  position.stream_sequence = stream_sequence;
  txn.put_replica_position(position);
  return stored;
}

std::string render_metrics(const ReplicaStatus& s) {
  std::string out;
  const auto gauge = [&](std::string_view name, std::string_view help, auto value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
  };
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
  };
  gauge("revocore_replica_lag_seconds",
        "Seconds this replica has been behind the writer: since the oldest heartbeat it has not "
        "caught up with arrived; 0 when caught up.",
        s.lag_seconds);
  gauge("revocore_replica_staleness_seconds",
        "Seconds since this replica was last known caught up (compared with "
        "max_staleness_seconds; includes the time between heartbeats).",
        s.staleness_seconds);
  gauge("revocore_replica_lag_sequences",
        "Journal and registration sequences the writer has committed and this replica has not "
        "applied.",
        s.lag_sequences);
  gauge("revocore_replica_fresh", "1 while this replica vouches for statuses, 0 (tryLater) else.",
        s.fresh ? 1 : 0);
  gauge("revocore_replica_connected", "1 while connected to a NATS server.", s.connected ? 1 : 0);
  gauge("revocore_replica_stream_sequence", "The last stream message applied.",
        s.applied.stream_sequence);
  gauge("revocore_replica_journal_sequence", "The writer's journal applied up to this sequence.",
        s.applied.journal);
  counter("revocore_replica_messages_applied_total", "Stream messages applied.",
          s.messages_applied);
  counter("revocore_replica_certificates_applied_total", "Certificate states stored.",
          s.certificates_applied);
  counter("revocore_replica_messages_refused_total",
          "Messages whose signature did not verify with [replica] verify_key; never applied.",
          s.messages_refused);
  counter("revocore_replica_heartbeats_total", "Writer heartbeats received.", s.heartbeats);
  counter("revocore_replica_crls_written_total", "CRLs written from the stream.", s.crls_written);
  return out;
}

ReplicaFollower::ReplicaFollower(Store& store, const config::Configuration& config, Clock clock,
                                 std::filesystem::path crl_directory)
    : store_(store),
      settings_(*config.replica),
      clock_(std::move(clock)),
      crl_directory_(std::move(crl_directory)),
      verifier_(FeedVerifier::load(config.replica->verify_key)) {
  status_.applied = store_.read().replica_position();
}

ReplicaStatus ReplicaFollower::status() const {
  std::lock_guard lock(mutex_);
  ReplicaStatus out = status_;
  const auto now = steady_ms();
  out.staleness_seconds =
      caught_up_at_ms_ ? static_cast<double>(now - *caught_up_at_ms_) / 1000.0 : 0;
  out.lag_seconds =
      pending_.empty() ? 0 : static_cast<double>(now - pending_.front().arrived_ms) / 1000.0;
  const std::uint64_t writer = status_.writer_journal + status_.writer_registrations;
  const std::uint64_t applied = status_.applied.journal + status_.applied.registrations;
  out.lag_sequences = writer > applied ? writer - applied : 0;
  if (out.problem.empty() && !missing_issuers_.empty()) {
    out.problem = fmt::format(
        "issuer(s) {} are configured here but the writer does not publish "
        "them; their requests are answered unauthorized",
        fmt::join(missing_issuers_, ", "));
  }
  return out;
}

void ReplicaFollower::set_missing_issuers(std::vector<std::string> names) {
  std::lock_guard lock(mutex_);
  missing_issuers_ = std::move(names);
}

bool ReplicaFollower::wait_until_caught_up(const std::atomic<bool>& stop) const {
  auto next_log = steady_ms() + 5000;
  while (!stop) {
    {
      std::lock_guard lock(mutex_);
      if (caught_up_at_ms_) {
        return true;
      }
    }
    if (steady_ms() >= next_log) {
      spdlog::info("event=replica_waiting reason=\"{}\"", status().problem);
      next_log = steady_ms() + 5000;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void ReplicaFollower::update_freshness() {
  std::lock_guard lock(mutex_);
  const auto now = steady_ms();
  // Caught up with the heartbeats we waited for: since the newest of them.
  while (!pending_.empty() && status_.applied.journal >= pending_.front().journal &&
         status_.applied.registrations >= pending_.front().registrations) {
    caught_up_at_ms_ = pending_.front().arrived_ms;
    pending_.pop_front();
  }
  const std::int64_t limit_ms = settings_.max_staleness_seconds * 1000;
  bool fresh = false;
  if (!stopped_.empty()) {
    status_.problem = stopped_;
  } else if (!caught_up_at_ms_) {
    status_.problem = last_heartbeat_ms_ == 0
                          ? "no heartbeat from the writer yet (is its publisher running, and are "
                            "the NATS servers reachable?)"
                          : fmt::format(
                                "catching up with the writer: applied journal sequence {} "
                                "of {}",
                                status_.applied.journal, status_.writer_journal);
  } else if (now - *caught_up_at_ms_ > limit_ms) {
    status_.problem = fmt::format(
        "not caught up with the writer for {:.1f} s, longer than max_staleness_seconds = {} "
        "(applied journal sequence {}, the writer's newest heartbeat says {}; last heartbeat "
        "{:.1f} s ago)",
        static_cast<double>(now - *caught_up_at_ms_) / 1000.0, settings_.max_staleness_seconds,
        status_.applied.journal, status_.writer_journal,
        static_cast<double>(now - last_heartbeat_ms_) / 1000.0);
  } else {
    status_.problem.clear();
    fresh = true;
  }
  status_.fresh = fresh;
  fresh_.store(fresh, std::memory_order_relaxed);
}

std::optional<CrlPart> ReplicaFollower::receive(std::string_view subject, std::string_view data,
                                                std::uint64_t stream_sequence, bool heartbeat) {
  const auto body = verifier_.verify(subject, data);
  if (!body) {
    std::lock_guard lock(mutex_);
    ++status_.messages_refused;
    spdlog::error(
        "event=feed_message_refused subject={} stream_sequence={} reason=\"its "
        "signature does not verify with [replica] verify_key; not applied\"",
        subject, stream_sequence);
    return std::nullopt;
  }
  FeedMessage message = decode_feed_message(*body);
  if (heartbeat) {
    if (message.kind != MessageKind::kHeartbeat) {
      throw Error(ErrorCode::kReplication,
                  fmt::format("a {} message on the heartbeat subject", to_string(message.kind)));
    }
    std::lock_guard lock(mutex_);
    const auto now = steady_ms();
    ++status_.heartbeats;
    last_heartbeat_ms_ = now;
    status_.writer_journal = message.journal_to;
    status_.writer_registrations = message.registrations_to;
    if (status_.applied.journal >= message.journal_to &&
        status_.applied.registrations >= message.registrations_to) {
      caught_up_at_ms_ = now;
      pending_.clear();
    } else if (pending_.size() < 4096) {
      // Lag is measured from the oldest heartbeat not yet reached.
      pending_.push_back({message.journal_to, message.registrations_to, now});
    }
    return std::nullopt;
  }
  if (message.kind == MessageKind::kHeartbeat) {
    throw Error(ErrorCode::kReplication, "a heartbeat message inside the stream");
  }
  ReplicaPosition position = status_.applied;  // only this thread writes it
  WriteTransaction txn = store_.write();
  const std::uint64_t stored = apply_feed_message(txn, message, stream_sequence, position);
  txn.commit();
  std::lock_guard lock(mutex_);
  status_.applied = position;
  ++status_.messages_applied;
  status_.certificates_applied += stored;
  if (message.kind == MessageKind::kCrl &&
      message.crl.offset + message.crl.bytes.size() == message.crl.total_size) {
    return std::move(message.crl);
  }
  if (message.kind == MessageKind::kShardList) {
    write_replicated_shard_list(message.crl);
  }
  return std::nullopt;
}

void ReplicaFollower::write_replicated_shard_list(const CrlPart& list) {
  const auto issuer = store_.read().issuer(list.issuer);
  boost::system::error_code ec;
  const auto document = boost::json::parse(list.bytes, ec);
  if (!issuer || ec || !document.is_object()) {
    spdlog::warn("event=replica_shard_list_refused issuer_id={} reason=\"{}\"", list.issuer,
                 issuer ? "not a JSON object" : "an issuer the writer has not published");
    return;
  }
  crl::check_writable_directory(crl_directory_);
  if (crl::write_file_if_changed(crl_directory_ / crl::shard_list_file_name(issuer->name),
                                 list.bytes)) {
    spdlog::info("event=replica_shard_list_written issuer={} bytes={}", issuer->name,
                 list.bytes.size());
  }
}

std::optional<FeedMessage> ReplicaFollower::read_verified(
    const std::optional<StreamMessage>& message) const {
  if (!message) {
    return std::nullopt;
  }
  const auto body = verifier_.verify(message->subject(), message->data());
  if (!body) {
    return std::nullopt;
  }
  return decode_feed_message(*body);
}

void ReplicaFollower::write_replicated_crl(StreamConnection& stream, const CrlPart& last,
                                           std::uint64_t last_sequence) {
  const std::uint64_t parts =
      last.total_size == 0 ? 1 : (last.total_size + kCrlBytesPerMessage - 1) / kCrlBytesPerMessage;
  const auto issuer = store_.read().issuer(last.issuer);
  if (!issuer || parts > last_sequence) {
    return;
  }
  std::string bytes;
  bytes.reserve(last.total_size);
  for (std::uint64_t i = 0; i + 1 < parts; ++i) {
    const std::uint64_t sequence = last_sequence - (parts - 1) + i;
    const auto part = read_verified(stream.message_at(sequence));
    if (!part || part->kind != MessageKind::kCrl || part->crl.issuer != last.issuer ||
        part->crl.shard != last.shard || part->crl.delta != last.delta ||
        part->crl.number != last.number || part->crl.offset != bytes.size()) {
      spdlog::warn("event=replica_crl_incomplete issuer={} shard={} number={} missing_part={}",
                   issuer->name, last.shard, last.number, i);
      return;
    }
    bytes += part->crl.bytes;
  }
  bytes += last.bytes;
  if (bytes.size() != last.total_size) {
    return;
  }
  const std::string stem = crl::crl_file_stem(
      issuer->name, last.shard, last.delta ? crl::CrlKind::kDelta : crl::CrlKind::kFull);
  crl::check_writable_directory(crl_directory_);
  crl::write_file_atomically(crl_directory_ / fmt::format("{}-{}.crl", stem, last.number), bytes);
  crl::write_file_atomically(crl_directory_ / fmt::format("{}.crl", stem), bytes);
  std::lock_guard lock(mutex_);
  ++status_.crls_written;
  spdlog::info("event=replica_crl_written issuer={} shard={} kind={} number={} bytes={}",
               issuer->name, last.shard, last.delta ? "delta" : "full", last.number, bytes.size());
}

void ReplicaFollower::reconcile_crls(StreamConnection& stream) {
  std::vector<IssuerRecord> issuers = store_.read().issuers();
  for (const auto& issuer : issuers) {
    if (const auto list =
            read_verified(stream.last_message(stream.subjects().shard_list(issuer.id)));
        list && list->kind == MessageKind::kShardList && list->crl.issuer == issuer.id) {
      write_replicated_shard_list(list->crl);
    }
    const std::uint16_t shards = std::max<std::uint16_t>(1, issuer.crl_shards);
    for (std::uint16_t shard = 0; shard < shards; ++shard) {
      for (const bool delta : {false, true}) {
        const auto last = stream.last_message(stream.subjects().crl(issuer.id, shard, delta));
        const auto read = read_verified(last);
        if (!read) {
          continue;
        }
        const FeedMessage& message = *read;
        const std::string stem = crl::crl_file_stem(
            issuer.name, shard, delta ? crl::CrlKind::kDelta : crl::CrlKind::kFull);
        std::error_code ec;
        if (message.kind == MessageKind::kCrl &&
            message.crl.offset + message.crl.bytes.size() == message.crl.total_size &&
            !std::filesystem::exists(
                crl_directory_ / fmt::format("{}-{}.crl", stem, message.crl.number), ec)) {
          write_replicated_crl(stream, message.crl, last->stream_sequence);
        }
      }
    }
  }
}

void ReplicaFollower::resync_after_gap(StreamConnection& stream, const FeedGap& gap) {
  {
    if (const auto read = read_verified(stream.last_message(stream.subjects().snapshot))) {
      const FeedMessage& end = *read;
      // A complete snapshot taken at or after the gap's start covers what is missing, unless
      // reading it again already led to this gap (the stream lost part of it).
      if (end.kind == MessageKind::kSnapshotEnd && end.journal_to >= gap.journal_from &&
          end.registrations_to >= gap.registrations_from &&
          last_resync_from_ != end.snapshot_stream_sequence) {
        resync_from_ = end.snapshot_stream_sequence;
        last_resync_from_ = end.snapshot_stream_sequence;
        spdlog::warn("event=replica_resync from_stream_sequence={} snapshot_journal={}",
                     end.snapshot_stream_sequence, end.journal_to);
        return;
      }
    }
  }
  // None does: ask the writer for a new one (it answers at most once a minute), and look again
  // when it is there.
  last_resync_from_ = 0;
  spdlog::warn("event=replica_snapshot_requested gap_journal={}", gap.journal_from);
  stream.publish_core(stream.subjects().snapshot_request,
                      fmt::format("gap before journal sequence {}", gap.journal_from));
}

void ReplicaFollower::follow(StreamConnection& stream, const std::atomic<bool>& stop) {
  std::uint64_t start = resync_from_.value_or(status_.applied.stream_sequence + 1);
  resync_from_.reset();
  const auto [first, last] = stream.stream_bounds();
  spdlog::info("event=replica_following stream={} from={} stream_first={} stream_last={}",
               stream.stream(), start, first, last);
  const std::uint64_t missed_before = StreamConnection::missed_heartbeats();
  ScopedNatsSubscription feed = stream.follow(start);
  ScopedNatsSubscription heartbeats = stream.subscribe_core(stream.subjects().heartbeat);
  {
    std::lock_guard lock(mutex_);
    status_.connected = true;
  }
  bool reconciled = false;
  const auto caught_up = [&] {
    std::lock_guard lock(mutex_);
    return caught_up_at_ms_.has_value() && pending_.empty();
  };
  while (!stop) {
    if (StreamConnection::missed_heartbeats() != missed_before) {
      throw Error(ErrorCode::kNetwork,
                  "the stream's consumer missed the server's heartbeats; following again from "
                  "the last message applied");
    }
    // Heartbeats first, so freshness is judged against the newest one.
    while (auto beat = StreamConnection::next(heartbeats.get(), 1, false)) {
      receive(beat->subject(), beat->data(), 0, true);
    }
    if (!reconciled && caught_up()) {
      reconcile_crls(stream);
      reconciled = true;
    }
    // A few messages at a time, so heartbeats and freshness are looked at between them.
    for (int i = 0; i < 16 && !stop; ++i) {
      auto message = StreamConnection::next(feed.get(), i == 0 ? 20 : 1, true);
      if (!message) {
        break;
      }
      try {
        if (auto crl =
                receive(message->subject(), message->data(), message->stream_sequence, false)) {
          write_replicated_crl(stream, *crl, message->stream_sequence);
        }
      } catch (const FeedGap& gap) {
        resync_after_gap(stream, gap);
        throw;
      }
    }
    update_freshness();
    {
      std::lock_guard lock(mutex_);
      status_.connected = stream.connected();
    }
  }
}

void ReplicaFollower::run(const std::atomic<bool>& stop) {
  std::int64_t backoff_ms = 250;
  while (!stop) {
    try {
      StreamConnection stream = StreamConnection::connect(settings_.nats, "replica", 5000);
      {
        std::lock_guard lock(mutex_);
        stopped_.clear();
      }
      follow(stream, stop);
    } catch (const Error& e) {
      {
        std::lock_guard lock(mutex_);
        status_.connected = false;
        if (e.code() == ErrorCode::kReplication && !resync_from_) {
          stopped_ = e.what();
        }
      }
      spdlog::error("event=replica_error error=\"{}\" retry_ms={}", e.what(), backoff_ms);
      update_freshness();
      const auto until = steady_ms() + backoff_ms;
      while (!stop && steady_ms() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        update_freshness();
      }
      backoff_ms = std::min<std::int64_t>(backoff_ms * 2, 2000);
    } catch (const std::exception& e) {
      spdlog::error("event=replica_error error=\"{}\"", e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

}  // namespace revocore::replication
