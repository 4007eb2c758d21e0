#include "replication/feed_message.hpp"

#include <fmt/format.h>

#include "revocation/codec.hpp"

namespace revocore::replication {

namespace {

using codec::ByteReader;
using codec::ByteWriter;

void write_long(ByteWriter& w, std::string_view bytes) {
  w.u32(static_cast<std::uint32_t>(bytes.size()));
  w.bytes(bytes);
}

std::string_view read_long(ByteReader& in) {
  return in.bytes(in.u32());
}

void write_certificates(std::string& out, const std::vector<ReplicatedCertificate>& certificates) {
  ByteWriter w(out);
  w.u32(static_cast<std::uint32_t>(certificates.size()));
  std::array<char, CertificateKey::kMaxEncodedSize> buffer;
  for (const auto& certificate : certificates) {
    w.str(certificate.key.encode(buffer));
    // The record straight into the message, its 16-bit length written after (no string each).
    const std::size_t at = out.size();
    w.u16(0);
    certificate.record.encode_to(out);
    const std::size_t length = out.size() - at - 2;
    if (length > 0xFFFF) {
      throw Error(ErrorCode::kInvalidArgument, "a certificate record longer than 65535 bytes");
    }
    out[at] = static_cast<char>(length >> 8);
    out[at + 1] = static_cast<char>(length & 0xFF);
  }
}

std::vector<ReplicatedCertificate> read_certificates(ByteReader& in) {
  const std::uint32_t count = in.u32();
  if (count > kCertificatesPerMessage) {
    in.fail(fmt::format("{} certificates in one message, more than {}", count,
                        kCertificatesPerMessage));
  }
  std::vector<ReplicatedCertificate> out;
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string_view key = in.str();
    const std::string_view record = in.str();
    if (key.size() <= 4) {
      in.fail("a certificate key without a serial");
    }
    out.push_back(
        ReplicatedCertificate{CertificateKey::decode(key), CertificateRecord::decode(record)});
  }
  return out;
}

}  // namespace

std::string_view to_string(MessageKind kind) noexcept {
  switch (kind) {
    case MessageKind::kIssuers:
      return "issuers";
    case MessageKind::kChanges:
      return "changes";
    case MessageKind::kSnapshotBegin:
      return "snapshot-begin";
    case MessageKind::kSnapshotPart:
      return "snapshot-part";
    case MessageKind::kSnapshotEnd:
      return "snapshot-end";
    case MessageKind::kCrl:
      return "crl";
    case MessageKind::kHeartbeat:
      return "heartbeat";
    case MessageKind::kShardList:
      return "shard-list";
  }
  return "unknown";
}

ReplicatedCertificate replicated_certificate(const CertificateKey& key,
                                             const CertificateRecord& record) {
  ReplicatedCertificate out{key, record};
  out.record.credential_id.clear();
  out.record.subject.clear();
  return out;
}

ReplicatedCertificate replicated_certificate(const CertificateKey& key,
                                             const CertificateStatusView& status) {
  ReplicatedCertificate out;
  out.key = key;
  out.record.status = status.status;
  out.record.reason = status.reason;
  out.record.revocation_time = status.revocation_time;
  out.record.invalidity_date = status.invalidity_date;
  out.record.not_after = status.not_after;
  out.record.status_sequence = status.status_sequence;
  out.record.crl_shard = status.crl_shard;
  return out;
}

void encode_feed_message(const FeedMessage& m, std::string& out) {
  ByteWriter w(out);
  w.u8(kSchemaVersion);
  w.u8(static_cast<std::uint8_t>(m.kind));
  w.i64(m.time);
  w.u64(m.journal_from);
  w.u64(m.journal_to);
  w.u64(m.registrations_from);
  w.u64(m.registrations_to);
  switch (m.kind) {
    case MessageKind::kIssuers:
      w.u32(static_cast<std::uint32_t>(m.issuers.size()));
      for (const auto& issuer : m.issuers) {
        w.u32(issuer.id);
        write_long(w, issuer.encode());
      }
      break;
    case MessageKind::kChanges:
    case MessageKind::kSnapshotPart:
      write_certificates(out, m.certificates);
      break;
    case MessageKind::kSnapshotBegin:
      w.u64(m.snapshot_certificates);
      break;
    case MessageKind::kSnapshotEnd:
      w.u64(m.snapshot_stream_sequence);
      break;
    case MessageKind::kCrl:
      w.u32(m.crl.issuer);
      w.u16(m.crl.shard);
      w.u8(m.crl.delta ? 1 : 0);
      w.u64(m.crl.number);
      w.u64(m.crl.total_size);
      w.u64(m.crl.offset);
      write_long(w, m.crl.bytes);
      break;
    case MessageKind::kShardList:
      w.u32(m.crl.issuer);
      write_long(w, m.crl.bytes);
      break;
    case MessageKind::kHeartbeat:
      break;
  }
}

FeedMessage decode_feed_message(std::string_view body) {
  try {
    ByteReader in(body, "feed message");
    const std::uint8_t schema = in.u8();
    if (schema != kSchemaVersion) {
      throw Error(ErrorCode::kReplication,
                  fmt::format("a feed message of schema version {}, but this revocore reads "
                              "version {}; upgrade this replica to the writer's release",
                              schema, kSchemaVersion));
    }
    FeedMessage m;
    const std::uint8_t kind = in.u8();
    if (kind < 1 || kind > 8) {
      throw Error(ErrorCode::kReplication,
                  fmt::format("a feed message of unknown kind {}; upgrade this replica to the "
                              "writer's release",
                              kind));
    }
    m.kind = static_cast<MessageKind>(kind);
    m.time = in.i64();
    m.journal_from = in.u64();
    m.journal_to = in.u64();
    m.registrations_from = in.u64();
    m.registrations_to = in.u64();
    switch (m.kind) {
      case MessageKind::kIssuers: {
        const std::uint32_t count = in.u32();
        for (std::uint32_t i = 0; i < count && i < 65536; ++i) {
          const IssuerId id = in.u32();
          m.issuers.push_back(IssuerRecord::decode(id, read_long(in)));
        }
        break;
      }
      case MessageKind::kChanges:
      case MessageKind::kSnapshotPart:
        m.certificates = read_certificates(in);
        break;
      case MessageKind::kSnapshotBegin:
        m.snapshot_certificates = in.u64();
        break;
      case MessageKind::kSnapshotEnd:
        m.snapshot_stream_sequence = in.u64();
        break;
      case MessageKind::kCrl:
        m.crl.issuer = in.u32();
        m.crl.shard = in.u16();
        m.crl.delta = in.u8() != 0;
        m.crl.number = in.u64();
        m.crl.total_size = in.u64();
        m.crl.offset = in.u64();
        m.crl.bytes = std::string(read_long(in));
        break;
      case MessageKind::kShardList:
        m.crl.issuer = in.u32();
        m.crl.bytes = std::string(read_long(in));
        if (m.crl.bytes.size() > kShardListBytes) {
          in.fail(fmt::format("a shard list of {} bytes, more than {}", m.crl.bytes.size(),
                              kShardListBytes));
        }
        break;
      case MessageKind::kHeartbeat:
        break;
    }
    if (!in.at_end()) {
      in.fail("bytes after the end of the message");
    }
    return m;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kReplication) {
      throw;
    }
    // A record decoder's kStoreCorrupt: the message, not this store, is damaged.
    throw Error(ErrorCode::kReplication,
                "a feed message that does not decode (truncated, or a record of a version this "
                "revocore does not read); run the writer's release on this replica");
  }
}

}  // namespace revocore::replication
