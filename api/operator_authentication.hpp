#pragma once
// Who is calling the operator API: the subject of a client certificate issued by the configured
// operator CA, valid now and not revoked. Checked on every request, so a revocation takes effect
// on connections already open.
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

struct OperatorIdentity {
  std::string subject;  // RFC 2253, recorded as the operator in the audit
  std::string serial;   // hex, for logs
  // What decides the operator's permissions (config/authorization.hpp): the roles of the user
  // whose credential holds the certificate (store mode; empty when that user holds none), or
  // those [authorization] subject_roles gives the subject (client_crl mode).
  std::string user_id;  // store mode only
  std::vector<std::string> roles;
};

class OperatorAuthenticator {
 public:
  // Loads the operator CA and decides where revocations come from. Throws kInvalidConfig when
  // the CA cannot be read, or when there is no source of revocations (neither client_crl nor the
  // operator CA configured as an [[issuer]]): an API whose revoked operators still get in is
  // worse than none.
  OperatorAuthenticator(const Store& store, const config::Configuration& config, Clock clock);

  // `peer` is the client's certificate (null when none was sent), `sent` the other certificates
  // it sent (may be null). Throws kNotAuthenticated without a certificate, kOperatorRefused with
  // what was wrong and what to do.
  OperatorIdentity authenticate(X509* peer, STACK_OF(X509) * sent) const;

  // The operator CA's subject, for TLS's list of acceptable CAs and for messages.
  const pki::X509Certificate& operator_ca() const noexcept { return ca_; }

 private:
  // The certificate's record must be valid; fills in its user and that user's roles.
  void check_in_store(const pki::X509Certificate& certificate, const std::string& subject,
                      OperatorIdentity& identity) const;

  const Store& store_;  // read only: revocations of operator certificates
  const config::Configuration& config_;
  const config::AdminSettings& settings_;
  Clock clock_;
  pki::X509Certificate ca_;
  std::string store_issuer_name_;  // the [[issuer]] that is the operator CA; empty: none
};

}  // namespace revocore::api
