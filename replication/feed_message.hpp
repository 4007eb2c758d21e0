#pragma once
// The change feed's messages (docs/REPLICATION.md): what the writer publishes to the JetStream
// stream and a replica applies. Binary, big-endian, versioned: a replica refuses a schema version
// it does not know rather than guessing. Each message is signed (feed_signature.hpp).
//
// Certificates travel as their store records without the credential id and subject: a responder
// in the DMZ needs status, dates, sequence and CRL shard, not who holds the certificate.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore::replication {

inline constexpr std::uint8_t kSchemaVersion = 1;
// Certificates per changes or snapshot message: one signature (about 0.2 ms to verify with
// OpenSSL's Ed25519 here) per up to this many, about 120 KiB, under NATS's default 1 MiB limit.
inline constexpr std::size_t kCertificatesPerMessage = 2000;
// Bytes of a CRL per message.
inline constexpr std::size_t kCrlBytesPerMessage = 512 * 1024;

enum class MessageKind : std::uint8_t {
  kIssuers = 1,        // issuer records, under the writer's ids
  kChanges = 2,        // registrations and status changes since the previous changes message
  kSnapshotBegin = 3,  // a complete copy of the certificates follows
  kSnapshotPart = 4,
  kSnapshotEnd = 5,
  kCrl = 6,        // a part of a published CRL file
  kHeartbeat = 7,  // the writer's latest committed sequences (core NATS, not in the stream)
  kShardList = 8,  // an issuer's list of CRL shards: crl.issuer, and crl.bytes its shards.json
};
std::string_view to_string(MessageKind kind) noexcept;

struct ReplicatedCertificate {
  CertificateKey key;
  CertificateRecord record;
};

// Bytes of a shard list (its JSON document; about 200 per shard).
inline constexpr std::size_t kShardListBytes = 512 * 1024;

// A published CRL file, cut into parts: the replica assembles them in order and publishes the
// file when the last one arrives.
struct CrlPart {
  IssuerId issuer = 0;
  std::uint16_t shard = 0;
  bool delta = false;
  std::uint64_t number = 0;  // cRLNumber
  std::uint64_t total_size = 0;
  std::uint64_t offset = 0;
  std::string bytes;
};

struct FeedMessage {
  MessageKind kind = MessageKind::kHeartbeat;
  UnixTime time = 0;  // the writer's clock when it was published
  // kChanges: the journal and registrations the message covers, (from, to]. A replica that has
  // applied less than `from` has missed a message: a gap. kSnapshot*: `to` is what the snapshot
  // was taken at. kHeartbeat: `to` is the writer's latest committed sequence.
  std::uint64_t journal_from = 0;
  std::uint64_t journal_to = 0;
  std::uint64_t registrations_from = 0;
  std::uint64_t registrations_to = 0;
  std::uint64_t snapshot_certificates = 0;     // kSnapshotBegin: how many parts will carry
  std::uint64_t snapshot_stream_sequence = 0;  // kSnapshotEnd: where its begin is in the stream
  std::vector<IssuerRecord> issuers;
  std::vector<ReplicatedCertificate> certificates;
  CrlPart crl;
};

// Appends the message's encoding to `out` (unsigned).
void encode_feed_message(const FeedMessage& message, std::string& out);
// Throws kReplication naming what is wrong: an unknown schema version or kind, a truncated
// message, a record that does not decode.
FeedMessage decode_feed_message(std::string_view body);

// A certificate as it is replicated: the record without the holder's identity.
ReplicatedCertificate replicated_certificate(const CertificateKey& key,
                                             const CertificateRecord& record);
// The same from the record's fixed part, read without decoding its strings (the publisher's
// changes: no allocation per certificate).
ReplicatedCertificate replicated_certificate(const CertificateKey& key,
                                             const CertificateStatusView& status);

}  // namespace revocore::replication
