#include "replication/feed_publisher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "crl/crl_file_names.hpp"
#include "replication/steady_time.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::replication {

namespace {

// A message read back from the stream, when it verifies with the writer's own key. One that
// does not (forged by someone who may publish on the subject) is ignored: the store's own record
// of what was acknowledged is then where publishing resumes, and the duplicates that may cause
// change nothing on a replica.
std::optional<FeedMessage> read_back(const FeedVerifier& verifier,
                                     const std::optional<StreamMessage>& message) {
  if (!message) {
    return std::nullopt;
  }
  const auto body = verifier.verify(message->subject(), message->data());
  if (!body) {
    spdlog::warn(
        "event=feed_message_not_ours subject={} stream_sequence={} reason=\"not signed "
        "with [replication] signing_key; ignored when resuming\"",
        message->subject(), message->stream_sequence);
    return std::nullopt;
  }
  return decode_feed_message(*body);
}

}  // namespace

std::string render_metrics(const PublisherCounters& counters, const FeedPosition& acknowledged,
                           std::uint64_t last_journal, std::uint64_t last_registration) {
  std::string out;
  const auto line = [&](std::string_view type, std::string_view name, std::string_view help,
                        std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
  };
  line("counter", "revocore_feed_messages_total", "Messages published to the stream.",
       counters.messages.load());
  line("counter", "revocore_feed_certificates_total",
       "Certificate states published (changes and snapshots).", counters.certificates.load());
  line("counter", "revocore_feed_snapshots_total", "Snapshots published.",
       counters.snapshots.load());
  line("counter", "revocore_feed_errors_total", "Publishing failures (each retried).",
       counters.errors.load());
  line("gauge", "revocore_feed_acknowledged_journal_sequence",
       "The journal acknowledged by the stream up to this sequence.", acknowledged.journal);
  const std::uint64_t committed = last_journal + last_registration;
  const std::uint64_t published = acknowledged.journal + acknowledged.registrations;
  line("gauge", "revocore_feed_unpublished_sequences",
       "Committed journal and registration sequences not yet acknowledged by the stream.",
       committed > published ? committed - published : 0);
  return out;
}

FeedPublisher::FeedPublisher(Store& store, const config::Configuration& config, Clock clock)
    : store_(store),
      config_(config),
      settings_(*config.replication),
      clock_(std::move(clock)),
      signer_(FeedSigner::load(config.replication->signing_key)),
      verifier_(signer_.verifier()) {
  position_ = store_.read().feed_position();
  recorded_ = position_;
}

FeedPosition FeedPublisher::position() const {
  std::lock_guard lock(mutex_);
  return position_;
}

void FeedPublisher::resume(StreamConnection& stream) {
  const StoreTransaction txn = store_.read();
  FeedPosition position = txn.feed_position();
  if (auto last = read_back(verifier_, stream.last_message(stream.subjects().changes))) {
    if (last->journal_to > txn.last_journal_sequence() ||
        last->registrations_to > txn.last_registration_sequence()) {
      throw Error(ErrorCode::kReplication,
                  fmt::format("stream {} already holds changes up to journal sequence {}, but "
                              "this store's journal ends at {}: it was fed from another data "
                              "directory; give this writer a new 'stream', or delete the old one",
                              stream.stream(), last->journal_to, txn.last_journal_sequence()));
    }
    position.journal = std::max(position.journal, last->journal_to);
    position.registrations = std::max(position.registrations, last->registrations_to);
  }
  if (auto last = stream.last_message(stream.subjects().snapshot)) {
    const std::uint64_t sequence = last->stream_sequence;
    const auto message = read_back(verifier_, last);
    // Only a complete snapshot counts; one cut short by a crash is replaced by a new one.
    if (message && message->kind == MessageKind::kSnapshotEnd &&
        message->journal_to >= position.snapshot_journal && sequence != 0) {
      position.snapshot_journal = message->journal_to;
      position.snapshot_registrations = message->registrations_to;
      position.snapshot_stream_sequence = message->snapshot_stream_sequence;
      position.journal = std::max(position.journal, message->journal_to);
      position.registrations = std::max(position.registrations, message->registrations_to);
    }
  } else {
    // The stream has no snapshot (new, or its data lost): everything goes out again.
    position = FeedPosition{};
  }
  {
    std::lock_guard lock(mutex_);
    position_ = position;
  }
  counters_.acknowledged_journal = position.journal;
  spdlog::info("event=feed_resumed stream={} journal={} registrations={} issuers={}",
               stream.stream(), position.journal, position.registrations, position.issuers);
}

std::uint64_t FeedPublisher::publish_signed(StreamConnection& stream, const std::string& subject,
                                            const FeedMessage& message, const std::string& id) {
  buffer_.clear();
  encode_feed_message(message, buffer_);
  signer_.sign(subject, buffer_);
  const std::uint64_t sequence = stream.publish(subject, buffer_, id);
  ++counters_.messages;
  return sequence;
}

void FeedPublisher::publish_issuers(StreamConnection& stream) {
  const StoreTransaction txn = store_.read();
  // Issuer ids are handed out in order: one lookup tells whether any is new (this runs every
  // pass of the publisher, and issuer records carry their certificates).
  if (!txn.issuer(position_.issuers + 1)) {
    return;
  }
  FeedMessage message;
  message.kind = MessageKind::kIssuers;
  for (auto& issuer : txn.issuers()) {
    if (issuer.id > position_.issuers) {
      message.issuers.push_back(std::move(issuer));
    }
  }
  if (message.issuers.empty()) {
    return;
  }
  message.time = clock_();
  const IssuerId last = message.issuers.back().id;
  publish_signed(stream, stream.subjects().issuers, message,
                 fmt::format("issuers-{}-{}", message.issuers.front().id, last));
  stream.wait_published();
  std::lock_guard lock(mutex_);
  position_.issuers = last;
}

void FeedPublisher::publish_snapshot(StreamConnection& stream) {
  const auto started = steady_ms();
  // One read transaction: the snapshot is the store as of one commit.
  const StoreTransaction txn = store_.read();
  FeedMessage message;
  message.time = clock_();
  message.journal_to = txn.last_journal_sequence();
  message.registrations_to = txn.last_registration_sequence();
  // Where it starts is part of its id: a snapshot taken again at the same journal sequence (after
  // a crash in the middle of one, or on request) is a new one, not a duplicate to drop.
  const std::string id = fmt::format("snapshot-{}-{}-at-{}", message.journal_to,
                                     message.registrations_to, stream.next_sequence());
  message.kind = MessageKind::kSnapshotBegin;
  message.snapshot_certificates = txn.count_certificates();
  const std::uint64_t begin =
      publish_signed(stream, stream.subjects().snapshot, message, id + "-begin");
  // Every issuer, inside the snapshot: everything before it is purged below, and a replica
  // moved to its start by that purge still learns every issuer.
  {
    FeedMessage issuers;
    issuers.kind = MessageKind::kIssuers;
    issuers.time = message.time;
    issuers.issuers = txn.issuers();
    if (!issuers.issuers.empty()) {
      publish_signed(stream, stream.subjects().issuers, issuers, id + "-issuers");
    }
  }
  message.kind = MessageKind::kSnapshotPart;
  message.certificates.reserve(kCertificatesPerMessage);
  std::uint64_t part = 0;
  std::uint64_t certificates = 0;
  const auto flush = [&] {
    publish_signed(stream, stream.subjects().snapshot, message, fmt::format("{}-{}", id, part++));
    certificates += message.certificates.size();
    message.certificates.clear();
  };
  txn.for_each_certificate({}, [&](std::string_view key, const CertificateRecord& record) {
    message.certificates.push_back(replicated_certificate(CertificateKey::decode(key), record));
    if (message.certificates.size() == kCertificatesPerMessage) {
      flush();
    }
    return true;
  });
  if (!message.certificates.empty()) {
    flush();
  }
  // The newest CRLs and shard lists as of the same commit, inside it too.
  publish_crls(stream, crl_states(txn), /*again=*/true);
  message.kind = MessageKind::kSnapshotEnd;
  message.snapshot_stream_sequence = begin;
  publish_signed(stream, stream.subjects().snapshot, message, id + "-end");
  stream.wait_published();
  {
    std::lock_guard lock(mutex_);
    position_.journal = std::max(position_.journal, message.journal_to);
    position_.registrations = std::max(position_.registrations, message.registrations_to);
    position_.snapshot_journal = message.journal_to;
    position_.snapshot_registrations = message.registrations_to;
    position_.snapshot_stream_sequence = begin;
  }
  record_position(/*force=*/true);
  // What the snapshot replaces: everything before it. One purge of the whole stream, never one
  // by subject: nats-server 2.9 moves a consumer that is behind to the first remaining message
  // of the purged subject, skipping other subjects' messages between (a replica lagging behind
  // would lose changes); moved to the snapshot's start, it misses nothing, the snapshot holding
  // the issuers, every certificate and the newest CRLs.
  stream.purge({}, begin);
  snapshot_bytes_ = stream.stored_bytes();
  ++counters_.snapshots;
  counters_.certificates += certificates;
  spdlog::info(
      "event=snapshot_published stream={} certificates={} parts={} journal={} "
      "stream_sequence={} seconds={:.3f}",
      stream.stream(), certificates, part, message.journal_to, begin,
      static_cast<double>(steady_ms() - started) / 1000.0);
}

bool FeedPublisher::publish_changes(StreamConnection& stream, FeedPosition& sent) {
  const StoreTransaction txn = store_.read();
  FeedMessage& message = changes_;
  message.kind = MessageKind::kChanges;
  message.certificates.clear();
  message.journal_from = sent.journal;
  message.registrations_from = sent.registrations;
  message.journal_to = sent.journal;
  message.registrations_to = sent.registrations;
  // Status changes in journal order. An entry whose certificate has changed again since is
  // covered by the later entry, which carries the newer state.
  constexpr std::uint64_t kMaxScanned = 8 * kCertificatesPerMessage;
  std::uint64_t scanned = 0;
  CertificateStatusView record;
  txn.for_each_journal_entry(
      sent.journal + 1, txn.last_journal_sequence(), [&](const JournalEntry& entry) {
        if (message.certificates.size() == kCertificatesPerMessage || scanned == kMaxScanned) {
          return false;
        }
        ++scanned;
        if (txn.certificate_status(entry.certificate, record) &&
            record.status_sequence == entry.sequence) {
          message.certificates.push_back(replicated_certificate(entry.certificate, record));
        }
        message.journal_to = entry.sequence;
        return true;
      });
  txn.for_each_registration(
      sent.registrations + 1, txn.last_registration_sequence(),
      [&](std::uint64_t sequence, const CertificateKey& key) {
        if (message.certificates.size() == kCertificatesPerMessage || scanned == kMaxScanned) {
          return false;
        }
        ++scanned;
        if (!txn.certificate_status(key, record)) {
          message.registrations_to = sequence;
          return true;
        }
        // One whose newest status change this message already carries is not sent twice.
        const bool carried = record.status_sequence > message.journal_from &&
                             record.status_sequence <= message.journal_to;
        if (!carried) {
          message.certificates.push_back(replicated_certificate(key, record));
        }
        message.registrations_to = sequence;
        return true;
      });
  if (message.journal_to == message.journal_from &&
      message.registrations_to == message.registrations_from) {
    return false;
  }
  message.time = clock_();
  publish_signed(stream, stream.subjects().changes, message,
                 fmt::format("changes-{}-{}-{}-{}", message.journal_from, message.journal_to,
                             message.registrations_from, message.registrations_to));
  counters_.certificates += message.certificates.size();
  sent.journal = message.journal_to;
  sent.registrations = message.registrations_to;
  return true;
}

void FeedPublisher::record_position(bool force) {
  const FeedPosition position = this->position();
  const auto now = steady_ms();
  if (!force && now - last_record_ms_ < 250) {
    return;
  }
  if (position.journal == recorded_.journal && position.registrations == recorded_.registrations &&
      position.issuers == recorded_.issuers &&
      position.snapshot_stream_sequence == recorded_.snapshot_stream_sequence) {
    return;
  }
  // A small transaction of its own; the data it describes is already committed and published.
  WriteTransaction txn = store_.write();
  txn.put_feed_position(position);
  txn.commit();
  recorded_ = position;
  last_record_ms_ = now;
}

void FeedPublisher::check_stream_holds_snapshot(StreamConnection& stream) {
  const FeedPosition position = this->position();
  if (position.snapshot_stream_sequence == 0) {
    return;
  }
  // Its first message, read back: one request every few seconds.
  const auto begin = stream.message_at(position.snapshot_stream_sequence);
  const auto body = begin ? verifier_.verify(begin->subject(), begin->data()) : std::nullopt;
  if (body && decode_feed_message(*body).kind == MessageKind::kSnapshotBegin) {
    return;
  }
  spdlog::warn(
      "event=stream_lost_snapshot stream={} snapshot_stream_sequence={} "
      "action=\"publishing the issuers and a new snapshot\"",
      stream.stream(), position.snapshot_stream_sequence);
  std::lock_guard lock(mutex_);
  position_.issuers = 0;
  position_.snapshot_stream_sequence = 0;
}

void FeedPublisher::check_stream_size(StreamConnection& stream) {
  const std::uint64_t bytes = stream.stored_bytes();
  if (snapshot_bytes_ == 0) {
    snapshot_bytes_ = bytes;  // after a restart: measured from here
    return;
  }
  if (bytes > 2 * snapshot_bytes_ + kStreamSlackBytes && !snapshot_requested_) {
    snapshot_requested_ = true;
    spdlog::info("event=snapshot_for_size stream={} bytes={} after_last_snapshot={}",
                 stream.stream(), bytes, snapshot_bytes_);
  }
}

void FeedPublisher::publish_crl_file(StreamConnection& stream, const config::IssuerConfig& issuer,
                                     IssuerId id, std::uint16_t shard, bool delta,
                                     std::uint64_t number, bool again) {
  auto& published = published_crls_[{id, shard, delta}];
  if (number == 0 || (!again && published >= number)) {
    return;
  }
  // The numbered copy: it never changes, while <stem>.crl may already be a newer one.
  const auto kind = delta ? crl::CrlKind::kDelta : crl::CrlKind::kFull;
  const std::filesystem::path file =
      issuer.crl->publish_directory /
      fmt::format("{}-{}.crl", crl::crl_file_stem(issuer.name, shard, kind), number);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return;  // not written yet, or removed: the next one will be published
  }
  constexpr std::size_t kMaxCrlBytes = std::size_t{1} << 30;
  const std::string bytes =
      read_regular_file(file, kMaxCrlBytes, ErrorCode::kIo, "a published CRL").bytes;
  const std::string subject = stream.subjects().crl(id, shard, delta);
  FeedMessage message;
  message.kind = MessageKind::kCrl;
  message.crl.issuer = id;
  message.crl.shard = shard;
  message.crl.delta = delta;
  message.crl.number = number;
  message.crl.total_size = bytes.size();
  // As for snapshots: the same CRL published again (after a restart) is stored again.
  const std::uint64_t first = stream.next_sequence();
  for (std::size_t offset = 0; offset < bytes.size() || offset == 0;
       offset += kCrlBytesPerMessage) {
    message.time = clock_();
    message.crl.offset = offset;
    message.crl.bytes = bytes.substr(offset, kCrlBytesPerMessage);
    publish_signed(stream, subject, message,
                   fmt::format("crl-{}-{}-{}-{}-{}-at-{}", id, shard, delta ? "delta" : "full",
                               number, offset, first));
    if (bytes.empty()) {
      break;
    }
  }
  stream.wait_published();
  published = number;
  spdlog::info("event=crl_published_to_stream issuer={} shard={} kind={} number={} bytes={}",
               issuer.name, shard, delta ? "delta" : "full", number, bytes.size());
}

void FeedPublisher::publish_shard_list(StreamConnection& stream, const config::IssuerConfig& issuer,
                                       IssuerId id, bool again) {
  const std::filesystem::path file =
      issuer.crl->publish_directory / crl::shard_list_file_name(issuer.name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return;  // written with the first full CRL
  }
  std::string bytes;
  try {
    bytes = read_regular_file(file, kShardListBytes, ErrorCode::kIo, "the shard list").bytes;
  } catch (const Error& e) {
    spdlog::warn("event=shard_list_not_published issuer={} error=\"{}\"", issuer.name, e.what());
    return;
  }
  auto& published = published_shard_lists_[id];
  if (!again && bytes == published) {
    return;
  }
  FeedMessage message;
  message.kind = MessageKind::kShardList;
  message.time = clock_();
  message.crl.issuer = id;
  message.crl.bytes = bytes;
  publish_signed(stream, stream.subjects().shard_list(id), message,
                 fmt::format("shards-{}-at-{}", id, stream.next_sequence()));
  stream.wait_published();
  published = std::move(bytes);
}

std::vector<FeedPublisher::PublishedCrlState> FeedPublisher::crl_states(
    const StoreTransaction& txn) const {
  std::vector<PublishedCrlState> out;
  for (const auto& issuer : config_.issuers) {
    if (!issuer.crl) {
      continue;
    }
    const auto record = txn.issuer_by_name(issuer.name);
    if (!record) {
      continue;
    }
    const std::uint16_t shards = std::max<std::uint16_t>(1, record->crl_shards);
    for (std::uint16_t shard = 0; shard < shards; ++shard) {
      out.push_back({&issuer, record->id, shard, txn.crl_state(record->id, shard)});
    }
  }
  return out;
}

void FeedPublisher::publish_crls(StreamConnection& stream,
                                 const std::vector<PublishedCrlState>& crls, bool again) {
  for (const auto& crl : crls) {
    publish_crl_file(stream, *crl.issuer, crl.id, crl.shard, false, crl.state.base_number, again);
    publish_crl_file(stream, *crl.issuer, crl.id, crl.shard, true, crl.state.delta_number, again);
  }
  // After the CRLs it lists.
  for (const auto& crl : crls) {
    if (crl.shard == 0) {
      publish_shard_list(stream, *crl.issuer, crl.id, again);
    }
  }
}

std::size_t FeedPublisher::publish_pending(StreamConnection& stream) {
  const std::uint64_t before = counters_.messages;
  publish_issuers(stream);
  const FeedPosition position = this->position();
  const std::uint64_t since_snapshot = (position.journal - position.snapshot_journal) +
                                       (position.registrations - position.snapshot_registrations);
  if (position.snapshot_stream_sequence == 0 || snapshot_requested_ ||
      (settings_.snapshot_after_changes != 0 &&
       since_snapshot >= settings_.snapshot_after_changes)) {
    snapshot_requested_ = false;
    last_snapshot_ms_ = steady_ms();
    publish_snapshot(stream);
  }
  // Up to a window of messages in flight, then their acknowledgements: the position advances
  // only over what the stream acknowledged.
  FeedPosition sent = this->position();
  for (;;) {
    int in_flight = 0;
    while (in_flight < kChangesInFlight && publish_changes(stream, sent)) {
      ++in_flight;
    }
    if (in_flight == 0) {
      break;
    }
    stream.wait_published();
    {
      std::lock_guard lock(mutex_);
      position_.journal = sent.journal;
      position_.registrations = sent.registrations;
    }
    counters_.acknowledged_journal = sent.journal;
    record_position(/*force=*/false);
    // Under a sustained load there is always more: the snapshot due comes first (the caller
    // runs this again), so the stream stays bounded while changes keep coming.
    if (settings_.snapshot_after_changes != 0 &&
        (sent.journal - sent.snapshot_journal) +
                (sent.registrations - sent.snapshot_registrations) >=
            settings_.snapshot_after_changes) {
      break;
    }
  }
  record_position(/*force=*/true);
  // After the changes: a CRL never reaches a replica before the statuses it lists.
  if (steady_ms() - last_crl_check_ms_ >= 250) {
    last_crl_check_ms_ = steady_ms();
    publish_crls(stream, crl_states(store_.read()), /*again=*/false);
  }
  return counters_.messages - before;
}

void FeedPublisher::publish_heartbeat(StreamConnection& stream) {
  FeedMessage message;
  message.kind = MessageKind::kHeartbeat;
  message.time = clock_();
  {
    const StoreTransaction txn = store_.read();
    message.journal_to = txn.last_journal_sequence();
    message.registrations_to = txn.last_registration_sequence();
  }
  std::string body;
  encode_feed_message(message, body);
  signer_.sign(stream.subjects().heartbeat, body);
  stream.publish_core(stream.subjects().heartbeat, body);
}

void FeedPublisher::run(const std::atomic<bool>& stop) {
  std::int64_t backoff_ms = 250;
  while (!stop) {
    try {
      StreamConnection stream = StreamConnection::connect(settings_.nats, "writer", 5000);
      stream.ensure_stream(settings_.stream_replicas);
      resume(stream);
      ScopedNatsSubscription requests = stream.subscribe_core(stream.subjects().snapshot_request);
      backoff_ms = 250;
      // Heartbeats on a thread of their own, so that a long snapshot does not hold them back.
      std::atomic<bool> beating{true};
      std::thread heartbeat([&] {
        while (beating && !stop) {
          try {
            publish_heartbeat(stream);
          } catch (const std::exception& e) {
            spdlog::warn("event=heartbeat_error error=\"{}\"", e.what());
          }
          for (std::int64_t waited = 0; waited < settings_.heartbeat_milliseconds && beating;
               waited += 10) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
        }
      });
      struct StopHeartbeat {
        std::atomic<bool>& beating;
        std::thread& thread;
        ~StopHeartbeat() {
          beating = false;
          thread.join();
        }
      } stop_heartbeat{beating, heartbeat};
      std::int64_t next_stream_check = 0;
      while (!stop) {
        if (steady_ms() >= next_stream_check) {
          check_stream_holds_snapshot(stream);
          check_stream_size(stream);
          next_stream_check = steady_ms() + 5000;
        }
        while (auto request = StreamConnection::next(requests.get(), 1, false)) {
          // Anyone allowed to publish there can ask; the answer is only ever a snapshot, and
          // not more often than once a minute.
          if (steady_ms() - last_snapshot_ms_ >= 60'000) {
            snapshot_requested_ = true;
            spdlog::warn("event=snapshot_requested reason=\"{}\"",
                         std::string(request->data().substr(0, 200)));
          }
        }
        if (publish_pending(stream) == 0) {
          // A commit is seen within this long; LMDB has no change notification to wait on.
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    } catch (const std::exception& e) {
      ++counters_.errors;
      spdlog::error("event=feed_error error=\"{}\" retry_ms={}", e.what(), backoff_ms);
      for (std::int64_t waited = 0; waited < backoff_ms && !stop; waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff_ms = std::min<std::int64_t>(backoff_ms * 2, 2000);
    }
  }
}

}  // namespace revocore::replication
