#pragma once
// The issuers an OCSP responder answers for, each with its signer and what its responses repeat:
// loaded and checked once when the responder starts.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/configuration.hpp"
#include "ocsp/ocsp_request.hpp"
#include "pki/signer.hpp"
#include "pki/x509_certificate.hpp"
#include "revocation/store.hpp"

namespace revocore::ocsp {

struct ResponderIssuer {
  ResponderIssuer(IssuerId id_, std::string name_, pki::X509Certificate ca_, pki::Signer signer_,
                  bool delegated_)
      : id(id_),
        name(std::move(name_)),
        ca(std::move(ca_)),
        signer(std::move(signer_)),
        delegated(delegated_) {}

  IssuerId id = 0;  // in the store
  std::string name;
  pki::X509Certificate ca;
  // The delegated responder's key and certificate, or the CA's own (RFC 6960 4.2.2.2).
  pki::Signer signer;
  bool delegated = false;
  // For certificates past notAfter (config::IssuerConfig).
  config::ExpiredOcsp expired_ocsp = config::ExpiredOcsp::kLastStatus;
  std::int64_t archive_retention_seconds = 0;
  // What CertIDs name the CA by (RFC 6960 4.1.1): hashes of its subject and public key.
  std::string name_sha1, key_sha1, name_sha256, key_sha256;
  // Fixed parts of every BasicOCSPResponse of this issuer, encoded once.
  std::string responder_id;  // byKey [2] EXPLICIT KeyHash (RFC 6960 4.2.2.3)
  std::string certs;         // [0] EXPLICIT SEQUENCE OF Certificate: the delegated responder's

  // True when the CertID names this CA.
  bool is_named_by(const CertIdView& id) const noexcept;
};

// Every configured issuer that has an OCSP signer: a delegated responder (ocsp_certificate and
// ocsp_private_key, which must carry id-kp-OCSPSigning and be issued by the CA) or the CA key
// that signs its CRLs. Issuers with neither are left out (their requests get unauthorized).
// Throws kInvalidConfig naming the issuer and file, kNotFound for one not in the store (or, with
// `missing`, a replica's, lists it there and leaves it out).
std::vector<std::unique_ptr<ResponderIssuer>> load_responder_issuers(
    const config::Configuration& config, const StoreTransaction& txn,
    std::vector<std::string>* missing = nullptr);

}  // namespace revocore::ocsp
