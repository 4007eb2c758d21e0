// Keys in a PKCS#11 token (SoftHSM2, each test its own token): pki::Signer signs with keys
// generated inside the token for every key type, from many threads; CRLs and OCSP answers it
// signs are verified by openssl and GnuTLS; every failure names the URI and what to do, and never
// the PIN.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <fstream>
#include <vector>

#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "crl/crl_publisher.hpp"
#include "importer/certificate_import.hpp"
#include "ocsp/ocsp_responder.hpp"
#include "ocsp/presigned_responses.hpp"
#include "pki/signer.hpp"
#include "revocation/error.hpp"
#include "revocation/status_transition.hpp"
#include "tests/signer_checks.hpp"
#include "tests/softhsm_token.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;
using testing::kSoftHsmModule;
using testing::SoftHsmToken;

Error load_error(const std::string& uri, const fs::path& certificate,
                 const fs::path& module = kSoftHsmModule) {
  try {
    pki::Signer::load("issuer 'hsm'", "issuer", certificate, uri, module);
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorCode::kInvalidArgument, "no error");
}

struct KeyType {
  const char* name;
  const char* token_type;  // pkcs11-tool --key-type
};

class TokenSigner : public ::testing::TestWithParam<KeyType> {
 protected:
  testing::TempDir dir_;
  SoftHsmToken token_{dir_.path()};
};

TEST_P(TokenSigner, SignsFromManyThreadsAndOpensslVerifiesEverySignature) {
  token_.generate(GetParam().token_type, "ca-key", "01");
  token_.certify("01", "HSM CA", dir_.path() / "ca.pem");
  const pki::Signer signer = pki::Signer::load("issuer 'hsm'", "issuer", dir_.path() / "ca.pem",
                                               token_.uri("ca-key"), kSoftHsmModule);
  testing::expect_signs_from_threads(signer, 4, 10);
}

INSTANTIATE_TEST_SUITE_P(Keys, TokenSigner,
                         ::testing::Values(KeyType{"P256", "EC:prime256v1"},
                                           KeyType{"P384", "EC:secp384r1"},
                                           KeyType{"RSA2048", "rsa:2048"},
                                           KeyType{"Ed25519", "EC:edwards25519"}),
                         [](const auto& info) { return std::string(info.param.name); });

class TokenFailures : public ::testing::Test {
 protected:
  void SetUp() override {
    token_.generate("EC:prime256v1", "ca-key", "01");
    token_.certify("01", "HSM CA", ca_);
  }
  // Every refusal: the right code, the URI named, the PIN never.
  void expect_refused(const Error& e, ErrorCode code, const std::string& says) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), code) << what;
    EXPECT_NE(what.find(says), std::string::npos) << what;
    EXPECT_NE(what.find("issuer 'hsm'"), std::string::npos) << what;
    EXPECT_EQ(what.find(SoftHsmToken::kPin), std::string::npos) << what;
  }
  testing::TempDir dir_;
  SoftHsmToken token_{dir_.path()};
  fs::path ca_ = dir_.path() / "ca.pem";
};

TEST_F(TokenFailures, AWrongPinIsRefusedOnceAndNeverTriedAgain) {
  const fs::path wrong = dir_.path() / "wrong-pin";
  std::ofstream(wrong) << "not-the-pin\n";
  fs::permissions(wrong, fs::perms::owner_read | fs::perms::owner_write);
  const std::string uri =
      fmt::format("pkcs11:token=revocore;object=ca-key;pin-source=file:{}", wrong.string());
  const Error e = load_error(uri, ca_);
  expect_refused(e, ErrorCode::kInvalidConfig, "refused the PIN");
  EXPECT_NE(std::string(e.what()).find("does not try again"), std::string::npos) << e.what();
  // One wrong try only: the right PIN still logs in (SoftHSM2 would count further failures).
  EXPECT_NO_THROW(
      pki::Signer::load("issuer 'hsm'", "issuer", ca_, token_.uri("ca-key"), kSoftHsmModule));
}

TEST_F(TokenFailures, APinInTheUriOrInAnOpenFileIsRefused) {
  expect_refused(
      load_error(
          fmt::format("pkcs11:token=revocore;object=ca-key;pin-value={}", SoftHsmToken::kPin), ca_),
      ErrorCode::kInvalidConfig, "pin-source=file:");
  const fs::path open = token_.pin_file(0644);
  expect_refused(load_error(fmt::format("pkcs11:token=revocore;object=ca-key;pin-source=file:{}",
                                        open.string()),
                            ca_),
                 ErrorCode::kInvalidConfig, "chmod 600");
  expect_refused(load_error("pkcs11:token=revocore;object=ca-key;pin-source=file:pin.txt", ca_),
                 ErrorCode::kInvalidConfig, "absolute");
  expect_refused(load_error("pkcs11:token=revocore;object=ca-key", ca_), ErrorCode::kInvalidConfig,
                 "needs a PIN");
  ::unsetenv("REVOCORE_TEST_PIN");
  expect_refused(
      load_error("pkcs11:token=revocore;object=ca-key;pin-source=env:REVOCORE_TEST_PIN", ca_),
      ErrorCode::kInvalidConfig, "REVOCORE_TEST_PIN is not set");
  ::setenv("REVOCORE_TEST_PIN", SoftHsmToken::kPin, 1);
  EXPECT_NO_THROW(pki::Signer::load("issuer 'hsm'", "issuer", ca_,
                                    "pkcs11:token=revocore;object=ca-key;pin-source=env:"
                                    "REVOCORE_TEST_PIN",
                                    kSoftHsmModule));
  ::unsetenv("REVOCORE_TEST_PIN");
}

TEST_F(TokenFailures, MissingModuleTokenObjectAndMismatchedKeysAreNamed) {
  const std::string pin = fmt::format("pin-source=file:{}", token_.pin_file().string());
  expect_refused(load_error(token_.uri("ca-key"), ca_, "/nonexistent/libpkcs11.so"),
                 ErrorCode::kInvalidConfig, "cannot load the PKCS#11 module /nonexistent");
  expect_refused(load_error(fmt::format("pkcs11:token=elsewhere;object=ca-key;{}", pin), ca_),
                 ErrorCode::kSigning, "no token matches");
  expect_refused(load_error(fmt::format("pkcs11:token=revocore;object=missing;{}", pin), ca_),
                 ErrorCode::kInvalidConfig, "holds no private key");
  expect_refused(load_error(fmt::format("pkcs11:token=revocore;{}", pin), ca_),
                 ErrorCode::kInvalidConfig, "object=LABEL");
  expect_refused(load_error("pkcs11:token=revocore;object=ca-key;type=cert", ca_),
                 ErrorCode::kInvalidConfig, "type= must be private");
  expect_refused(load_error("pkcs11:%zz", ca_), ErrorCode::kInvalidConfig, "not a valid PKCS#11");
  // Another key of the same type, whose certificate is not this one.
  token_.generate("EC:prime256v1", "other-key", "02");
  expect_refused(load_error(token_.uri("other-key"), ca_), ErrorCode::kInvalidConfig,
                 "does not match the issuer certificate");
  // A key of another type than the certificate's.
  token_.generate("rsa:2048", "rsa-key", "03");
  expect_refused(load_error(token_.uri("rsa-key"), ca_), ErrorCode::kInvalidConfig,
                 "is not of the issuer certificate");
}

// A CA whose key is in the token: its CRLs and OCSP answers, as relying parties check them.
class TokenIssuer : public ::testing::Test {
 protected:
  void SetUp() override {
    token_.generate("EC:prime256v1", "ca-key", "01");
    token_.certify("01", "HSM issuing CA", dir_.path() / "ca.pem");
    std::ofstream(dir_.path() / "chain.pem") << std::ifstream(token_.root_certificate()).rdbuf()
                                             << std::ifstream(dir_.path() / "ca.pem").rdbuf();
    config_ = config::Configuration::parse(
        std::string(config::kDefaultConfigToml) +
            fmt::format("\n[[issuer]]\nname = \"hsm\"\ncertificate = \"ca.pem\"\n"
                        "private_key = \"{}\"\npkcs11_module = \"{}\"\n"
                        "publish_directory = \"crl\"\ndelta_crls = true\n"
                        "delta_distribution_point = \"http://crl.example/hsm-delta.crl\"\n",
                        token_.uri("ca-key"), kSoftHsmModule),
        "revocore.toml", dir_.path());
    {
      WriteTransaction txn = store_.write();
      issuer_ = importer::register_issuers(txn, *config_).front().id;
      txn.commit();
    }
    testing::StoreBuilder build(store_);
    build.user("u1");
    build.credential("c1", CredentialType::kCard, "u1");
    build.certificate(issuer_, 0x1001, "c1");
    build.certificate(issuer_, 0x1002, "c1");
  }
  void revoke(std::uint64_t serial) {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, serial), CertificateStatus::kRevoked,
                                 ReasonCode::kKeyCompromise, system_clock()(), "test", "alice", 0});
    txn.commit();
  }
  std::string request(std::uint64_t serial, bool nonce) {
    const auto ca = pki::X509Certificate::load_file(dir_.path() / "ca.pem");
    pki::ScopedAsn1Integer integer(::ASN1_INTEGER_new());
    ::ASN1_INTEGER_set_uint64(integer.get(), serial);
    pki::ScopedOcspRequest req(::OCSP_REQUEST_new());
    ::OCSP_request_add0_id(
        req.get(),
        ::OCSP_cert_id_new(::EVP_sha1(), ::X509_get_subject_name(ca.front().handle()),
                           ::X509_get0_pubkey_bitstr(ca.front().handle()), integer.get()));
    if (nonce) {
      ::OCSP_request_add1_nonce(req.get(), nullptr, 16);
    }
    unsigned char* der = nullptr;
    const int length = ::i2d_OCSP_REQUEST(req.get(), &der);
    pki::ScopedOpenSslBytes owned(der);
    return std::string(reinterpret_cast<const char*>(der), length);
  }
  // `openssl ocsp` checks the response's signature against the chain and prints the status;
  // GnuTLS's ocsptool checks the signature against the CA certificate too.
  std::string openssl_verdict(const std::string& response_der, std::uint64_t serial) {
    const fs::path file = dir_.path() / "response.der";
    std::ofstream(file, std::ios::binary) << response_der;
    std::string gnutls;
    EXPECT_EQ(testing::run_command(fmt::format("ocsptool --verify-response --load-signer '{}' "
                                               "--infile '{}'",
                                               (dir_.path() / "ca.pem").string(), file.string()),
                                   &gnutls),
              0)
        << gnutls;
    EXPECT_NE(gnutls.find("Verifying OCSP Response: Success"), std::string::npos) << gnutls;
    std::string output;
    testing::run_command(
        fmt::format("openssl ocsp -respin '{}' -issuer '{}' -CAfile '{}' -serial 0x{:X} -no_nonce",
                    file.string(), (dir_.path() / "ca.pem").string(),
                    (dir_.path() / "chain.pem").string(), serial),
        &output);
    return output;
  }

  testing::TempDir dir_;
  SoftHsmToken token_{dir_.path()};
  Store store_ = Store::create(dir_.path() / "store");
  std::optional<config::Configuration> config_;
  IssuerId issuer_ = 0;
};

TEST_F(TokenIssuer, FullAndDeltaCrlsSignedInTheTokenVerifyWithOpensslAndGnutls) {
  crl::CrlPublisher publisher(store_, *config_, system_clock());
  std::vector<crl::PublishedCrl> published = {publisher.publish("hsm", crl::CrlKind::kFull)};
  revoke(0x1002);
  for (auto& crl : publisher.publish_after({issuer_})) {
    published.push_back(std::move(crl));
  }
  ASSERT_EQ(published.size(), 2u);  // the full CRL, then a delta over it
  for (const auto& crl : published) {
    std::string output;
    EXPECT_EQ(testing::run_command(
                  fmt::format("openssl crl -inform DER -in '{}' -noout -CAfile '{}' -verify",
                              crl.file.string(), (dir_.path() / "chain.pem").string()),
                  &output),
              0)
        << output;
    EXPECT_NE(output.find("verify OK"), std::string::npos) << output;
    // certtool reads every input in one format: the CRL as PEM, like the CA certificate.
    const fs::path pem = dir_.path() / "crl.pem";
    ASSERT_EQ(testing::run_command(fmt::format("openssl crl -inform DER -in '{}' -out '{}'",
                                               crl.file.string(), pem.string())),
              0);
    EXPECT_EQ(testing::run_command(fmt::format("certtool --verify-crl --load-ca-certificate '{}' "
                                               "--infile '{}'",
                                               (dir_.path() / "ca.pem").string(), pem.string()),
                                   &output),
              0)
        << output;
  }
}

TEST_F(TokenIssuer, OcspAnswersSignedInTheTokenVerifyPresignedAndWithNonce) {
  revoke(0x1002);
  ocsp::OcspResponder responder(store_, *config_, system_clock());
  // Signed on the spot, with a nonce.
  ocsp::OcspAnswer answer = responder.answer(request(0x1002, /*nonce=*/true));
  ASSERT_EQ(answer.outcome, ocsp::OcspOutcome::kRevoked);
  std::string verdict = openssl_verdict(answer.der, 0x1002);
  EXPECT_NE(verdict.find("Response verify OK"), std::string::npos) << verdict;
  EXPECT_NE(verdict.find("revoked"), std::string::npos) << verdict;
  // Pre-signed through the token, then served from the store.
  EXPECT_EQ(ocsp::presign_issuer(responder, "hsm"), 4u);  // 2 certificates x 2 CertID hashes
  answer = responder.answer(request(0x1001, /*nonce=*/false));
  EXPECT_TRUE(answer.from_store);
  verdict = openssl_verdict(answer.der, 0x1001);
  EXPECT_NE(verdict.find("Response verify OK"), std::string::npos) << verdict;
  EXPECT_NE(verdict.find(": good"), std::string::npos) << verdict;
  // A revocation while serving: the next answer is signed by the token at once.
  revoke(0x1001);
  answer = responder.answer(request(0x1001, /*nonce=*/false));
  EXPECT_FALSE(answer.from_store);
  verdict = openssl_verdict(answer.der, 0x1001);
  EXPECT_NE(verdict.find("Response verify OK"), std::string::npos) << verdict;
  EXPECT_NE(verdict.find("revoked"), std::string::npos) << verdict;
}

}  // namespace
}  // namespace revocore

namespace revocore {
namespace {

// The token's files taken away while a signer holds it (as a removed HSM or card reader would
// look to SoftHSM2), then put back: signatures fail with kSigning meanwhile and work again after,
// without a restart.
TEST(TokenRemoval, SigningFailsWhileTheTokenIsGoneAndRecoversWhenItReturns) {
  testing::TempDir dir;
  SoftHsmToken token(dir.path());
  token.generate("EC:prime256v1", "ca-key", "01");
  token.certify("01", "HSM CA", dir.path() / "ca.pem");
  const pki::Signer signer = pki::Signer::load("issuer 'hsm'", "issuer", dir.path() / "ca.pem",
                                               token.uri("ca-key"), kSoftHsmModule);
  std::string signature;
  signer.sign("before", signature);
  fs::rename(dir.path() / "tokens", dir.path() / "tokens-away");
  fs::create_directories(dir.path() / "tokens");
  try {
    signer.sign("while away", signature);
    ADD_FAILURE() << "signed without the token";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kSigning) << e.what();
    EXPECT_EQ(std::string(e.what()).find(SoftHsmToken::kPin), std::string::npos) << e.what();
  }
  fs::remove_all(dir.path() / "tokens");
  fs::rename(dir.path() / "tokens-away", dir.path() / "tokens");
  EXPECT_NO_THROW(signer.sign("after", signature));
}

}  // namespace
}  // namespace revocore
