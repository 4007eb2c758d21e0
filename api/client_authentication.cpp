#include "api/client_authentication.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "api/record_json.hpp"
#include "pki/x509_crl.hpp"
#include "revocation/error.hpp"

namespace revocore::api {
namespace {

pki::X509Certificate load_operator_ca(const config::AdminSettings& settings) {
  try {
    return std::move(pki::X509Certificate::load_file(settings.client_ca).front());
  } catch (const Error& e) {
    throw Error(ErrorCode::kInvalidConfig, fmt::format("[admin] client_ca: {}", e.what()));
  }
}

[[noreturn]] void refuse(const std::string& subject, std::string_view why) {
  throw Error(ErrorCode::kOperatorRefused,
              fmt::format("the client certificate '{}' is refused: {}", subject, why));
}

}  // namespace

ClientAuthenticator::ClientAuthenticator(const Store& store, const config::Configuration& config,
                                         Clock clock)
    : store_(store),
      config_(config),
      settings_(config.admin.value()),
      clock_(std::move(clock)),
      ca_(load_operator_ca(settings_)) {
  const std::string ca_der = ca_.der();
  for (const auto& issuer : config.issuers) {
    try {
      if (pki::X509Certificate::load_file(issuer.certificate).front().der() == ca_der) {
        store_issuer_name_ = issuer.name;
      }
    } catch (const Error&) {
      // An unreadable issuer certificate is reported by the commands that use it.
    }
  }
  if (config.self_service) {
    for (const auto& name : config.self_service->issuers) {
      const config::IssuerConfig* issuer = config.find_issuer(name);
      try {
        holder_issuers_.push_back(
            std::move(pki::X509Certificate::load_file(issuer->certificate).front()));
      } catch (const Error& e) {
        throw Error(ErrorCode::kInvalidConfig,
                    fmt::format("[self_service] issuer '{}': {}", name, e.what()));
      }
      holder_issuer_names_.push_back(name);
    }
  }
  if (store_issuer_name_.empty() && settings_.client_crl.empty()) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("{}: [admin] has no way to learn which operator certificates are "
                            "revoked; set client_crl to the operator CA's CRL, or configure the "
                            "operator CA ({}) as an [[issuer]] so revocore itself tracks them",
                            config.source, settings_.client_ca.string()));
  }
}

ApiCaller ClientAuthenticator::authenticate(X509* peer, STACK_OF(X509) * sent) const {
  if (peer == nullptr) {
    throw Error(ErrorCode::kNotAuthenticated,
                fmt::format("no client certificate was presented; the operator API needs one "
                            "issued by the operator CA '{}' (with curl: --cert FILE --key FILE)",
                            ca_.subject_text()));
  }
  ::X509_up_ref(peer);
  const pki::X509Certificate certificate{pki::ScopedX509(peer)};
  const std::string subject = certificate.subject_text();

  const pki::ScopedX509Store trusted(::X509_STORE_new());
  ::X509_STORE_add_cert(trusted.get(), ca_.handle());
  unsigned long flags = 0;
  if (!store_issuer_name_.empty()) {
    // Revocation comes from the store below.
  } else {
    pki::ScopedX509Crl crl;
    try {
      crl = pki::load_crl_file(settings_.client_crl);
    } catch (const Error& e) {
      // Fail closed: without the CRL nobody can tell whether this operator was revoked.
      // The file and why go to the log; the answer names no path (docs/RELIABILITY.md).
      spdlog::error("event=operator_crl_unreadable error=\"{}\"", e.what());
      refuse(subject, "the operator CA's CRL cannot be read; the server's log says why");
    }
    ::X509_STORE_add_crl(trusted.get(), crl.get());
    flags |= X509_V_FLAG_CRL_CHECK;
  }
  verify(trusted.get(), flags, peer, sent, certificate,
         fmt::format("the operator CA '{}'", ca_.subject_text()));
  ApiCaller identity{ApiCaller::Kind::kOperator, subject, certificate.serial().hex(), {}, {}, {}};
  if (!store_issuer_name_.empty()) {
    check_in_store(certificate, subject, identity);
  } else {
    identity.roles = config::roles_for_subject(config_.authorization, subject);
  }
  return identity;
}

ApiCaller ClientAuthenticator::authenticate_card_holder(X509* peer, STACK_OF(X509) * sent) const {
  if (holder_issuers_.empty()) {
    throw Error(ErrorCode::kNotAuthenticated,
                "self-service is not offered here ([self_service] is not configured); ask the "
                "help desk");
  }
  if (peer == nullptr) {
    throw Error(ErrorCode::kNotAuthenticated,
                fmt::format("no client certificate was presented; self-service needs a valid "
                            "certificate of one of your own credentials, issued by {}",
                            fmt::join(holder_issuer_names_, " or ")));
  }
  ::X509_up_ref(peer);
  const pki::X509Certificate certificate{pki::ScopedX509(peer)};
  const std::string subject = certificate.subject_text();

  const pki::ScopedX509Store trusted(::X509_STORE_new());
  for (const auto& issuer : holder_issuers_) {
    ::X509_STORE_add_cert(trusted.get(), issuer.handle());
  }
  // Revocation comes from the store below: a self-service issuer is one of revocore's own.
  const std::string issued_by =
      fmt::format("a self-service issuer ({})", fmt::join(holder_issuer_names_, ", "));
  const pki::ScopedX509StoreCtx context =
      verify(trusted.get(), 0, peer, sent, certificate, issued_by);
  // The store knows a certificate by its direct issuer: one issued by a CA below a self-service
  // issuer is not one revocore tracks.
  STACK_OF(X509)* chain = ::X509_STORE_CTX_get0_chain(context.get());
  X509* direct = chain != nullptr && sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : nullptr;
  std::string issuer_name;
  for (std::size_t i = 0; i < holder_issuers_.size() && direct != nullptr; ++i) {
    if (::X509_cmp(direct, holder_issuers_[i].handle()) == 0) {
      issuer_name = holder_issuer_names_[i];
    }
  }
  if (issuer_name.empty()) {
    refuse(subject, fmt::format("it was not issued directly by {}", issued_by));
  }

  const StoreTransaction txn = store_.read();
  const auto issuer = txn.issuer_by_name(issuer_name);
  const auto record =
      issuer ? txn.certificate(CertificateKey{issuer->id, certificate.serial()}) : std::nullopt;
  if (!record) {
    refuse(subject, fmt::format("serial {} of issuer '{}' is not registered in revocore; ask "
                                "the help desk",
                                certificate.serial().hex(), issuer_name));
  }
  if (record->status != CertificateStatus::kValid) {
    // Also the end of a card holder's access by their own process: a card deactivated with its
    // own certificate leaves that certificate on hold.
    refuse(subject, fmt::format("it is {} ({}) since {}; use a valid certificate of another of "
                                "your credentials, or ask the help desk",
                                to_string(record->status), to_string(record->reason),
                                format_time(record->revocation_time)));
  }
  const auto credential = txn.credential(record->credential_id);
  if (!credential || !txn.user(credential->user_id)) {
    refuse(subject, "its credential belongs to no user in revocore; ask the help desk");
  }
  ApiCaller identity{ApiCaller::Kind::kCardHolder,
                     subject,
                     certificate.serial().hex(),
                     credential->user_id,
                     {},
                     fmt::format("{}/{}", issuer_name, certificate.serial().hex())};
  return identity;
}

pki::ScopedX509StoreCtx ClientAuthenticator::verify(X509_STORE* trusted, unsigned long flags,
                                                    X509* peer, STACK_OF(X509) * sent,
                                                    const pki::X509Certificate& certificate,
                                                    const std::string& issued_by) const {
  const std::string subject = certificate.subject_text();
  X509_VERIFY_PARAM* param = ::X509_STORE_get0_param(trusted);
  // The trusted CA is trusted as configured, also when it is an intermediate CA.
  flags |= X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_USE_CHECK_TIME;
  ::X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(clock_()));
  // extendedKeyUsage, when present, must allow clientAuth (RFC 5280 4.2.1.12).
  ::X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_CLIENT);
  ::X509_VERIFY_PARAM_set_flags(param, flags);

  pki::ScopedX509StoreCtx context(::X509_STORE_CTX_new());
  if (!context || ::X509_STORE_CTX_init(context.get(), trusted, peer, sent) != 1) {
    refuse(subject, "it cannot be checked (out of memory)");
  }
  if (::X509_verify_cert(context.get()) != 1) {
    const int error = ::X509_STORE_CTX_get_error(context.get());
    switch (error) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        refuse(subject, fmt::format("it expired on {}; ask its CA for a new one",
                                    format_time(certificate.not_after())));
      case X509_V_ERR_CERT_NOT_YET_VALID:
        refuse(subject, "it is not valid yet");
      case X509_V_ERR_CERT_REVOKED:
        refuse(subject, fmt::format("the operator CA has revoked it (serial {})",
                                    certificate.serial().hex()));
      case X509_V_ERR_INVALID_PURPOSE:
        // The purpose check covers keyUsage and extendedKeyUsage alike; say which one failed.
        if ((::X509_get_extension_flags(peer) & EXFLAG_KUSAGE) != 0 &&
            (::X509_get_key_usage(peer) & (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)) == 0) {
          refuse(subject,
                 "its keyUsage allows neither digitalSignature nor keyAgreement, which TLS client "
                 "authentication needs (RFC 5280 4.2.1.3)");
        }
        refuse(subject, "its extendedKeyUsage does not allow clientAuth");
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        refuse(subject, fmt::format("it was not issued by {}", issued_by));
      case X509_V_ERR_CRL_HAS_EXPIRED:
      case X509_V_ERR_UNABLE_TO_GET_CRL:
      case X509_V_ERR_CRL_SIGNATURE_FAILURE:
      case X509_V_ERR_CRL_NOT_YET_VALID:
        spdlog::error("event=operator_crl_unusable file=\"{}\" error=\"{}\"",
                      settings_.client_crl.string(), ::X509_verify_cert_error_string(error));
        refuse(subject, fmt::format("revocation cannot be checked: the operator CA's CRL ({}) {}; "
                                    "an administrator must publish a current one",
                                    "client_crl", ::X509_verify_cert_error_string(error)));
      default:
        refuse(subject, ::X509_verify_cert_error_string(error));
    }
  }
  // A person or a program signs in, never a CA (RFC 5280 4.2.1.9): a CA certificate of the
  // trusted hierarchy is not a login.
  if (::X509_check_ca(peer) != 0) {
    refuse(subject,
           "it is a CA certificate (basicConstraints CA:TRUE); signing in needs an "
           "end-entity certificate");
  }
  return context;
}

void ClientAuthenticator::check_in_store(const pki::X509Certificate& certificate,
                                         const std::string& subject, ApiCaller& identity) const {
  const StoreTransaction txn = store_.read();
  const auto issuer = txn.issuer_by_name(store_issuer_name_);
  const auto record =
      issuer ? txn.certificate(CertificateKey{issuer->id, certificate.serial()}) : std::nullopt;
  if (!record) {
    refuse(subject, fmt::format("serial {} is not registered with issuer '{}' in revocore; "
                                "register it (POST /api/v1/certificates or `revocore import`) "
                                "so that revocore can revoke it",
                                certificate.serial().hex(), store_issuer_name_));
  }
  if (record->status != CertificateStatus::kValid) {
    refuse(subject, fmt::format("it is {} ({}) since {} in revocore", to_string(record->status),
                                to_string(record->reason), format_time(record->revocation_time)));
  }
  // Read on every request, like the status: locking or deactivating the operator's user
  // withdraws its roles, and with them every permission, on connections already open.
  if (const auto credential = txn.credential(record->credential_id)) {
    if (const auto user = txn.user(credential->user_id)) {
      identity.user_id = user->id;
      // A user who is not active has no rights, whatever roles its process left it.
      if (user->state == LifecycleState::kActive) {
        identity.roles = user->roles;
      }
    }
  }
}

}  // namespace revocore::api
