#include "ocsp/presigned_responses.hpp"

#include <fmt/format.h>
#include <openssl/ocsp.h>

#include "ocsp/ocsp_responder.hpp"
#include "ocsp/responder_issuer.hpp"
#include "pki/openssl_handles.hpp"
#include "revocation/error.hpp"

namespace revocore::ocsp {

void PresignedResponseQueue::push(const CertificateKey& key, std::uint8_t cert_id_hash,
                                  const PresignedResponse& response) {
  Pending pending{key,
                  cert_id_hash,
                  response.status_sequence,
                  response.this_update,
                  response.next_update,
                  std::string(response.sha1),
                  std::string(response.der)};
  const std::lock_guard lock(mutex_);
  pending_.push_back(std::move(pending));
}

std::size_t PresignedResponseQueue::flush(Store& store) {
  std::vector<Pending> batch;
  {
    const std::lock_guard lock(mutex_);
    batch.swap(pending_);
  }
  if (batch.empty()) {
    return 0;
  }
  WriteTransaction txn = store.write();
  for (const Pending& pending : batch) {
    txn.put_presigned_response(pending.key, pending.cert_id_hash,
                               PresignedResponse{pending.status_sequence, pending.this_update,
                                                 pending.next_update, pending.sha1, pending.der});
  }
  txn.commit();
  return batch.size();
}

std::size_t presign_issuer(OcspResponder& responder, std::string_view issuer_name) {
  const ResponderIssuer* issuer = responder.issuer_named(issuer_name);
  if (issuer == nullptr) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("issuer '{}' is not served by the OCSP responder (no OCSP or CA key "
                            "configured)",
                            issuer_name));
  }
  // Serials first, then sign outside the read transaction (signing is slow; keep readers short).
  std::vector<std::string> serials;
  responder.store().read().for_each_certificate_of(
      issuer->id, [&](const CertificateStatusView& c) { serials.emplace_back(c.serial_octets); });
  // Each certificate is asked about as a relying party would, once per CertID hash: answering
  // a request signs and queues the response when the stored one is missing or stale.
  std::size_t signed_count = 0;
  OcspAnswer answer;
  for (const auto& octets : serials) {
    std::string integer_der{'\x02', static_cast<char>(octets.size())};
    integer_der += octets;
    const auto* p = reinterpret_cast<const unsigned char*>(integer_der.data());
    pki::ScopedAsn1Integer integer(
        ::d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(integer_der.size())));
    for (const EVP_MD* md : {::EVP_sha1(), ::EVP_sha256()}) {
      pki::ScopedOcspCertId id(::OCSP_cert_id_new(md, ::X509_get_subject_name(issuer->ca.handle()),
                                                  ::X509_get0_pubkey_bitstr(issuer->ca.handle()),
                                                  integer.get()));
      pki::ScopedOcspRequest request(::OCSP_REQUEST_new());
      ::OCSP_request_add0_id(request.get(), ::OCSP_CERTID_dup(id.get()));
      unsigned char* der = nullptr;
      const int length = ::i2d_OCSP_REQUEST(request.get(), &der);
      pki::ScopedOpenSslBytes owned(der);
      responder.answer(std::string_view(reinterpret_cast<const char*>(der), length), answer);
      if (answer.outcome == OcspOutcome::kInternalError) {
        throw Error(
            ErrorCode::kSigning,
            fmt::format("issuer '{}': a response could not be signed; see the log", issuer_name));
      }
      if (!answer.from_store) {
        ++signed_count;
      }
    }
    if (signed_count % 4096 == 0) {
      responder.flush_pending();
    }
  }
  responder.flush_pending();
  return signed_count;
}

}  // namespace revocore::ocsp
