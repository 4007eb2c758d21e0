// The OCSP responder without sockets: answers for good, revoked, held and unknown certificates
// checked by OpenSSL's parser and signature verification; error answers; nonces (RFC 9654);
// pre-signed responses that are never served for a status that changed; the HTTP routes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <boost/beast/http.hpp>
#include <ctime>
#include <fstream>

#include "cli/demo_pki.hpp"
#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "crl/crl_publisher.hpp"
#include "importer/certificate_import.hpp"
#include "ocsp/conditional_request.hpp"
#include "ocsp/http_routes.hpp"
#include "ocsp/ocsp_request.hpp"
#include "ocsp/ocsp_responder.hpp"
#include "ocsp/presigned_responses.hpp"
#include "pki/der_writer.hpp"
#include "revocation/error.hpp"
#include "revocation/status_transition.hpp"
#include "tests/test_support.hpp"

namespace revocore::ocsp {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using S = CertificateStatus;

struct Parsed {
  int response_status = -1;  // OCSPResponseStatus
  int cert_status = -1;      // V_OCSP_CERTSTATUS_*
  int reason = -1;
  bool verified = false;
  bool nonce_echoed = false;
  long next_minus_this = 0;
};

class OcspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const UnixTime now = system_clock()();
    root_.emplace(pki::issue_certificate({pki::CertificateRole::kRootCa, "test root",
                                          "revocore test", now - 86400, now + 86400 * 30},
                                         nullptr));
    ca_.emplace(pki::issue_certificate({pki::CertificateRole::kIssuingCa, "test issuing CA",
                                        "revocore test", now - 86400, now + 86400 * 30},
                                       &*root_));
    responder_cert_.emplace(
        pki::issue_certificate({pki::CertificateRole::kOcspResponder, "test responder",
                                "revocore test", now - 86400, now + 86400 * 30},
                               &*ca_));
    pki::write_certificate_pem(dir_.path() / "ca.pem", ca_->certificate);
    pki::write_private_key_pem(dir_.path() / "ca.key", ca_->key.get());
    pki::write_certificate_pem(dir_.path() / "responder.pem", responder_cert_->certificate);
    pki::write_private_key_pem(dir_.path() / "responder.key", responder_cert_->key.get());
    load("ocsp_certificate = \"responder.pem\"\nocsp_private_key = \"responder.key\"\n");
    {
      WriteTransaction txn = store_.write();
      issuer_ = importer::register_issuers(txn, *config_).front().id;
      txn.commit();
    }
    testing::StoreBuilder build(store_);
    build.user("u");
    build.credential("c", CredentialType::kCard, "u");
    build.certificate(issuer_, 0x01, "c");  // good
    build.certificate(issuer_, 0x02, "c", S::kRevoked, ReasonCode::kKeyCompromise);
    build.certificate(issuer_, 0x03, "c", S::kOnHold);
    build.certificate(issuer_, 0x04, "c", S::kRevoked, ReasonCode::kUnspecified);
    responder_.emplace(store_, *config_, [this] { return now_; });
  }

  void load(const std::string& issuer_extra) {
    config_ = config::Configuration::parse(
        std::string(config::kDefaultConfigToml) +
            fmt::format("\n[[issuer]]\nname = \"ca\"\ncertificate = \"ca.pem\"\n"
                        "private_key = \"ca.key\"\npublish_directory = \"crl\"\n{}",
                        issuer_extra),
        "revocore.toml", dir_.path());
  }

  // An OCSPRequest for serials of `ca`, made with OpenSSL's API.
  std::string request(std::vector<std::uint64_t> serials, const EVP_MD* md = ::EVP_sha1(),
                      int nonce_length = 0, const pki::IssuedCertificate* ca = nullptr) const {
    const pki::IssuedCertificate& issuer = ca != nullptr ? *ca : *ca_;
    pki::ScopedOcspRequest req(::OCSP_REQUEST_new());
    for (const auto serial : serials) {
      pki::ScopedAsn1Integer integer(::ASN1_INTEGER_new());
      ::ASN1_INTEGER_set_uint64(integer.get(), serial);
      ::OCSP_request_add0_id(
          req.get(), ::OCSP_cert_id_new(md, ::X509_get_subject_name(issuer.certificate.handle()),
                                        ::X509_get0_pubkey_bitstr(issuer.certificate.handle()),
                                        integer.get()));
    }
    if (nonce_length > 0) {
      ::OCSP_request_add1_nonce(req.get(), nullptr, nonce_length);
    }
    unsigned char* der = nullptr;
    const int length = ::i2d_OCSP_REQUEST(req.get(), &der);
    pki::ScopedOpenSslBytes owned(der);
    return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  }

  // Parses and verifies a response with OpenSSL against the root and issuing CA.
  Parsed parse(const std::string& der, const std::string& request_der, std::uint64_t serial,
               const EVP_MD* md = ::EVP_sha1()) const {
    Parsed out;
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    pki::ScopedOcspResponse response(
        ::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(response);
    if (!response) {
      return out;
    }
    out.response_status = ::OCSP_response_status(response.get());
    pki::ScopedOcspBasicResponse basic(::OCSP_response_get1_basic(response.get()));
    if (!basic) {
      return out;
    }
    pki::ScopedOpenSslType<X509_STORE, ::X509_STORE_free> trust(::X509_STORE_new());
    ::X509_STORE_add_cert(trust.get(), root_->certificate.handle());
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    sk_X509_push(untrusted, ca_->certificate.handle());
    out.verified = ::OCSP_basic_verify(basic.get(), untrusted, trust.get(), 0) == 1;
    sk_X509_free(untrusted);
    pki::ScopedAsn1Integer integer(::ASN1_INTEGER_new());
    ::ASN1_INTEGER_set_uint64(integer.get(), serial);
    pki::ScopedOcspCertId id(
        ::OCSP_cert_id_new(md, ::X509_get_subject_name(ca_->certificate.handle()),
                           ::X509_get0_pubkey_bitstr(ca_->certificate.handle()), integer.get()));
    ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
    ::OCSP_resp_find_status(basic.get(), id.get(), &out.cert_status, &out.reason, &revoked,
                            &this_update, &next_update);
    if (this_update != nullptr && next_update != nullptr) {
      int days = 0, seconds = 0;
      ::ASN1_TIME_diff(&days, &seconds, this_update, next_update);
      out.next_minus_this = days * 86400L + seconds;
    }
    const auto* q = reinterpret_cast<const unsigned char*>(request_der.data());
    pki::ScopedOcspRequest req(
        ::d2i_OCSP_REQUEST(nullptr, &q, static_cast<long>(request_der.size())));
    out.nonce_echoed = req && ::OCSP_check_nonce(req.get(), basic.get()) == 1;
    return out;
  }

  Parsed ask(std::uint64_t serial, const EVP_MD* md = ::EVP_sha1(), int nonce = 0) {
    const std::string req = request({serial}, md, nonce);
    last_ = responder_->answer(req);
    return parse(last_.der, req, serial, md);
  }

  testing::TempDir dir_;
  Store store_ = Store::create(dir_.path() / "store");
  std::optional<config::Configuration> config_;
  std::optional<pki::IssuedCertificate> root_, ca_, responder_cert_;
  IssuerId issuer_ = 0;
  UnixTime now_ = system_clock()();
  std::optional<OcspResponder> responder_;
  OcspAnswer last_;
};

TEST_F(OcspTest, GoodRevokedHeldAndUnknownAreSignedAndVerify) {
  const Parsed good = ask(0x01);
  EXPECT_EQ(good.response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
  EXPECT_EQ(good.cert_status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_TRUE(good.verified);
  EXPECT_EQ(good.next_minus_this, 3600);  // response_validity_minutes = 60
  EXPECT_EQ(last_.outcome, OcspOutcome::kGood);

  const Parsed revoked = ask(0x02, ::EVP_sha256());
  EXPECT_EQ(revoked.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(revoked.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
  EXPECT_TRUE(revoked.verified);

  // RFC 6960 2.2: on hold is revoked with certificateHold.
  const Parsed held = ask(0x03);
  EXPECT_EQ(held.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(held.reason, OCSP_REVOKED_STATUS_CERTIFICATEHOLD);

  const Parsed unspecified = ask(0x04);
  EXPECT_EQ(unspecified.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(unspecified.reason, OCSP_REVOKED_STATUS_NOSTATUS);  // reason left out

  const Parsed unknown = ask(0x99);
  EXPECT_EQ(unknown.cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_TRUE(unknown.verified);
  EXPECT_EQ(last_.outcome, OcspOutcome::kUnknown);
}

// The responder encodes responses itself: OpenSSL must read every kind back and, encoding what
// it read, produce the very same bytes (so they are DER, with every field where it belongs).
TEST_F(OcspTest, ResponsesAreTheDerOpenSslWouldEncode) {
  const std::vector<std::string> requests = {
      request({0x01}),
      request({0x02}, ::EVP_sha256()),
      request({0x03}),
      request({0x04}),
      request({0x99}),
      request({0x01, 0x02, 0x03, 0x04, 0x99}),
      request({0x02}, ::EVP_sha1(), 32),
      request({0x01}, ::EVP_sha256(), 1),
  };
  for (const std::string& req : requests) {
    const OcspAnswer answer = responder_->answer(req);
    const auto* p = reinterpret_cast<const unsigned char*>(answer.der.data());
    pki::ScopedOcspResponse response(
        ::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(answer.der.size())));
    ASSERT_TRUE(response);
    EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(answer.der.data() + answer.der.size()));
    unsigned char* again = nullptr;
    const int length = ::i2d_OCSP_RESPONSE(response.get(), &again);
    pki::ScopedOpenSslBytes owned(again);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(again), static_cast<std::size_t>(length)),
              answer.der);
    // producedAt is the moment of signing, and the response is the delegated responder's.
    pki::ScopedOcspBasicResponse basic(::OCSP_response_get1_basic(response.get()));
    ASSERT_TRUE(basic);
    int days = 0, seconds = 0;
    pki::ScopedAsn1Time now_time(::ASN1_GENERALIZEDTIME_set(nullptr, now_));
    ::ASN1_TIME_diff(&days, &seconds, now_time.get(), ::OCSP_resp_get0_produced_at(basic.get()));
    EXPECT_EQ(days * 86400 + seconds, 0);
    EXPECT_EQ(sk_X509_num(::OCSP_resp_get0_certs(basic.get())), 1);
    const ASN1_OCTET_STRING* key_id = nullptr;
    const X509_NAME* name = nullptr;
    ASSERT_EQ(::OCSP_resp_get0_id(basic.get(), &key_id, &name), 1);
    EXPECT_NE(key_id, nullptr);  // responderID byKey (RFC 6960 4.2.2.3)
  }
}

// revocore signs the response itself: every key type the configuration accepts must give a
// signature OpenSSL verifies. The responder certificates are made by the openssl command.
TEST_F(OcspTest, RsaAndEd25519RespondersSignVerifiableResponses) {
  for (const std::string key_type : {"rsa:2048", "ed25519"}) {
    SCOPED_TRACE(key_type);
    const fs::path dir = dir_.path();
    const std::string name = key_type == "ed25519" ? "ed" : "rsa";
    ASSERT_EQ(testing::run_command(fmt::format(
                  "cd {0} && openssl req -new -newkey {1} -nodes -subj /CN={2}-responder "
                  "-keyout {2}.key -out {2}.csr 2>/dev/null && "
                  "printf 'extendedKeyUsage=critical,OCSPSigning\\n' > {2}.ext && "
                  "openssl x509 -req -in {2}.csr -CA ca.pem -CAkey ca.key -set_serial 77 -days 1 "
                  "-extfile {2}.ext -out {2}.pem 2>/dev/null && chmod 600 {2}.key",
                  dir.string(), key_type, name)),
              0);
    load(fmt::format("ocsp_certificate = \"{0}.pem\"\nocsp_private_key = \"{0}.key\"\n", name));
    responder_.emplace(store_, *config_, [this] { return now_; });
    for (int round = 0; round < 2; ++round) {  // a signing context is used again
      const Parsed revoked = ask(0x02, ::EVP_sha1(), 16);
      EXPECT_TRUE(revoked.verified);
      EXPECT_TRUE(revoked.nonce_echoed);
      EXPECT_EQ(revoked.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
      EXPECT_TRUE(ask(0x01).verified);
    }
  }
}

TEST_F(OcspTest, SeveralCertIdsInOneRequest) {
  const std::string req = request({0x01, 0x02, 0x99});
  const OcspAnswer answer = responder_->answer(req);
  EXPECT_EQ(parse(answer.der, req, 0x01).cert_status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(parse(answer.der, req, 0x02).cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(parse(answer.der, req, 0x99).cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_TRUE(parse(answer.der, req, 0x01).verified);
  // Over the configured limit: malformedRequest.
  std::vector<std::uint64_t> many(17, 0x01);
  EXPECT_EQ(responder_->answer(request(many)).der, error_response(OcspOutcome::kMalformedRequest));
}

TEST_F(OcspTest, ErrorAnswers) {
  const std::string malformed{"\x30\x03\x0a\x01\x01", 5};
  const std::string unauthorized{"\x30\x03\x0a\x01\x06", 5};
  EXPECT_EQ(responder_->answer("").der, malformed);
  EXPECT_EQ(responder_->answer("garbage that is not DER").der, malformed);
  std::string truncated = request({0x01});
  truncated.pop_back();
  EXPECT_EQ(responder_->answer(truncated).der, malformed);
  std::string trailing = request({0x01}) + "x";
  EXPECT_EQ(responder_->answer(trailing).der, malformed);
  // An issuer this responder does not serve.
  EXPECT_EQ(responder_->answer(request({0x01}, ::EVP_sha1(), 0, &*root_)).der, unauthorized);
  EXPECT_EQ(responder_->answer(request({0x01}, ::EVP_sha1(), 0, &*root_)).outcome,
            OcspOutcome::kUnauthorized);
}

// A DER TLV, for hand-made requests.
std::string tlv(unsigned char tag, const std::string& content) {
  std::string out;
  der::tlv(out, tag, content);
  return out;
}

// The request decoder is revocore's own: every optional part of RFC 6960 4.1.1 is read, and
// what is not DER is refused.
TEST_F(OcspTest, RequestDecoderReadsEveryOptionalPartAndRefusesWhatIsNotDer) {
  OcspRequest decoded;
  const std::string plain = request({0x01});
  ASSERT_EQ(decode_ocsp_request(plain, 16, decoded), RequestDecoding::kOk);
  const std::string cert_id(decoded.ids.front().der);
  const auto wrap = [](const std::string& tbs_fields, const std::string& after_tbs = "") {
    return tlv(0x30, tlv(0x30, tbs_fields) + after_tbs);
  };
  const std::string list = tlv(0x30, tlv(0x30, cert_id));
  EXPECT_EQ(wrap(list), plain);

  const std::string algorithm =
      tlv(0x30, std::string("\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 10));
  const std::string with_everything =
      wrap(tlv(0xA0, std::string("\x02\x01\x00", 3)) +  // version v1, spelled out
               tlv(0xA1, tlv(0xA4, tlv(0x30, ""))) +    // requestorName
               tlv(0x30, tlv(0x30, cert_id + tlv(0xA0, tlv(0x30, "")))) +  // single extensions
               tlv(0xA2, tlv(0x30, tlv(0x30, std::string("\x06\x03\x55\x1d\x0e", 5) +
                                                 tlv(0x04, tlv(0x04, "x"))))),        // not a nonce
           tlv(0xA0, tlv(0x30, algorithm + tlv(0x03, std::string("\x00\x01", 2)))));  // signed
  ASSERT_EQ(decode_ocsp_request(with_everything, 16, decoded), RequestDecoding::kOk);
  EXPECT_EQ(decoded.ids.size(), 1u);
  EXPECT_FALSE(decoded.has_nonce());
  EXPECT_EQ(responder_->answer(with_everything).outcome, OcspOutcome::kGood);

  // A serial with a needless sign octet names the same certificate (X.690 8.3.2).
  std::string sloppy = cert_id;
  ASSERT_EQ(sloppy.substr(sloppy.size() - 3), std::string("\x02\x01\x01", 3));
  sloppy.replace(sloppy.size() - 3, 3, std::string("\x02\x02\x00\x01", 4));
  sloppy[1] = static_cast<char>(sloppy[1] + 1);
  EXPECT_EQ(responder_->answer(wrap(tlv(0x30, tlv(0x30, sloppy)))).outcome, OcspOutcome::kGood);

  const auto refused = [&](const std::string& der) {
    return decode_ocsp_request(der, 16, decoded);
  };
  EXPECT_EQ(refused(wrap(tlv(0x30, ""))), RequestDecoding::kMalformed);  // no CertID
  std::string indefinite = plain;
  indefinite[1] = '\x80';
  EXPECT_EQ(refused(indefinite + std::string(2, '\0')), RequestDecoding::kMalformed);
  std::string long_form = plain;
  long_form.insert(1, 1, '\x81');  // 0x81 0x4? for a length under 128: not DER
  EXPECT_EQ(refused(long_form), RequestDecoding::kMalformed);
  EXPECT_EQ(refused(wrap(list + tlv(0x04, ""))), RequestDecoding::kMalformed);  // stray field
  EXPECT_EQ(refused(wrap(tlv(0xA0, std::string("\x04\x00", 2)) + list)),
            RequestDecoding::kMalformed);  // a version that is not an INTEGER
  const std::string empty_nonce = tlv(
      0xA2, tlv(0x30, tlv(0x30, std::string("\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x02", 11) +
                                    tlv(0x04, tlv(0x04, "")))));
  EXPECT_EQ(refused(wrap(list + empty_nonce)), RequestDecoding::kBadNonce);
  std::string many;
  for (int i = 0; i < 3; ++i) {
    many += tlv(0x30, cert_id);
  }
  EXPECT_EQ(decode_ocsp_request(wrap(tlv(0x30, many)), 2, decoded), RequestDecoding::kTooManyIds);
}

TEST_F(OcspTest, NoncesAreEchoedWithinRfc9654Lengths) {
  EXPECT_TRUE(ask(0x01, ::EVP_sha1(), 16).nonce_echoed);
  EXPECT_TRUE(ask(0x01, ::EVP_sha1(), 32).nonce_echoed);
  EXPECT_TRUE(ask(0x01, ::EVP_sha1(), 1).nonce_echoed);
  EXPECT_TRUE(last_.etag.empty());  // unique to this request: not for HTTP caches
  EXPECT_EQ(responder_->answer(request({0x01}, ::EVP_sha1(), 33)).der,
            error_response(OcspOutcome::kMalformedRequest));
}

TEST_F(OcspTest, PresignedResponsesAreServedOnlyForTheCurrentStatus) {
  const std::string req = request({0x01});
  const OcspAnswer first = responder_->answer(req);
  EXPECT_FALSE(first.from_store);
  EXPECT_EQ(responder_->flush_pending(), 1u);
  const OcspAnswer second = responder_->answer(req);
  EXPECT_TRUE(second.from_store);
  EXPECT_EQ(second.der, first.der);
  EXPECT_EQ(second.etag, first.etag);

  // A status change committed: the stored "good" must never be served again.
  {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, 0x01), S::kOnHold,
                                 ReasonCode::kCertificateHold, now_, "t", "op", 0});
    txn.commit();
  }
  const OcspAnswer after = responder_->answer(req);
  EXPECT_FALSE(after.from_store);
  EXPECT_EQ(parse(after.der, req, 0x01).cert_status, V_OCSP_CERTSTATUS_REVOKED);
  responder_->flush_pending();
  EXPECT_TRUE(responder_->answer(req).from_store);
  {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, 0x01), S::kValid,
                                 ReasonCode::kRemoveFromCrl, now_, "t", "op", 0});
    txn.commit();
  }
  const OcspAnswer released = responder_->answer(req);
  EXPECT_FALSE(released.from_store);
  EXPECT_EQ(parse(released.der, req, 0x01).cert_status, V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspTest, PresignedResponsesAreRefreshedBeforeNextUpdate) {
  const std::string req = request({0x02});
  responder_->answer(req);
  responder_->flush_pending();
  now_ += 3600 - 900 - 1;  // just before nextUpdate - refresh_before
  EXPECT_TRUE(responder_->answer(req).from_store);
  now_ += 1;
  const OcspAnswer refreshed = responder_->answer(req);
  EXPECT_FALSE(refreshed.from_store);
  EXPECT_EQ(refreshed.this_update, now_);
}

TEST_F(OcspTest, PresignFillsTheStoreForBothHashes) {
  EXPECT_EQ(presign_issuer(*responder_, "ca"), 8u);  // 4 certificates x SHA-1 and SHA-256
  EXPECT_EQ(presign_issuer(*responder_, "ca"), 0u);  // all fresh
  EXPECT_TRUE(responder_->answer(request({0x03}, ::EVP_sha256())).from_store);
  EXPECT_THROW(presign_issuer(*responder_, "nope"), Error);
}

TEST_F(OcspTest, TheCaSignsWhenNoDelegatedResponderIsConfigured) {
  load("");
  OcspResponder by_ca(store_, *config_, [this] { return now_; });
  const std::string req = request({0x02});
  const Parsed parsed = parse(by_ca.answer(req).der, req, 0x02);
  EXPECT_EQ(parsed.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_TRUE(parsed.verified);
}

TEST_F(OcspTest, ResponderCertificatesAreChecked) {
  // A certificate without id-kp-OCSPSigning may not sign responses for the CA.
  const auto leaf = pki::issue_certificate({pki::CertificateRole::kEndEntity, "not a responder",
                                            "revocore test", now_ - 60, now_ + 86400},
                                           &*ca_);
  pki::write_certificate_pem(dir_.path() / "leaf.pem", leaf.certificate);
  pki::write_private_key_pem(dir_.path() / "leaf.key", leaf.key.get());
  load("ocsp_certificate = \"leaf.pem\"\nocsp_private_key = \"leaf.key\"\n");
  try {
    OcspResponder bad(store_, *config_, [this] { return now_; });
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lacks the extended key usage id-kp-OCSPSigning"),
              std::string::npos)
        << e.what();
  }
  // One issued by another CA is refused too.
  const auto foreign = pki::issue_certificate(
      {pki::CertificateRole::kOcspResponder, "foreign", "revocore test", now_ - 60, now_ + 86400},
      &*root_);
  pki::write_certificate_pem(dir_.path() / "foreign.pem", foreign.certificate);
  pki::write_private_key_pem(dir_.path() / "foreign.key", foreign.key.get());
  load("ocsp_certificate = \"foreign.pem\"\nocsp_private_key = \"foreign.key\"\n");
  EXPECT_THROW(OcspResponder(store_, *config_, [this] { return now_; }), Error);
}

TEST(GetPath, DecodesBase64WithRawOrEscapedSlashesAndPadding) {
  EXPECT_EQ(decode_get_path("MEQwQjBAMD4wPDAJBgUrDgMCGgUABBQ%2F"),
            decode_get_path("MEQwQjBAMD4wPDAJBgUrDgMCGgUABBQ/"));
  EXPECT_EQ(*decode_get_path("YWJj"), "abc");
  EXPECT_EQ(*decode_get_path("YWI%3D"), "ab");
  EXPECT_EQ(*decode_get_path("YWI"), "ab");  // padding left out
  EXPECT_EQ(*decode_get_path("Pz8%2B"), "?\?>");
  EXPECT_FALSE(decode_get_path("not base64!").has_value());
  EXPECT_FALSE(decode_get_path("abc%2").has_value());
  EXPECT_FALSE(decode_get_path("").has_value());
}

TEST(HttpDate, MatchesStrftimeAcrossCenturiesLeapDaysAndEveryWeekday) {
  for (UnixTime t : {UnixTime{0}, UnixTime{784111777}, UnixTime{951782400}, UnixTime{1709164800},
                     UnixTime{2524607999}, UnixTime{4102444800}, UnixTime{253401000000}}) {
    for (UnixTime step = 0; step < 8 * 86400; step += 86400 + 3661) {
      const std::time_t seconds = static_cast<std::time_t>(t + step);
      std::tm tm{};
      ::gmtime_r(&seconds, &tm);
      char expected[64];
      std::strftime(expected, sizeof expected, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      EXPECT_EQ(http_date(t + step), expected) << t + step;
    }
  }
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 5.6.7
}

class RoutesTest : public OcspTest {
 protected:
  using HttpResponse = http::response<http::string_body>;

  // The routes' bytes, read back by Beast's parser: what a client would see.
  HttpResponse handle(http::verb method, const std::string& target, const std::string& body,
                      unsigned version = 11, std::string_view if_none_match = {},
                      std::string_view if_modified_since = {}) {
    HttpRequestView request{method, target, body, version, true, if_none_match, if_modified_since};
    HttpResponseBuffer out;
    routes().handle(request, out, buffers_);
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.skip(method == http::verb::head);  // RFC 9110 9.3.2: a length, and no body
    boost::beast::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(out.bytes()), ec);
    EXPECT_FALSE(ec) << ec.message() << "\n" << out.bytes();
    EXPECT_TRUE(parser.is_done()) << out.bytes();
    EXPECT_EQ(used, out.bytes().size()) << "bytes after the response";
    return parser.release();
  }
  HttpResponse get(const std::string& target) { return handle(http::verb::get, target, ""); }
  HttpResponse post(const std::string& target, const std::string& body) {
    return handle(http::verb::post, target, body);
  }
  HttpRoutes& routes() {
    if (!routes_) {
      routes_.emplace(*responder_, metrics_, *config_, [this] { return now_; });
    }
    return *routes_;
  }
  static std::string base64(const std::string& der) {
    std::string out(4 * ((der.size() + 2) / 3) + 1, '\0');
    const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                    reinterpret_cast<const unsigned char*>(der.data()),
                                    static_cast<int>(der.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
  }

  ResponderMetrics metrics_;
  std::optional<HttpRoutes> routes_;
  ConnectionBuffers buffers_;
};

TEST_F(RoutesTest, GetAndPostAnswerWithTheRightHeaders) {
  const std::string req = request({0x02});
  const HttpResponse by_get = get("/" + base64(req));
  EXPECT_EQ(by_get.result(), http::status::ok);
  EXPECT_EQ(by_get[http::field::content_type], "application/ocsp-response");
  EXPECT_EQ(by_get[http::field::cache_control],
            "max-age=3600, public, no-transform, must-revalidate");
  // Signed this very second: no Last-Modified yet (a second answer of the same second would
  // share it, conditional_request.hpp).
  EXPECT_TRUE(by_get[http::field::last_modified].empty());
  EXPECT_FALSE(by_get[http::field::expires].empty());
  EXPECT_EQ(by_get[http::field::etag].size(), 42u);  // quoted SHA-1 hex
  EXPECT_EQ(parse(by_get.body(), req, 0x02).cert_status, V_OCSP_CERTSTATUS_REVOKED);

  const HttpResponse by_post = post("/", req);
  EXPECT_EQ(by_post[http::field::cache_control], "no-store");
  EXPECT_EQ(parse(by_post.body(), req, 0x02).cert_status, V_OCSP_CERTSTATUS_REVOKED);
}

TEST_F(RoutesTest, ConnectionHeaderFollowsTheVersionAndTheRequest) {
  const std::string req = request({0x01});
  HttpResponseBuffer out;
  routes().handle({http::verb::post, "/", req, 11, true, {}, {}}, out, buffers_);
  EXPECT_TRUE(out.bytes().starts_with("HTTP/1.1 200 OK\r\n")) << out.bytes();
  EXPECT_EQ(out.bytes().find("Connection:"), std::string::npos);  // HTTP/1.1 persists
  routes().handle({http::verb::post, "/", req, 10, true, {}, {}}, out, buffers_);
  EXPECT_TRUE(out.bytes().starts_with("HTTP/1.0 200 OK\r\n")) << out.bytes();
  EXPECT_NE(out.bytes().find("Connection: keep-alive\r\n"), std::string::npos);
  routes().handle({http::verb::post, "/", req, 11, false, {}, {}}, out, buffers_);
  EXPECT_NE(out.bytes().find("Connection: close\r\n"), std::string::npos);
  EXPECT_FALSE(out.keep_alive());
  // The same buffers answer again with a different length: nothing left over from before.
  const HttpResponse health = get("/health");
  EXPECT_EQ(health.body(), "ok\n");
  EXPECT_EQ(health[http::field::server], "revocore");
  EXPECT_EQ(health[http::field::date].size(), kHttpDateSize);  // RFC 9110 6.6.1
  // A large answer's memory is not kept for the rest of the connection; a small one's is.
  out.text(http::status::ok, 11, true, std::string(200'000, 'x'));
  out.release_if_large();
  EXPECT_LE(out.bytes().capacity(), HttpResponseBuffer::kKeptCapacity);
  out.text(http::status::ok, 11, true, "small");
  const std::size_t kept = out.bytes().capacity();
  out.release_if_large();
  EXPECT_EQ(out.bytes().capacity(), kept);
  routes().too_large(11, out);
  EXPECT_TRUE(out.bytes().starts_with("HTTP/1.1 413 Payload Too Large\r\n")) << out.bytes();
  EXPECT_FALSE(out.keep_alive());
}

TEST_F(RoutesTest, SlashesInTheBase64WorkRawAndEscaped) {
  // Find a serial whose request encodes with a '/' in its base64.
  for (std::uint64_t serial = 1; serial < 5000; ++serial) {
    const std::string req = request({serial});
    const std::string encoded = base64(req);
    if (encoded.find('/') == std::string::npos) {
      continue;
    }
    std::string escaped;
    for (const char c : encoded) {
      escaped += c == '/' ? "%2F" : c == '+' ? "%2B" : c == '=' ? "%3D" : std::string(1, c);
    }
    const HttpResponse raw = get("/" + encoded);
    const HttpResponse escaped_response = get("/" + escaped);
    EXPECT_EQ(raw.result(), http::status::ok);
    EXPECT_EQ(parse(raw.body(), req, serial).response_status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
    EXPECT_EQ(parse(escaped_response.body(), req, serial).response_status,
              OCSP_RESPONSE_STATUS_SUCCESSFUL);
    return;
  }
  FAIL() << "no request with a '/' in its base64";
}

TEST_F(RoutesTest, HttpErrors) {
  EXPECT_EQ(post("/", std::string(9000, 'x')).result(), http::status::payload_too_large);
  EXPECT_EQ(get("/" + std::string(12000, 'A')).result(), http::status::payload_too_large);
  const HttpResponse refused = handle(http::verb::put, "/", "");
  EXPECT_EQ(refused.result(), http::status::method_not_allowed);
  EXPECT_EQ(refused[http::field::allow], "GET, HEAD, POST");
  EXPECT_EQ(get("/").result(), http::status::not_found);
  const HttpResponse not_base64 = get("/favicon.ico");
  EXPECT_EQ(not_base64.result(), http::status::ok);
  EXPECT_EQ(not_base64.body(), error_response(OcspOutcome::kMalformedRequest));
  EXPECT_EQ(get("/crl/../revocore.toml").result(), http::status::not_found);
  EXPECT_EQ(get("/crl/.hidden.crl").result(), http::status::not_found);
  EXPECT_EQ(post("/metrics", "x").result(), http::status::method_not_allowed);
}

TEST_F(RoutesTest, HealthMetricsAndCrls) {
  EXPECT_EQ(get("/health").body(), "ok\n");
  get("/" + base64(request({0x01})));
  post("/", "junk");
  const std::string metrics = get("/metrics").body();
  EXPECT_NE(metrics.find("revocore_ocsp_responses_total{outcome=\"good\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("revocore_ocsp_responses_total{outcome=\"malformed_request\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("revocore_ocsp_request_duration_seconds_count 2"), std::string::npos);

  fs::create_directories(dir_.path() / "crl");
  std::ofstream(dir_.path() / "crl/ca.crl") << "crl bytes";
  const HttpResponse crl = get("/crl/ca.crl");
  EXPECT_EQ(crl.result(), http::status::ok);
  EXPECT_EQ(crl.body(), "crl bytes");
  EXPECT_EQ(crl[http::field::content_type], "application/pkix-crl");
  EXPECT_EQ(get("/crl/missing.crl").result(), http::status::not_found);
}

// /crl/ serves only the names the publisher writes, as regular files, never through a link.
TEST_F(RoutesTest, CrlRouteServesOnlyPublishedNamesAndNeverALink) {
  const fs::path crl_dir = dir_.path() / "crl";
  fs::create_directories(crl_dir);
  std::ofstream(dir_.path() / "secret.key") << "PRIVATE KEY";
  std::ofstream(crl_dir / "ca-7.crl") << "numbered";
  std::ofstream(crl_dir / "other.crl") << "not a name revocore publishes";
  fs::create_symlink("../secret.key", crl_dir / "leak.crl");
  fs::create_symlink("../secret.key", crl_dir / "ca.crl");
  ASSERT_EQ(::mkfifo((crl_dir / "ca-8.crl").c_str(), 0600), 0);
  EXPECT_EQ(get("/crl/ca-7.crl").body(), "numbered");
  for (const char* name : {"/crl/leak.crl", "/crl/ca.crl", "/crl/other.crl", "/crl/ca-8.crl",
                           "/crl/ca-07.crl", "/crl/ca-delta.crl", "/crl/ca.crl.pem"}) {
    const HttpResponse answer = get(name);
    EXPECT_EQ(answer.result(), http::status::not_found) << name;
    EXPECT_EQ(answer.body().find("PRIVATE"), std::string::npos) << name;
  }
}

// The archiveCutoff singleExtension (RFC 6960 4.4.4) of the first SingleResponse, by OpenSSL.
std::optional<UnixTime> archive_cutoff_of(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  pki::ScopedOcspResponse response(::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  pki::ScopedOcspBasicResponse basic(response ? ::OCSP_response_get1_basic(response.get())
                                              : nullptr);
  OCSP_SINGLERESP* single = basic ? ::OCSP_resp_get0(basic.get(), 0) : nullptr;
  if (single == nullptr) {
    return std::nullopt;
  }
  pki::ScopedOpenSslType<ASN1_GENERALIZEDTIME, ::ASN1_GENERALIZEDTIME_free> cutoff(
      static_cast<ASN1_GENERALIZEDTIME*>(::OCSP_SINGLERESP_get1_ext_d2i(
          single, NID_id_pkix_OCSP_archiveCutoff, nullptr, nullptr)));
  std::tm tm{};
  if (!cutoff || ::ASN1_TIME_to_tm(cutoff.get(), &tm) != 1) {
    return std::nullopt;
  }
  return static_cast<UnixTime>(::timegm(&tm));
}

class ExpiredCertificates : public OcspTest {
 protected:
  UnixTime not_after() {
    return store_.read().certificate(testing::key_for(issuer_, 0x02))->not_after;
  }
  void configure(const std::string& lines) {
    load("ocsp_certificate = \"responder.pem\"\nocsp_private_key = \"responder.key\"\n" + lines);
    responder_.emplace(store_, *config_, [this] { return now_; });
  }
};

TEST_F(ExpiredCertificates, KeepTheirLastStatusByDefaultWithoutAnArchiveCutoff) {
  now_ = not_after() + 400 * 86400;
  const Parsed answer = ask(0x02);
  EXPECT_TRUE(answer.verified);
  EXPECT_EQ(answer.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_FALSE(archive_cutoff_of(last_.der).has_value());
  EXPECT_EQ(ask(0x01).cert_status, V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(ExpiredCertificates, AreUnknownWhenConfiguredSo) {
  configure("ocsp_expired = \"unknown\"");
  now_ = not_after() - 60;
  EXPECT_EQ(ask(0x02).cert_status, V_OCSP_CERTSTATUS_REVOKED);
  now_ = not_after() + 1;
  EXPECT_EQ(ask(0x02).cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_EQ(ask(0x01).cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(ExpiredCertificates, CarryTheArchiveCutoffForTheRetentionPeriodThenAreUnknown) {
  configure("ocsp_archive_cutoff_days = 30");
  now_ = not_after() - 60;
  ask(0x02);
  EXPECT_FALSE(archive_cutoff_of(last_.der).has_value());  // not expired: no cutoff
  now_ = not_after() + 10 * 86400;
  const Parsed answer = ask(0x02);
  EXPECT_TRUE(answer.verified);
  EXPECT_EQ(answer.cert_status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(archive_cutoff_of(last_.der), std::optional<UnixTime>(now_ - 30 * 86400));
  // OpenSSL's own printer names it.
  std::ofstream(dir_.path() / "expired.der", std::ios::binary) << last_.der;
  std::string text;
  EXPECT_EQ(testing::run_command(fmt::format("openssl ocsp -respin '{}' -resp_text -noverify",
                                             (dir_.path() / "expired.der").string()),
                                 &text),
            0);
  EXPECT_NE(text.find("OCSP Archive Cutoff"), std::string::npos) << text;
  now_ = not_after() + 31 * 86400;  // expired before the archive cutoff
  EXPECT_EQ(ask(0x02).cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(ExpiredCertificates, APresignedAnswerIsNotServedOnceTheCertificateHasExpired) {
  configure("ocsp_expired = \"unknown\"");
  now_ = not_after() - 300;
  ask(0x01);
  responder_->flush_pending();
  ask(0x01);
  ASSERT_TRUE(last_.from_store);
  now_ = not_after() + 1;  // the stored answer is still within its nextUpdate
  EXPECT_EQ(ask(0x01).cert_status, V_OCSP_CERTSTATUS_UNKNOWN);
  EXPECT_FALSE(last_.from_store);
}

TEST(ExpiredCertificateConfiguration, BadValuesAreRefusedWithTheLine) {
  for (const auto& [lines, needle] :
       {std::pair<std::string, std::string>{"ocsp_expired = \"maybe\"",
                                            "must be \"last_status\" or \"unknown\""},
        {"ocsp_expired = \"unknown\"\nocsp_archive_cutoff_days = 7",
         "keeps no status to give an archive cutoff for"}}) {
    try {
      config::Configuration::parse(std::string(config::kDefaultConfigToml) +
                                       "\n[[issuer]]\nname = \"ca\"\ncertificate = \"ca.pem\"\n" +
                                       lines + "\n",
                                   "revocore.toml", "/tmp");
      ADD_FAILURE() << lines;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("revocore.toml:"), std::string::npos) << e.what();
    }
  }
}

TEST(ConditionalRequest, IfNoneMatchListsStarsAndWeakTags) {
  const std::string_view tag = "\"abc\"";
  EXPECT_TRUE(if_none_match_holds("\"abc\"", tag));
  EXPECT_TRUE(if_none_match_holds("W/\"abc\"", tag));  // weak comparison (RFC 9110 8.8.3.2)
  EXPECT_TRUE(if_none_match_holds("\"x\", \"abc\"", tag));
  EXPECT_TRUE(if_none_match_holds("\"x\",\t W/\"abc\"", tag));
  EXPECT_TRUE(if_none_match_holds(" *", tag));
  EXPECT_FALSE(if_none_match_holds("\"abcd\"", tag));
  EXPECT_FALSE(if_none_match_holds("abc", tag));            // not an entity-tag
  EXPECT_FALSE(if_none_match_holds("\"x\" \"abc\"", tag));  // no comma: malformed
  EXPECT_FALSE(if_none_match_holds("\"abc", tag));
  EXPECT_FALSE(if_none_match_holds("", tag));
  EXPECT_FALSE(if_none_match_holds("*", ""));
}

TEST(ConditionalRequest, HttpDatesInAllThreeFormsAndNothingElse) {
  // RFC 9110 5.6.7's three examples are the same instant.
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), UnixTime{784111777});
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), UnixTime{784111777});
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), UnixTime{784111777});
  EXPECT_EQ(parse_http_date(http_date(2524608000)), UnixTime{2524608000});
  for (const char* bad : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT ", "1994-11-06T08:49:37Z"}) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
  }
}

class CrlRoutesTest : public RoutesTest {
 protected:
  HttpResponse get_if(const std::string& target, std::string_view if_none_match,
                      std::string_view if_modified_since = {}) {
    return handle(http::verb::get, target, "", 11, if_none_match, if_modified_since);
  }
  crl::CrlPublisher publisher() {
    return crl::CrlPublisher(store_, *config_, [this] { return now_; });
  }
};

TEST_F(CrlRoutesTest, CrlsHaveStrongETagsAndAnswer304UntilANewOneIsPublished) {
  publisher().publish("ca", crl::CrlKind::kFull);
  const HttpResponse first = get("/crl/ca.crl");
  ASSERT_EQ(first.result(), http::status::ok);
  EXPECT_EQ(first[http::field::content_type], "application/pkix-crl");
  const std::string etag(first[http::field::etag]);
  EXPECT_EQ(etag.size(), 34u);  // quoted, 128 bits in hex, strong (no W/)
  // Last-Modified only once the CRL's second is over: another CRL of the same second would
  // carry the same date (RFC 9110 8.8.2.2).
  EXPECT_TRUE(first[http::field::last_modified].empty());
  EXPECT_EQ(get_if("/crl/ca.crl", {}, http_date(now_)).result(), http::status::ok);
  const UnixTime published_at = now_;
  now_ += 1;
  EXPECT_EQ(get("/crl/ca.crl")[http::field::last_modified], http_date(published_at));
  // The configured cap (5 minutes by default), well inside nextUpdate (24 hours).
  EXPECT_EQ(first[http::field::cache_control],
            "max-age=300, public, no-transform, must-revalidate");
  EXPECT_EQ(first[http::field::expires], http_date(published_at + 300));

  const HttpResponse same = get_if("/crl/ca.crl", etag);
  EXPECT_EQ(same.result(), http::status::not_modified);
  EXPECT_TRUE(same.body().empty());
  EXPECT_EQ(same[http::field::etag], etag);
  EXPECT_EQ(same[http::field::expires], http_date(now_ + 300));
  EXPECT_EQ(get_if("/crl/ca.crl", "W/" + etag).result(), http::status::not_modified);
  EXPECT_EQ(get_if("/crl/ca.crl", "\"other\"").result(), http::status::ok);
  EXPECT_EQ(get_if("/crl/ca.crl", {}, http_date(published_at)).result(),
            http::status::not_modified);
  EXPECT_EQ(get_if("/crl/ca.crl", {}, http_date(published_at - 1)).result(), http::status::ok);
  EXPECT_EQ(get_if("/crl/ca.crl", {}, "not a date").result(), http::status::ok);
  // If-None-Match decides when both are present (RFC 9110 13.2.2).
  EXPECT_EQ(get_if("/crl/ca.crl", "\"other\"", http_date(published_at)).result(), http::status::ok);
  const HttpResponse head = handle(http::verb::head, "/crl/ca.crl", "");
  EXPECT_EQ(head[http::field::etag], etag);

  // A change: the new CRL is never answered 304 to the old tag, even within the same second.
  {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, 0x01), S::kRevoked,
                                 ReasonCode::kKeyCompromise, now_, "t", "op", 0});
    txn.commit();
  }
  const UnixTime changed_at = now_;
  publisher().publish_after({issuer_});
  const HttpResponse changed = get_if("/crl/ca.crl", etag);
  EXPECT_EQ(changed.result(), http::status::ok);
  EXPECT_NE(changed[http::field::etag], etag);
  EXPECT_GT(changed.body().size(), first.body().size());

  // Never cached past nextUpdate.
  now_ = changed_at + 24 * 3600 - 100;
  EXPECT_EQ(get("/crl/ca.crl")[http::field::cache_control],
            "max-age=100, public, no-transform, must-revalidate");
  now_ += 1000;
  EXPECT_EQ(get("/crl/ca.crl")[http::field::cache_control],
            "max-age=0, public, no-transform, must-revalidate");
}

TEST_F(CrlRoutesTest, ShardsAreServedUnderTheirPathsWithTheirList) {
  load("crl_shards = 2\ndistribution_point = \"http://crl.test/crl/ca/{shard}.crl\"\n");
  routes_.reset();
  publisher().publish_shards("ca", crl::CrlKind::kFull);
  const HttpResponse zero = get("/crl/ca/0.crl");
  EXPECT_EQ(zero.result(), http::status::ok);
  EXPECT_EQ(zero.body(), get("/crl/ca.crl").body());  // shard 0 keeps the single CRL's name
  const HttpResponse one = get("/crl/ca/1.crl");
  EXPECT_EQ(one.result(), http::status::ok);
  EXPECT_EQ(one.body(), get("/crl/ca-shard1.crl").body());
  EXPECT_EQ(get("/crl/ca/1-1.crl").body(), one.body());  // its numbered copy: CRL number 1
  EXPECT_EQ(get_if("/crl/ca/1.crl", one[http::field::etag]).result(), http::status::not_modified);
  const HttpResponse list = get("/crl/ca/shards.json");
  EXPECT_EQ(list[http::field::content_type], "application/json");
  EXPECT_NE(list.body().find("\"http://crl.test/crl/ca/1.crl\""), std::string::npos) << list.body();
  for (const char* missing : {"/crl/ca/2.crl", "/crl/ca/01.crl", "/crl/ca/1-delta.crl",
                              "/crl/ca/-1.crl", "/crl/ca/1.crl.pem", "/crl/ca/", "/crl/ca/x.crl",
                              "/crl/ca-shard0.crl", "/crl/ca/1024.crl"}) {
    EXPECT_EQ(get(missing).result(), http::status::not_found) << missing;
  }
}

TEST_F(CrlRoutesTest, PresignedOcspGetAnswersAre304ToTheirETag) {
  ASSERT_GT(presign_issuer(*responder_, "ca"), 0u);
  now_ += 10;  // signed ten seconds ago: Last-Modified is given
  const std::string path = "/" + base64(request({0x02}));
  const HttpResponse first = get(path);
  const std::string etag(first[http::field::etag]);
  ASSERT_FALSE(etag.empty());
  const HttpResponse again = get_if(path, etag);
  EXPECT_EQ(again.result(), http::status::not_modified);
  EXPECT_TRUE(again.body().empty());
  EXPECT_EQ(again[http::field::etag], etag);
  EXPECT_EQ(get_if(path, {}, first[http::field::last_modified]).result(),
            http::status::not_modified);
  EXPECT_EQ(get_if(path, "\"stale\"").result(), http::status::ok);
  // POST answers (and nonce answers) are never cached, so never 304.
  const HttpResponse posted =
      handle(http::verb::post, "/", request({0x02}), 11, etag, first[http::field::last_modified]);
  EXPECT_EQ(posted.result(), http::status::ok);
  // After a change the old answer's tag no longer matches: a released hold.
  const std::string path3 = "/" + base64(request({0x03}));
  const std::string etag3(get(path3)[http::field::etag]);
  {
    WriteTransaction txn = store_.write();
    set_certificate_status(txn, {testing::key_for(issuer_, 0x03), S::kValid,
                                 ReasonCode::kUnspecified, now_, "t", "op", 0});
    txn.commit();
  }
  const HttpResponse released = get_if(path3, etag3);
  EXPECT_EQ(released.result(), http::status::ok);
  EXPECT_EQ(parse(released.body(), request({0x03}), 0x03).cert_status, V_OCSP_CERTSTATUS_GOOD);
}

}  // namespace
}  // namespace revocore::ocsp
