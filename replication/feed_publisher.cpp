#include "replication/feed_publisher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_set>

namespace revocore::replication {

namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

FeedPublisher::FeedPublisher(Store& store, const config::Configuration& config, Clock clock)
    : store_(store),
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
  FeedMessage message;
  message.kind = MessageKind::kIssuers;
  for (auto& issuer : store_.read().issuers()) {
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
  const std::string id =
      fmt::format("snapshot-{}-{}", message.journal_to, message.registrations_to);
  message.kind = MessageKind::kSnapshotBegin;
  message.snapshot_certificates = txn.count_certificates();
  const std::uint64_t begin =
      publish_signed(stream, stream.subjects().snapshot, message, id + "-begin");
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
  message.kind = MessageKind::kSnapshotEnd;
  message.snapshot_stream_sequence = begin;
  publish_signed(stream, stream.subjects().snapshot, message, id + "-end");
  {
    std::lock_guard lock(mutex_);
    position_.journal = std::max(position_.journal, message.journal_to);
    position_.registrations = std::max(position_.registrations, message.registrations_to);
    position_.snapshot_journal = message.journal_to;
    position_.snapshot_registrations = message.registrations_to;
    position_.snapshot_stream_sequence = begin;
  }
  record_position(/*force=*/true);
  // What the snapshot replaces: a replica reading from the start now begins with it.
  stream.purge(stream.subjects().changes, begin);
  stream.purge(stream.subjects().snapshot, begin);
  ++counters_.snapshots;
  counters_.certificates += certificates;
  spdlog::info(
      "event=snapshot_published stream={} certificates={} parts={} journal={} "
      "stream_sequence={} seconds={:.3f}",
      stream.stream(), certificates, part, message.journal_to, begin,
      static_cast<double>(steady_ms() - started) / 1000.0);
}

bool FeedPublisher::publish_changes(StreamConnection& stream) {
  const StoreTransaction txn = store_.read();
  FeedMessage message;
  message.kind = MessageKind::kChanges;
  message.journal_from = position_.journal;
  message.registrations_from = position_.registrations;
  message.journal_to = position_.journal;
  message.registrations_to = position_.registrations;
  std::unordered_set<std::string> included;
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  const auto add = [&](const CertificateKey& key, const CertificateRecord& record) {
    if (included.emplace(key.encode(buffer)).second) {
      message.certificates.push_back(replicated_certificate(key, record));
    }
  };
  // Status changes in journal order. An entry whose certificate has changed again since is
  // covered by the later entry, which carries the newer state.
  constexpr std::uint64_t kMaxScanned = 8 * kCertificatesPerMessage;
  std::uint64_t scanned = 0;
  txn.for_each_journal_entry(
      position_.journal + 1, txn.last_journal_sequence(), [&](const JournalEntry& entry) {
        if (message.certificates.size() == kCertificatesPerMessage || scanned == kMaxScanned) {
          return false;
        }
        ++scanned;
        const auto record = txn.certificate(entry.certificate);
        if (record && record->status_sequence == entry.sequence) {
          add(entry.certificate, *record);
        }
        message.journal_to = entry.sequence;
        return true;
      });
  txn.for_each_registration(
      position_.registrations + 1, txn.last_registration_sequence(),
      [&](std::uint64_t sequence, const CertificateKey& key) {
        if (message.certificates.size() == kCertificatesPerMessage || scanned == kMaxScanned) {
          return false;
        }
        ++scanned;
        if (const auto record = txn.certificate(key)) {
          add(key, *record);
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
  {
    std::lock_guard lock(mutex_);
    position_.journal = message.journal_to;
    position_.registrations = message.registrations_to;
  }
  counters_.acknowledged_journal = message.journal_to;
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
  const auto [first, last] = stream.stream_bounds();
  if (first <= position.snapshot_stream_sequence && position.snapshot_stream_sequence <= last) {
    return;
  }
  spdlog::warn(
      "event=stream_lost_snapshot stream={} snapshot_stream_sequence={} stream_first={} "
      "stream_last={} action=\"publishing the issuers and a new snapshot\"",
      stream.stream(), position.snapshot_stream_sequence, first, last);
  std::lock_guard lock(mutex_);
  position_.issuers = 0;
  position_.snapshot_stream_sequence = 0;
}

std::size_t FeedPublisher::publish_pending(StreamConnection& stream) {
  const std::uint64_t before = counters_.messages;
  publish_issuers(stream);
  const FeedPosition position = this->position();
  const std::uint64_t since_snapshot = (position.journal - position.snapshot_journal) +
                                       (position.registrations - position.snapshot_registrations);
  if (position.snapshot_stream_sequence == 0 ||
      (settings_.snapshot_after_changes != 0 &&
       since_snapshot >= settings_.snapshot_after_changes)) {
    publish_snapshot(stream);
  }
  while (publish_changes(stream)) {
    record_position(/*force=*/false);
  }
  record_position(/*force=*/true);
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
      std::int64_t next_heartbeat = 0;
      std::int64_t next_stream_check = 0;
      while (!stop) {
        if (steady_ms() >= next_stream_check) {
          check_stream_holds_snapshot(stream);
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
        const std::size_t published = publish_pending(stream);
        const auto now = steady_ms();
        if (now >= next_heartbeat) {
          publish_heartbeat(stream);
          next_heartbeat = now + settings_.heartbeat_milliseconds;
        }
        if (published == 0) {
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
