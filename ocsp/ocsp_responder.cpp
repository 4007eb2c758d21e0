#include "ocsp/ocsp_responder.hpp"

#include <fmt/format.h>
#include <openssl/err.h>

#include <atomic>

#include "ocsp/ocsp_request.hpp"
#include "pki/private_key.hpp"
#include "revocation/codec.hpp"
#include "revocation/error.hpp"

namespace revocore::ocsp {
namespace {

constexpr std::uint8_t kStoredResponseVersion = 1;
constexpr std::size_t kStoredHeaderSize = 1 + 8 + 8 + 8 + 20;  // version, seq, times, SHA-1

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ::EVP_Digest(data.data(), data.size(), out, &length, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), length);
}

// An ETag (RFC 9110 8.8.3): the SHA-1 of the response in quoted hex, written into `out`'s
// existing capacity.
void quoted_hex(std::string_view bytes, std::string& out) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  out.assign(1, '"');
  for (const char c : bytes) {
    const auto octet = static_cast<std::uint8_t>(c);
    out.push_back(kHex[octet >> 4]);
    out.push_back(kHex[octet & 0x0F]);
  }
  out.push_back('"');
}

// Store key of a pre-signed response: the certificate key and the CertID hash algorithm.
std::string stored_key(std::string_view certificate_key, HashAlgorithm hash) {
  std::string key(certificate_key);
  key.push_back(static_cast<char>(hash));
  return key;
}

pki::ScopedAsn1Time generalized_time(UnixTime t) {
  return pki::ScopedAsn1Time(::ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(t)));
}

}  // namespace

std::string_view to_string(OcspOutcome outcome) noexcept {
  switch (outcome) {
    case OcspOutcome::kGood:
      return "good";
    case OcspOutcome::kRevoked:
      return "revoked";
    case OcspOutcome::kUnknown:
      return "unknown";
    case OcspOutcome::kMalformedRequest:
      return "malformed_request";
    case OcspOutcome::kUnauthorized:
      return "unauthorized";
    case OcspOutcome::kInternalError:
      return "internal_error";
  }
  return "invalid";
}

std::string error_response(OcspOutcome outcome) {
  // OCSPResponse ::= SEQUENCE { responseStatus OCSPResponseStatus (ENUMERATED), ... }
  // RFC 6960 4.2.1: malformedRequest (1), internalError (2), unauthorized (6).
  char status = 2;
  if (outcome == OcspOutcome::kMalformedRequest) {
    status = 1;
  } else if (outcome == OcspOutcome::kUnauthorized) {
    status = 6;
  }
  return std::string{'\x30', '\x03', '\x0a', '\x01', status};
}

std::uint64_t next_generation() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

// An issuer this responder answers for, with the hashes CertIDs name it by (RFC 6960 4.1.1).
struct OcspResponder::Issuer {
  // Never reused, unlike an address: names this issuer's signing contexts kept per thread.
  std::uint64_t generation = next_generation();
  IssuerId id = 0;
  std::string name;
  std::string name_sha1, key_sha1, name_sha256, key_sha256;
  std::optional<pki::X509Certificate> ca;
  std::optional<pki::X509Certificate> signer;  // the delegated responder, or the CA again
  pki::ScopedEvpPkey key;
  const EVP_MD* digest = nullptr;  // null for Ed25519
  bool delegated = false;
};

// One CertID and what to say about it.
struct OcspResponder::Answerable {
  OCSP_CERTID* id = nullptr;
  OcspOutcome status = OcspOutcome::kUnknown;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  UnixTime revocation_time = 0;
};

OcspResponder::OcspResponder(Store& store, const config::Configuration& config, Clock clock)
    : store_(store), settings_(config.ocsp), clock_(std::move(clock)) {
  const StoreTransaction txn = store_.read();
  for (const auto& configured : config.issuers) {
    const std::string owner = fmt::format("issuer '{}'", configured.name);
    auto issuer = std::make_unique<Issuer>();
    issuer->name = configured.name;
    try {
      issuer->ca.emplace(
          std::move(pki::X509Certificate::load_file(configured.certificate).front()));
    } catch (const Error& e) {
      throw Error(ErrorCode::kInvalidConfig, fmt::format("{}: {}", owner, e.what()));
    }
    if (!configured.ocsp_certificate.empty()) {
      try {
        issuer->signer.emplace(
            std::move(pki::X509Certificate::load_file(configured.ocsp_certificate).front()));
      } catch (const Error& e) {
        throw Error(ErrorCode::kInvalidConfig, fmt::format("{}: {}", owner, e.what()));
      }
      issuer->key = pki::load_private_key(owner, configured.ocsp_private_key);
      issuer->delegated = true;
      // RFC 6960 4.2.2.2: a delegated responder certificate is issued by the CA itself and
      // carries id-kp-OCSPSigning.
      if (!issuer->signer->is_issued_by(*issuer->ca)) {
        throw Error(
            ErrorCode::kInvalidConfig,
            fmt::format("{}: the OCSP responder certificate {} is not issued by {}", owner,
                        configured.ocsp_certificate.string(), configured.certificate.string()));
      }
      if (!(::X509_get_extended_key_usage(issuer->signer->handle()) & XKU_OCSP_SIGN)) {
        throw Error(ErrorCode::kInvalidConfig,
                    fmt::format("{}: the OCSP responder certificate {} lacks the extended key "
                                "usage id-kp-OCSPSigning",
                                owner, configured.ocsp_certificate.string()));
      }
    } else if (configured.crl) {
      issuer->signer.emplace(issuer->ca->share());  // the CA signs its own answers
      issuer->key = pki::load_private_key(owner, configured.crl->private_key);
    } else {
      continue;  // no key: not served, requests for it get unauthorized
    }
    if (::X509_check_private_key(issuer->signer->handle(), issuer->key.get()) != 1) {
      ::ERR_clear_error();
      throw Error(ErrorCode::kInvalidConfig,
                  fmt::format("{}: the OCSP signing key does not match its certificate", owner));
    }
    issuer->digest = pki::signature_digest(owner, issuer->key.get());
    const auto record = txn.issuer_by_name(configured.name);
    if (!record) {
      throw Error(ErrorCode::kNotFound,
                  fmt::format("{} is configured but not registered in the store; run `revocore "
                              "init` to register it",
                              owner));
    }
    issuer->id = record->id;
    const std::string subject = issuer->ca->subject_der();
    const ASN1_BIT_STRING* public_key = ::X509_get0_pubkey_bitstr(issuer->ca->handle());
    const std::string key_bits(reinterpret_cast<const char*>(public_key->data),
                               static_cast<std::size_t>(public_key->length));
    issuer->name_sha1 = digest(::EVP_sha1(), subject);
    issuer->key_sha1 = digest(::EVP_sha1(), key_bits);
    issuer->name_sha256 = digest(::EVP_sha256(), subject);
    issuer->key_sha256 = digest(::EVP_sha256(), key_bits);
    issuers_.push_back(std::move(issuer));
  }
}

OcspResponder::~OcspResponder() = default;

const OcspResponder::Issuer* OcspResponder::find_issuer(const CertIdView& id) const noexcept {
  if (!id.hash) {
    return nullptr;
  }
  for (const auto& issuer : issuers_) {
    const bool sha1 = *id.hash == HashAlgorithm::kSha1;
    if (id.issuer_name_hash == (sha1 ? issuer->name_sha1 : issuer->name_sha256) &&
        id.issuer_key_hash == (sha1 ? issuer->key_sha1 : issuer->key_sha256)) {
      return issuer.get();
    }
  }
  return nullptr;
}

OcspAnswer OcspResponder::answer(std::string_view request_der) noexcept {
  OcspAnswer answer;
  this->answer(request_der, answer);
  return answer;
}

void OcspResponder::answer(std::string_view request_der, OcspAnswer& answer) noexcept {
  answer.der.clear();
  answer.etag.clear();
  answer.from_store = false;
  answer.this_update = 0;
  answer.next_update = 0;
  try {
    answer_or_throw(request_der, answer);
  } catch (...) {
    // RFC 6960 2.3: internalError, never a crash or a silence.
    ::ERR_clear_error();
    answer.outcome = OcspOutcome::kInternalError;
    answer.der = error_response(answer.outcome);
    answer.etag.clear();
    answer.from_store = false;
  }
}

void OcspResponder::answer_or_throw(std::string_view request_der, OcspAnswer& answer) {
  DecodedRequest decoded = decode_ocsp_request(request_der, settings_.max_cert_ids);
  if (!decoded.request) {
    answer.outcome = OcspOutcome::kMalformedRequest;
    answer.der = error_response(answer.outcome);
    return;
  }
  OcspRequest& request = *decoded.request;
  const Issuer* issuer = find_issuer(request.ids.front());
  for (const auto& id : request.ids) {
    if (issuer == nullptr || find_issuer(id) != issuer) {
      // One signer per response: every CertID must name an issuer this responder serves.
      answer.outcome = OcspOutcome::kUnauthorized;
      answer.der = error_response(answer.outcome);
      return;
    }
  }

  const UnixTime now = clock_();
  std::vector<Answerable> answers;
  answers.reserve(request.ids.size());
  std::string cache_key;
  std::uint64_t status_sequence = 0;
  {
    const StoreTransaction txn = store_.read();
    const Databases& dbs = txn.databases();
    for (const auto& id : request.ids) {
      Answerable item;
      item.id = id.id;
      if (id.serial) {
        std::array<char, CertificateKey::kMaxEncodedSize> buffer;
        const std::string_view key = CertificateKey{issuer->id, *id.serial}.encode(buffer);
        std::string_view value;
        CertificateStatusView status;
        if (txn.raw().get(dbs.certificates, key, value) &&
            decode_certificate_status(key, value, status)) {
          if (status.status == CertificateStatus::kValid) {
            item.status = OcspOutcome::kGood;
          } else {
            item.status = OcspOutcome::kRevoked;
            item.revocation_time = status.revocation_time;
            // RFC 6960 2.2: on hold is revoked with reason certificateHold.
            item.reason = status.reason == ReasonCode::kUnspecified
                              ? OCSP_REVOKED_STATUS_NOSTATUS
                              : static_cast<int>(status.reason);
          }
          if (request.ids.size() == 1 && !request.has_nonce) {
            cache_key = stored_key(key, *id.hash);
            status_sequence = status.status_sequence;
            std::string_view stored;
            if (txn.raw().get(dbs.ocsp_responses, cache_key, stored) &&
                stored.size() > kStoredHeaderSize && stored[0] == kStoredResponseVersion) {
              const std::uint64_t signed_for = codec::load_u64_at(stored.data() + 1);
              const auto this_update = static_cast<UnixTime>(codec::load_u64_at(stored.data() + 9));
              const auto next_update =
                  static_cast<UnixTime>(codec::load_u64_at(stored.data() + 17));
              // Served only when signed for the status read in this very transaction.
              if (signed_for == status.status_sequence && this_update <= now &&
                  now < next_update - settings_.refresh_before_seconds) {
                answer.der.assign(stored.substr(kStoredHeaderSize));
                answer.outcome = item.status;
                answer.from_store = true;
                answer.this_update = this_update;
                answer.next_update = next_update;
                quoted_hex(stored.substr(25, 20), answer.etag);
                return;
              }
            }
          }
        }
      }
      answers.push_back(item);
    }
  }

  answer.this_update = now;
  answer.next_update = now + settings_.response_validity_seconds;
  answer.der = sign(*issuer, answers, request.has_nonce ? request.request.get() : nullptr,
                    answer.this_update, answer.next_update);
  answer.outcome = answers.front().status;
  // A nonce makes the response unique: no ETag, not for HTTP caches.
  const std::string sha1 = request.has_nonce ? std::string() : digest(::EVP_sha1(), answer.der);
  if (!request.has_nonce) {
    quoted_hex(sha1, answer.etag);
  }
  if (!cache_key.empty()) {
    std::string value;
    codec::ByteWriter w(value);
    w.u8(kStoredResponseVersion);
    w.u64(status_sequence);
    w.i64(answer.this_update);
    w.i64(answer.next_update);
    w.bytes(sha1);
    w.bytes(answer.der);
    const std::lock_guard lock(pending_mutex_);
    pending_.emplace_back(std::move(cache_key), std::move(value));
  }
}

std::string OcspResponder::sign(const Issuer& issuer, const std::vector<Answerable>& answers,
                                OCSP_REQUEST* nonce_from, UnixTime this_update,
                                UnixTime next_update) const {
  pki::ScopedOcspBasicResponse basic(::OCSP_BASICRESP_new());
  const pki::ScopedAsn1Time this_time = generalized_time(this_update);
  const pki::ScopedAsn1Time next_time = generalized_time(next_update);
  for (const Answerable& item : answers) {
    int status = V_OCSP_CERTSTATUS_UNKNOWN;
    pki::ScopedAsn1Time revoked_at;
    if (item.status == OcspOutcome::kGood) {
      status = V_OCSP_CERTSTATUS_GOOD;
    } else if (item.status == OcspOutcome::kRevoked) {
      status = V_OCSP_CERTSTATUS_REVOKED;
      revoked_at = generalized_time(item.revocation_time);
    }
    if (::OCSP_basic_add1_status(basic.get(), item.id, status, item.reason, revoked_at.get(),
                                 this_time.get(), next_time.get()) == nullptr) {
      throw Error(ErrorCode::kStoreIo, "cannot add a SingleResponse");
    }
  }
  // RFC 9654: the request's nonce, echoed.
  if (nonce_from != nullptr && ::OCSP_copy_nonce(basic.get(), nonce_from) <= 0) {
    throw Error(ErrorCode::kStoreIo, "cannot copy the nonce");
  }
  // Setting up a signing context fetches the algorithm from the provider every time in
  // OpenSSL 3, a large part of a P-256 signature's cost; each thread keeps one set up per issuer
  // and signs with a copy of it.
  thread_local std::vector<std::pair<std::uint64_t, pki::ScopedEvpMdCtx>> templates;
  EVP_MD_CTX* prototype = nullptr;
  for (auto& [generation, ready] : templates) {
    if (generation == issuer.generation) {
      prototype = ready.get();
    }
  }
  if (prototype == nullptr) {
    pki::ScopedEvpMdCtx ready(::EVP_MD_CTX_new());
    if (::EVP_DigestSignInit(ready.get(), nullptr, issuer.digest, nullptr, issuer.key.get()) != 1) {
      throw Error(ErrorCode::kStoreIo, "cannot start signing");
    }
    prototype = ready.get();
    templates.emplace_back(issuer.generation, std::move(ready));
  }
  pki::ScopedEvpMdCtx ctx(::EVP_MD_CTX_new());
  if (::EVP_MD_CTX_copy_ex(ctx.get(), prototype) != 1) {
    throw Error(ErrorCode::kStoreIo, "cannot copy the signing context");
  }
  // responderID by key hash (RFC 6960 4.2.2.3); a delegated responder's certificate goes in
  // `certs` so clients can check it (4.2.2.2), the CA's does not.
  const unsigned long flags = OCSP_RESPID_KEY | (issuer.delegated ? 0 : OCSP_NOCERTS);
  if (::OCSP_basic_sign_ctx(basic.get(), issuer.signer->handle(), ctx.get(), nullptr, flags) != 1) {
    throw Error(ErrorCode::kStoreIo, "cannot sign the response");
  }
  pki::ScopedOcspResponse response(
      ::OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  unsigned char* der = nullptr;
  const int length = ::i2d_OCSP_RESPONSE(response.get(), &der);
  pki::ScopedOpenSslBytes owned(der);
  if (length <= 0) {
    throw Error(ErrorCode::kStoreIo, "cannot encode the response");
  }
  return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
}

std::size_t OcspResponder::flush_pending() {
  std::vector<std::pair<std::string, std::string>> batch;
  {
    const std::lock_guard lock(pending_mutex_);
    batch.swap(pending_);
  }
  if (batch.empty()) {
    return 0;
  }
  WriteTransaction txn = store_.write();
  const MDB_dbi dbi = txn.databases().ocsp_responses;
  for (const auto& [key, value] : batch) {
    txn.raw().put(dbi, key, value);
  }
  txn.commit();
  return batch.size();
}

std::size_t OcspResponder::presign(std::string_view issuer_name) {
  const Issuer* issuer = nullptr;
  for (const auto& candidate : issuers_) {
    if (candidate->name == issuer_name) {
      issuer = candidate.get();
    }
  }
  if (issuer == nullptr) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("issuer '{}' is not served by the OCSP responder (no OCSP or CA key "
                            "configured)",
                            issuer_name));
  }
  // Serials first, then sign outside the read transaction (signing is slow; keep readers short).
  std::vector<std::string> serials;
  store_.read().for_each_certificate_of(
      issuer->id, [&](const CertificateStatusView& c) { serials.emplace_back(c.serial_octets); });
  std::size_t signed_count = 0;
  for (const auto& octets : serials) {
    std::string integer_der{'\x02', static_cast<char>(octets.size())};
    integer_der += octets;
    const auto* p = reinterpret_cast<const unsigned char*>(integer_der.data());
    pki::ScopedAsn1Integer integer(
        ::d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(integer_der.size())));
    for (const auto& [hash, md] : {std::pair{HashAlgorithm::kSha1, ::EVP_sha1()},
                                   std::pair{HashAlgorithm::kSha256, ::EVP_sha256()}}) {
      pki::ScopedOcspCertId id(::OCSP_cert_id_new(md, ::X509_get_subject_name(issuer->ca->handle()),
                                                  ::X509_get0_pubkey_bitstr(issuer->ca->handle()),
                                                  integer.get()));
      pki::ScopedOcspRequest request(::OCSP_REQUEST_new());
      ::OCSP_request_add0_id(request.get(), ::OCSP_CERTID_dup(id.get()));
      unsigned char* der = nullptr;
      const int length = ::i2d_OCSP_REQUEST(request.get(), &der);
      pki::ScopedOpenSslBytes owned(der);
      const OcspAnswer answer =
          this->answer(std::string_view(reinterpret_cast<const char*>(der), length));
      if (!answer.from_store) {
        ++signed_count;
      }
    }
    if (signed_count % 4096 == 0) {
      flush_pending();
    }
  }
  flush_pending();
  return signed_count;
}

}  // namespace revocore::ocsp
