#pragma once
// Who is calling the operator API's listener, from the TLS client certificate, checked on every
// request so that a revocation takes effect on connections already open:
//   - an operator (every path but /api/v1/self): a certificate issued by the configured
//     operator CA, valid now and not revoked;
//   - a card holder (/api/v1/self, when [self_service] is configured): a certificate issued
//     directly by one of the self-service issuers, registered in revocore, valid there, of a
//     credential of the holder's own (docs/AUTHORIZATION.md).
//
// Revocation of operator certificates: when the operator CA is one of revocore's own [[issuer]]s,
// revocore's store is the authority (a certificate must be registered there and valid; locking
// the operator's user in revocore locks them out of the API at once). Otherwise the operator CA's
// CRL file (client_crl) is read on every check, so a newly published CRL needs no restart.
#include <optional>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "config/configuration.hpp"
#include "pki/x509_certificate.hpp"
#include "revocation/clock.hpp"
#include "revocation/store.hpp"

namespace revocore::api {

struct ApiCaller {
  enum class Kind { kOperator, kCardHolder };
  Kind kind = Kind::kOperator;
  std::string subject;  // RFC 2253, recorded as the operator in the audit
  std::string serial;   // hex, for logs
  // Operators: what decides their permissions (config/authorization.hpp) is the roles of the
  // user whose credential holds the certificate (store mode; empty when that user holds none),
  // or those [authorization] subject_roles gives the subject (client_crl mode).
  // Card holders: the user they are, and act on; they hold no roles here.
  std::string user_id;  // operators: store mode only
  std::vector<std::string> roles;
  std::string certificate;  // card holders: "ISSUER/SERIAL" of the certificate used
};

class ClientAuthenticator {
 public:
  // Loads the operator CA and decides where revocations come from. Throws kInvalidConfig when
  // the CA cannot be read, or when there is no source of revocations (neither client_crl nor the
  // operator CA configured as an [[issuer]]): an API whose revoked operators still get in is
  // worse than none.
  ClientAuthenticator(const Store& store, const config::Configuration& config, Clock clock);

  // `peer` is the client's certificate (null when none was sent), `sent` the other certificates
  // it sent (may be null). Throws kNotAuthenticated without a certificate, kOperatorRefused with
  // what was wrong and what to do.
  ApiCaller authenticate(X509* peer, STACK_OF(X509) * sent) const;

  // A card holder on /api/v1/self: throws kNotAuthenticated without a certificate or when
  // [self_service] is not configured, kOperatorRefused with what was wrong and what to do.
  ApiCaller authenticate_card_holder(X509* peer, STACK_OF(X509) * sent) const;

  // The self-service issuers' certificates, for TLS's list of acceptable CAs.
  const std::vector<pki::X509Certificate>& self_service_issuers() const noexcept {
    return holder_issuers_;
  }

  // The operator CA's subject, for TLS's list of acceptable CAs and for messages.
  const pki::X509Certificate& operator_ca() const noexcept { return ca_; }

 private:
  // The certificate's record must be valid; fills in its user and that user's roles.
  void check_in_store(const pki::X509Certificate& certificate, const std::string& subject,
                      ApiCaller& identity) const;

  // Verifies `peer` against `trusted` (with `flags`), turning each failure into a refusal that
  // says what to do; `issued_by` names the trusted CAs in messages. Returns the verified chain's
  // context.
  pki::ScopedX509StoreCtx verify(X509_STORE* trusted, unsigned long flags, X509* peer,
                                 STACK_OF(X509) * sent, const pki::X509Certificate& certificate,
                                 const std::string& issued_by) const;

  const Store& store_;  // read only: revocations of operator certificates
  const config::Configuration& config_;
  const config::AdminSettings& settings_;
  Clock clock_;
  pki::X509Certificate ca_;
  std::string store_issuer_name_;  // the [[issuer]] that is the operator CA; empty: none
  // [self_service] issuers, in the order of holder_issuer_names_.
  std::vector<pki::X509Certificate> holder_issuers_;
  std::vector<std::string> holder_issuer_names_;
};

}  // namespace revocore::api
