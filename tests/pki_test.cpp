// pki/: the DER writer (lengths patched in after the content, times by year) checked against
// OpenSSL's decoder, and the one Signer that CRLs and OCSP share, for every key type, from many
// threads at once, verified by OpenSSL.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/asn1.h>

#include <vector>

#include "pki/der_writer.hpp"
#include "pki/signer.hpp"
#include "revocation/error.hpp"
#include "tests/signer_checks.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

// The length of the outer TLV as OpenSSL's ASN1_get_object reads it; -1 when it refuses it.
long decoded_length(const std::string& der, int& tag) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  long length = 0;
  int xclass = 0;
  const int rc = ::ASN1_get_object(&p, &length, &tag, &xclass, static_cast<long>(der.size()));
  if (rc & 0x80) {
    return -1;
  }
  // What is left after the header must be exactly the content.
  if (reinterpret_cast<const char*>(p) + length != der.data() + der.size()) {
    return -1;
  }
  return length;
}

TEST(DerWriter, NestedLengthsAreMinimalAtEveryBoundary) {
  for (const std::size_t content : {0u, 1u, 127u, 128u, 129u, 255u, 256u, 65535u, 65536u, 70000u}) {
    std::string out = "prefix";
    der::Writer w(out);
    w.sequence([&] { w.raw(std::string(content, 'x')); });
    const std::string der = out.substr(6);
    int tag = 0;
    EXPECT_EQ(decoded_length(der, tag), static_cast<long>(content)) << content;
    EXPECT_EQ(tag, V_ASN1_SEQUENCE);
    EXPECT_EQ(der.size(), 1 + der::length_size(content) + content) << content;
    EXPECT_EQ(der.substr(der.size() - content), std::string(content, 'x'));
  }
}

TEST(DerWriter, InnerLongLengthsMoveTheOuterContentCorrectly) {
  std::string out;
  der::Writer w(out);
  w.sequence([&] {
    w.integer(std::uint64_t{5});
    w.octet_string_of([&] { w.sequence([&] { w.raw(std::string(300, 'y')); }); });
    w.boolean(true);
  });
  // 02 01 05 | 04 82 01 30 (30 82 01 2c yyyy...) | 01 01 ff
  ASSERT_EQ(out.size(), 4 + 3 + 4 + 4 + 300 + 3);
  EXPECT_EQ(out.substr(0, 4), std::string("\x30\x82\x01\x3a", 4));
  EXPECT_EQ(out.substr(4, 3), std::string("\x02\x01\x05", 3));
  EXPECT_EQ(out.substr(7, 8), std::string("\x04\x82\x01\x30\x30\x82\x01\x2c", 8));
  EXPECT_EQ(out.substr(out.size() - 3), std::string("\x01\x01\xff", 3));
  int tag = 0;
  EXPECT_EQ(decoded_length(out, tag), static_cast<long>(out.size() - 4));
}

TEST(DerWriter, TimesAreUtcTimeThrough2049AndGeneralizedTimeFrom2050) {
  struct Case {
    UnixTime t;
    std::string der;
  };
  for (const Case& c :
       {Case{0, std::string("\x17\x0d") + "700101000000Z"},
        Case{der::kGeneralizedTimeFrom - 1, std::string("\x17\x0d") + "491231235959Z"},
        Case{der::kGeneralizedTimeFrom, std::string("\x18\x0f") + "20500101000000Z"}}) {
    std::string out;
    der::Writer(out).time(c.t);
    EXPECT_EQ(out, c.der) << c.t;
  }
  std::string general;
  der::Writer(general).generalized_time(0);
  EXPECT_EQ(general, std::string("\x18\x0f") + "19700101000000Z");
}

struct KeyType {
  const char* name;
  const char* genkey;  // openssl req -newkey argument
};

class SignerTest : public ::testing::TestWithParam<KeyType> {
 protected:
  void SetUp() override {
    ASSERT_EQ(testing::run_command(fmt::format(
                  "cd '{}' && openssl req -x509 -newkey {} -nodes -subj '/CN=signer test' "
                  "-keyout key.pem -out cert.pem -days 2 2>/dev/null && chmod 600 key.pem",
                  dir_.path().string(), GetParam().genkey)),
              0);
  }
  testing::TempDir dir_;
};

TEST_P(SignerTest, SignsFromManyThreadsAtOnceAndOpensslVerifiesEverySignature) {
  const pki::Signer signer =
      pki::Signer::load("test", "issuer", dir_.path() / "cert.pem", dir_.path() / "key.pem");
  testing::expect_signs_from_threads(signer, 4, 25);
}

INSTANTIATE_TEST_SUITE_P(Keys, SignerTest,
                         ::testing::Values(KeyType{"P256", "ec -pkeyopt ec_paramgen_curve:P-256"},
                                           KeyType{"P384", "ec -pkeyopt ec_paramgen_curve:P-384"},
                                           KeyType{"RSA2048", "rsa:2048"},
                                           KeyType{"Ed25519", "ed25519"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Signer, RefusesAKeyThatIsNotTheCertificatesNamingBothFiles) {
  testing::TempDir dir;
  ASSERT_EQ(testing::run_command(fmt::format(
                "cd '{}' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                "-subj '/CN=a' -keyout a.key -out a.pem -days 2 2>/dev/null && openssl genpkey "
                "-algorithm ed25519 -out b.key 2>/dev/null && chmod 600 a.key b.key",
                dir.path().string())),
            0);
  try {
    pki::Signer::load("issuer 'x'", "OCSP responder", dir.path() / "a.pem", dir.path() / "b.key");
    FAIL() << "a mismatched key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidConfig);
    const std::string what = e.what();
    EXPECT_NE(what.find("issuer 'x': the private key"), std::string::npos) << what;
    EXPECT_NE(what.find("b.key does not match the OCSP responder certificate"), std::string::npos)
        << what;
  }
}

}  // namespace
}  // namespace revocore
