// The change feed without a network (docs/REPLICATION.md): the registration log beside the
// journal, the message schema, its Ed25519 signatures, and how a replica applies messages to its
// store: in order, one transaction each, never undoing a newer state, refusing gaps, unknown
// schemas and foreign issuers with nothing applied. The cluster test drives the same code through
// real NATS servers.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "replication/feed_message.hpp"
#include "replication/feed_signature.hpp"
#include "replication/replica_follower.hpp"
#include "revocation/batch_order.hpp"
#include "revocation/store.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;
using replication::FeedMessage;
using replication::MessageKind;

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_.emplace(Store::create(dir_.path() / "writer"));
    replica_.emplace(Store::create(dir_.path() / "replica"));
    testing::StoreBuilder build(*writer_);
    issuer_ = build.issuer("ca");
    build.user("u1");
    build.credential("c1", CredentialType::kCard, "u1");
    first_ = build.certificate(issuer_, 1, "c1");
    second_ = build.certificate(issuer_, 2, "c1");
  }

  FeedMessage issuers_message() const {
    FeedMessage m;
    m.kind = MessageKind::kIssuers;
    m.issuers = writer_->read().issuers();
    return m;
  }

  // A message carrying the writer's current records of `keys`.
  FeedMessage certificates_message(MessageKind kind, const std::vector<CertificateKey>& keys,
                                   std::uint64_t journal_from, std::uint64_t journal_to,
                                   std::uint64_t registrations_from,
                                   std::uint64_t registrations_to) const {
    FeedMessage m;
    m.kind = kind;
    m.journal_from = journal_from;
    m.journal_to = journal_to;
    m.registrations_from = registrations_from;
    m.registrations_to = registrations_to;
    const StoreTransaction txn = writer_->read();
    for (const auto& key : keys) {
      m.certificates.push_back(replication::replicated_certificate(key, *txn.certificate(key)));
    }
    return m;
  }

  // Applies through the wire form, as a replica does: encode, decode, one transaction.
  void apply(const FeedMessage& message) {
    std::string body;
    replication::encode_feed_message(message, body);
    const FeedMessage decoded = replication::decode_feed_message(body);
    WriteTransaction txn = replica_->write();
    ReplicaPosition position = txn.replica_position();
    replication::apply_feed_message(txn, decoded, ++stream_sequence_, position);
    txn.commit();
  }

  void revoke(const CertificateKey& key) {
    WriteTransaction txn = writer_->write();
    CertificateOrder order;
    order.process = "CertsProcRevoke";
    order.operator_name = "op";
    order.time = testing::kTestTime;
    order.key = key;
    order.status = CertificateStatus::kRevoked;
    order.reason = ReasonCode::kKeyCompromise;
    apply_certificate_order(txn, order);
    txn.commit();
  }

  testing::TempDir dir_;
  std::optional<Store> writer_;
  std::optional<Store> replica_;
  IssuerId issuer_ = 0;
  CertificateKey first_;
  CertificateKey second_;
  std::uint64_t stream_sequence_ = 0;
};

TEST_F(ReplicationTest, RegistrationsAreLoggedInTheirTransaction) {
  const StoreTransaction txn = writer_->read();
  EXPECT_EQ(txn.last_registration_sequence(), 2u);
  std::vector<std::uint64_t> serials;
  txn.for_each_registration(1, 2, [&](std::uint64_t, const CertificateKey& key) {
    serials.push_back(key.serial == first_.serial ? 1 : key.serial == second_.serial ? 2 : 0);
    return true;
  });
  EXPECT_EQ(serials, (std::vector<std::uint64_t>{1, 2}));
  // An abandoned registration leaves no log entry.
  {
    WriteTransaction abandoned = writer_->write();
    CertificateRecord record;
    record.credential_id = "c1";
    abandoned.add_certificate(testing::key_for(issuer_, 3), record);
  }
  EXPECT_EQ(writer_->read().last_registration_sequence(), 2u);
}

TEST_F(ReplicationTest, ASnapshotThenChangesMakeTheReplicaEqualTheWriter) {
  apply(issuers_message());
  apply(certificates_message(MessageKind::kSnapshotBegin, {}, 0, 0, 0, 2));
  apply(certificates_message(MessageKind::kSnapshotPart, {first_, second_}, 0, 0, 0, 2));
  apply(certificates_message(MessageKind::kSnapshotEnd, {}, 0, 0, 0, 2));
  EXPECT_EQ(replica_->read().replica_position().registrations, 2u);
  EXPECT_EQ(replica_->read().issuer_by_name("ca")->id, issuer_);
  revoke(first_);
  apply(certificates_message(MessageKind::kChanges, {first_}, 0, 1, 2, 2));
  const auto copy = replica_->read().certificate(first_);
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->status, CertificateStatus::kRevoked);
  EXPECT_EQ(copy->reason, ReasonCode::kKeyCompromise);
  EXPECT_EQ(copy->status_sequence, 1u);
  EXPECT_TRUE(copy->credential_id.empty());  // the holder's identity stays with the writer
  EXPECT_TRUE(copy->subject.empty());
  const ReplicaPosition position = replica_->read().replica_position();
  EXPECT_EQ(position.journal, 1u);
  EXPECT_EQ(position.stream_sequence, stream_sequence_);
}

TEST_F(ReplicationTest, AnOlderStateNeverUndoesANewerOne) {
  apply(issuers_message());
  const FeedMessage valid_then =
      certificates_message(MessageKind::kSnapshotPart, {first_}, 0, 0, 0, 2);
  revoke(first_);
  apply(certificates_message(MessageKind::kChanges, {first_}, 0, 1, 0, 2));
  apply(valid_then);  // a snapshot part of before the revocation, applied after it
  EXPECT_EQ(replica_->read().certificate(first_)->status, CertificateStatus::kRevoked);
}

TEST_F(ReplicationTest, AGapIsRefusedWithNothingApplied) {
  apply(issuers_message());
  revoke(first_);
  revoke(second_);
  const auto before = replica_->read().replica_position();
  // Journal 1 was never applied; this message starts after it.
  try {
    apply(certificates_message(MessageKind::kChanges, {second_}, 1, 2, 0, 2));
    FAIL() << "a gap was applied";
  } catch (const replication::FeedGap& gap) {
    EXPECT_NE(std::string(gap.what()).find("a gap in the feed"), std::string::npos);
    EXPECT_EQ(gap.journal_from, 1u);
  }
  EXPECT_FALSE(replica_->read().certificate(second_));
  EXPECT_EQ(replica_->read().replica_position().stream_sequence, before.stream_sequence);
}

TEST_F(ReplicationTest, ACertificateOfAnUnannouncedIssuerIsRefused) {
  try {
    apply(certificates_message(MessageKind::kChanges, {first_}, 0, 0, 0, 1));
    FAIL() << "applied without its issuer";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kReplication);
    EXPECT_NE(std::string(e.what()).find("never announced"), std::string::npos);
  }
  EXPECT_EQ(replica_->read().count_certificates(), 0u);
}

TEST_F(ReplicationTest, AnIssuerHeldUnderAnotherIdIsRefused) {
  {
    WriteTransaction txn = replica_->write();
    IssuerRecord other;
    other.name = "other";
    txn.add_issuer(other);  // takes id 1, the writer's "ca"
    txn.commit();
  }
  try {
    apply(issuers_message());
    FAIL() << "a foreign issuer was overwritten";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kReplication);
    EXPECT_NE(std::string(e.what()).find("fed by another writer"), std::string::npos);
  }
  EXPECT_EQ(replica_->read().issuer(1)->name, "other");
}

TEST_F(ReplicationTest, UnknownSchemaVersionsAndKindsAndTruncationsAreRefused) {
  std::string body;
  replication::encode_feed_message(
      certificates_message(MessageKind::kChanges, {first_}, 0, 0, 0, 1), body);
  std::string newer = body;
  newer[0] = 2;
  const auto refused = [](const std::string& bytes, const std::string& says) {
    try {
      replication::decode_feed_message(bytes);
      ADD_FAILURE() << "decoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kReplication);
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  refused(newer, "schema version 2");
  std::string kind = body;
  kind[1] = 42;
  refused(kind, "unknown kind 42");
  refused(body.substr(0, body.size() - 3), "does not decode");
  refused(body + "x", "does not decode");

  // An issuer's shard list travels whole, bounded.
  replication::FeedMessage list;
  list.kind = MessageKind::kShardList;
  list.crl.issuer = 3;
  list.crl.bytes = R"({"issuer":"ca","crl_shards":2})";
  std::string encoded;
  replication::encode_feed_message(list, encoded);
  const auto decoded = replication::decode_feed_message(encoded);
  EXPECT_EQ(decoded.kind, MessageKind::kShardList);
  EXPECT_EQ(decoded.crl.issuer, 3u);
  EXPECT_EQ(decoded.crl.bytes, list.crl.bytes);
  list.crl.bytes.assign(replication::kShardListBytes + 1, ' ');
  encoded.clear();
  replication::encode_feed_message(list, encoded);
  refused(encoded, "does not decode");
}

class FeedSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::run_command(fmt::format(
                  "openssl genpkey -algorithm ed25519 -out {0}/a.key && chmod 600 {0}/a.key && "
                  "openssl pkey -in {0}/a.key -pubout -out {0}/a.pub && "
                  "openssl genpkey -algorithm ed25519 -out {0}/b.key && chmod 600 {0}/b.key && "
                  "openssl pkey -in {0}/b.key -pubout -out {0}/b.pub && "
                  "openssl ecparam -name prime256v1 -genkey -noout -out {0}/ec.key && "
                  "chmod 600 {0}/ec.key",
                  dir_.path().string())),
              0);
  }
  testing::TempDir dir_;
};

TEST_F(FeedSignatureTest, OnlyTheWritersSignatureOnTheSameSubjectVerifies) {
  const auto signer = replication::FeedSigner::load(dir_.path() / "a.key");
  const auto verifier = replication::FeedVerifier::load(dir_.path() / "a.pub");
  const auto other = replication::FeedVerifier::load(dir_.path() / "b.pub");
  std::string message = "body bytes";
  signer.sign("revocore.feed.changes", message);
  EXPECT_EQ(message.size(), 10 + replication::kSignatureSize);
  EXPECT_EQ(verifier.verify("revocore.feed.changes", message), "body bytes");
  EXPECT_FALSE(other.verify("revocore.feed.changes", message));
  EXPECT_FALSE(verifier.verify("revocore.feed.snapshot", message));  // replayed elsewhere
  std::string tampered = message;
  tampered[0] ^= 1;
  EXPECT_FALSE(verifier.verify("revocore.feed.changes", tampered));
  EXPECT_FALSE(verifier.verify("revocore.feed.changes", "short"));
}

TEST_F(FeedSignatureTest, KeysOfAnotherTypeAreRefusedNamingTheFile) {
  try {
    replication::FeedSigner::load(dir_.path() / "ec.key");
    FAIL() << "an EC key was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    EXPECT_NE(std::string(e.what()).find("Ed25519"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("ec.key"), std::string::npos);
  }
  try {
    replication::FeedVerifier::load(dir_.path() / "a.key");  // a private key, not a public one
    FAIL() << "not a public key, taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
  }
}

// [replication] and [replica]: what is refused, with the file and line.
std::string config_error(const std::string& extra) {
  try {
    config::Configuration::parse(std::string(config::kDefaultConfigToml) + extra, "test.toml",
                                 "/etc/revocore");
  } catch (const Error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(ReplicationConfig, BadSectionsAreRefusedWithFileAndLine) {
  const std::string replica =
      "\n[replica]\nservers = [\"tls://127.0.0.1:4222\"]\nverify_key = \"feed.pub\"\n";
  EXPECT_EQ(config_error(replica), "accepted");
  EXPECT_NE(config_error("\n[replica]\nservers = [\"http://x\"]\nverify_key = \"k\"\n")
                .find("nats:// or tls://"),
            std::string::npos);
  EXPECT_NE(config_error("\n[replica]\nverify_key = \"k\"\n").find("needs 'servers'"),
            std::string::npos);
  EXPECT_NE(config_error(replica + "stream = \"a.b\"\n").find("NATS tokens"), std::string::npos);
  EXPECT_NE(config_error(replica + "user = \"r\"\n").find("user and password_file"),
            std::string::npos);
  EXPECT_NE(config_error(replica + "max_staleness_seconds = 0\n").find("at least 1"),
            std::string::npos);
  EXPECT_NE(config_error(replica + "colour = 1\n").find("unknown key 'colour'"), std::string::npos);
  const std::string writer =
      "\n[replication]\nservers = [\"nats://127.0.0.1:4222\"]\nsigning_key = \"feed.key\"\n";
  EXPECT_EQ(config_error(writer), "accepted");
  EXPECT_NE(config_error(writer + "stream_replicas = 7\n").find("1 to 5"), std::string::npos);
  EXPECT_NE(config_error(writer + replica).find("exclude each other"), std::string::npos);
  EXPECT_NE(config_error("\n[[issuer]]\nname = \"ca\"\ncertificate = \"ca.pem\"\nprivate_key = "
                         "\"ca.key\"\npublish_directory = \"crl\"\n" +
                         replica)
                .find("a replica holds no CA key"),
            std::string::npos);
  EXPECT_NE(config_error(writer + "stream_replicas = 7\n").find("test.toml:"), std::string::npos);
}

}  // namespace
}  // namespace revocore

namespace revocore {
namespace {

// A replica's data directory with the command line: `init` registers no issuer (their ids come
// from the writer), and every command that would change the store is refused, changing nothing.
TEST(ReplicaDataDirectory, InitRegistersNothingAndWriteCommandsAreRefused) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "replica";
  fs::create_directories(data);
  std::ofstream(data / "revocore.toml")
      << config::kDefaultConfigToml
      << "\n[replica]\nservers = [\"nats://127.0.0.1:1\"]\nverify_key = \"feed.pub\"\n";
  const auto revocore = [&](const std::string& args, std::string* out) {
    return testing::run_command(
        fmt::format("{} --data-dir {} --operator op {}", REVOCORE_BINARY, data.string(), args),
        out);
  };
  std::string out;
  ASSERT_EQ(revocore("init", &out), 0) << out;
  EXPECT_NE(out.find("replica store ready"), std::string::npos) << out;
  EXPECT_TRUE(Store::open(data / "store").read().issuers().empty());
  for (const char* command :
       {"user lock u1 --reason \"Key compromise\"", "card deactivate c1 --reason \"Lost\"",
        "cert revoke ca 01 --reason \"Key compromise\"", "approvals approve 1", "crl generate",
        "batch resume 1"}) {
    EXPECT_EQ(revocore(command, &out), 4) << command << ": " << out;
    EXPECT_NE(out.find("is a replica of stream REVOCORE"), std::string::npos) << out;
    EXPECT_NE(out.find("on the writer"), std::string::npos) << out;
  }
  EXPECT_EQ(Store::open(data / "store").read().count_journal_entries(), 0u);
  EXPECT_TRUE(Store::open(data / "store").read().audit(10).empty());
}

}  // namespace
}  // namespace revocore
