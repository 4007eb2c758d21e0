#pragma once
// The TOML configuration: store settings, issuers, the default role and the lifecycle policy
// (per process: what it requires, what it does per credential type, its reasons, whether it
// needs approval). Validated completely at load; a bad file is refused with its name, the line
// and what to change.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/authorization.hpp"
#include "revocation/types.hpp"

namespace revocore::config {

// The symbolic names of the processes the command line and API offer; each must be configured.
inline constexpr std::string_view kUsersProcLock = "UsersProcLock";
inline constexpr std::string_view kUsersProcDeactivate = "UsersProcDeactivate";
inline constexpr std::string_view kUsersProcReactivate = "UsersProcReactivate";
inline constexpr std::string_view kCardsProcDeactivate = "CardsProcDeactivate";
inline constexpr std::string_view kCardsProcLock = "CardsProcLock";
inline constexpr std::string_view kCardsProcReactivate = "CardsProcReactivate";
inline constexpr std::array<std::string_view, 6> kRequiredProcesses = {
    kUsersProcLock,       kUsersProcDeactivate, kUsersProcReactivate,
    kCardsProcDeactivate, kCardsProcLock,       kCardsProcReactivate};

// A process acts on a user (and its credentials), on one credential, or on one certificate by
// issuer and serial (a single key compromise: CertsProcRevoke, CertsProcHold, CertsProcRelease).
enum class ProcessTarget { kUser, kCredential, kCertificate };
std::string_view to_string(ProcessTarget target) noexcept;  // "user", "credential", "certificate"

// The symbolic names of the certificate processes of the default policy (optional in a file).
inline constexpr std::string_view kCertsProcRevoke = "CertsProcRevoke";
inline constexpr std::string_view kCertsProcHold = "CertsProcHold";
inline constexpr std::string_view kCertsProcRelease = "CertsProcRelease";
enum class RolesEffect { kKeep, kWithdrawAll, kDefaultOnly };
enum class RelationsEffect { kKeep, kDeactivate, kActivate };

struct Reason {
  std::string label;  // what the operator picks, e.g. "Left the organisation"
  ReasonCode code = ReasonCode::kUnspecified;
};

// What a process does to a related credential of one type.
struct CredentialRule {
  std::vector<LifecycleState> from;  // credentials in other states are left alone
  LifecycleState to = LifecycleState::kActive;
  CertificateTarget certificates = CertificateTarget::kUnchanged;
  // Reason for revocations by this rule when the operator's reason cannot end a certificate.
  std::optional<ReasonCode> revocation_reason;

  bool applies_to(LifecycleState state) const noexcept;
};

struct ProcessPolicy {
  std::string name;   // symbolic name, e.g. UsersProcLock
  std::string title;  // e.g. "Lock user"
  ProcessTarget target = ProcessTarget::kUser;
  std::vector<LifecycleState> required_state;
  std::optional<LifecycleState> user_end_state;  // user processes only
  RolesEffect roles = RolesEffect::kKeep;
  RelationsEffect relations = RelationsEffect::kKeep;
  bool approval = false;
  std::vector<Reason> reasons;
  std::array<std::optional<CredentialRule>, 6> rules;  // indexed by CredentialType value
  // Certificate processes only: the statuses it applies to and the one it sets.
  std::vector<CertificateStatus> required_status;
  CertificateStatus certificate_end_status = CertificateStatus::kRevoked;

  const Reason* find_reason(std::string_view label) const noexcept;
  const CredentialRule* rule_for(CredentialType type) const noexcept;
  bool requires_state(LifecycleState state) const noexcept;
};

// How an issuer's CRLs are made and published (RFC 5280 5). Present when the issuer has a key.
struct CrlSettings {
  // A PEM file (resolved against the configuration's folder) or a PKCS#11 URI (RFC 7512), kept
  // as written: pkcs11:token=...;object=...;pin-source=file:/etc/revocore/pin
  std::filesystem::path private_key;
  std::filesystem::path publish_directory;
  std::int64_t validity_seconds = 24 * 3600;  // nextUpdate - thisUpdate of a full CRL
  std::int64_t overlap_seconds = 6 * 3600;    // regenerate this long before nextUpdate
  std::string distribution_point;             // issuingDistributionPoint URI; empty: none
  bool delta_crls = false;
  std::string delta_distribution_point;        // freshestCRL URI on full CRLs
  std::int64_t delta_validity_seconds = 3600;  // nextUpdate - thisUpdate of a delta CRL
  bool pem = false;                            // also write .pem copies
  bool keep_expired = false;                   // keep expired certificates listed
  std::int64_t expired_grace_seconds = 0;      // else list them this long past notAfter
  // crl_shards: how many CRLs the issuer's certificates are spread over (RFC 5280 5.2.5,
  // docs/CRL.md). New certificates are bound to one of this many; bound ones never move.
  std::uint16_t shards = 1;
  std::string shards_origin;  // "file:line" of crl_shards (or of the [[issuer]]), for messages
  // With delta CRLs: a new full CRL at least this often (0: only when nextUpdate - overlap is
  // reached); between them each change publishes a delta over the current full CRL.
  std::int64_t full_crl_interval_seconds = 0;
  // Every change publishes new full CRLs of the shards it touched (and, with delta CRLs, an empty
  // delta over each), instead of a delta.
  bool full_crl_on_change = false;

  // The URL of a shard's full (or delta) CRL: the configured URL with {shard} replaced by the
  // shard number; empty when none is configured.
  std::string shard_url(std::uint16_t shard) const;
  std::string delta_shard_url(std::uint16_t shard) const;
};

// What OCSP answers for a certificate past its notAfter (docs/CRL.md, "Expired certificates").
enum class ExpiredOcsp {
  kLastStatus,  // its last status, as before it expired
  kUnknown,     // unknown: this responder no longer vouches for it
};

struct IssuerConfig {
  std::string name;
  std::filesystem::path certificate;  // absolute, resolved against the configuration's folder
  std::optional<CrlSettings> crl;     // none: this issuer's CRLs are made elsewhere
  // OCSP responses are signed by a delegated responder (RFC 6960 4.2.2.2) when both are set,
  // else by the CA's own private_key; an issuer with neither gets `unauthorized`.
  std::filesystem::path ocsp_certificate;
  std::filesystem::path ocsp_private_key;  // a PEM file or a PKCS#11 URI, as private_key
  ExpiredOcsp expired_ocsp = ExpiredOcsp::kLastStatus;
  // With kLastStatus: how long after notAfter the status is kept (0: for ever). When set, every
  // answer for an expired certificate carries archiveCutoff = producedAt minus this (RFC 6960
  // 4.4.4), and a certificate expired before its archive cutoff is answered unknown.
  std::int64_t ocsp_archive_retention_seconds = 0;
  // The PKCS#11 module for this issuer's URI keys; empty: the URI's module-path, else the
  // modules p11-kit's configuration registers.
  std::filesystem::path pkcs11_module;
};

// The OCSP responder (`revocore serve`).
// "ADDRESS:PORT" (port 0 picks a free one), as in `listen = ...` and `serve --listen`; nullopt
// when the text is not that. Each caller words its own error.
struct ListenAddress {
  std::string address;
  unsigned short port = 0;
};
std::optional<ListenAddress> split_listen(std::string_view text);

struct OcspSettings {
  std::string listen_address = "127.0.0.1";
  unsigned short port = 8080;
  unsigned threads = 2;
  std::int64_t response_validity_seconds = 3600;  // nextUpdate - thisUpdate
  // A stored (pre-signed) response is re-signed once less than this is left before nextUpdate.
  std::int64_t refresh_before_seconds = 900;
  std::size_t max_request_bytes = 8192;      // larger bodies and GET paths: 413
  std::size_t max_cert_ids = 16;             // more CertIDs in one request: malformedRequest
  std::int64_t header_timeout_seconds = 10;  // also the idle limit of a keep-alive connection
  std::size_t max_connections = 10000;       // beyond it, new connections are closed at once
  std::int64_t drain_seconds = 10;           // SIGTERM: longest wait for requests in flight
  // Cache-Control max-age of CRLs served under /crl/, also never past their nextUpdate: the
  // longest a cache (a CDN, a browser) may serve a CRL after a newer one is published.
  std::int64_t crl_max_age_seconds = 300;
};

// The operator API (`revocore serve`, when configured): HTTPS with client certificates.
struct AdminSettings {
  std::string listen_address = "127.0.0.1";  // loopback unless the administrator says otherwise
  unsigned short port = 8443;
  std::filesystem::path certificate;  // the listener's TLS certificate (PEM, chain after it)
  std::filesystem::path private_key;
  // Operators authenticate with certificates issued by this CA. Their revocation is checked in
  // revocore's own store when this CA is a configured [[issuer]], else against client_crl.
  std::filesystem::path client_ca;
  std::filesystem::path client_crl;       // empty: none
  std::size_t max_body_bytes = 64 << 20;  // a batch job's list of targets
  std::size_t job_chunk = 1000;           // targets per transaction in API batch jobs
  // An audit record for every read of a user or a credential through the API (personal data
  // access that auditors ask about). Off by default: every request is logged either way.
  bool audit_reads = false;
};

// A connection to the NATS servers that carry the change feed (docs/REPLICATION.md): TLS and
// credentials from files, never inline secrets.
struct NatsSettings {
  std::vector<std::string> servers;       // nats:// or tls:// URLs, e.g. tls://nats-1.example:4222
  std::string stream = "REVOCORE";        // the JetStream stream; its subjects are <subject>.*
  std::string subject = "revocore";       // subject prefix (a NATS token, no dots or wildcards)
  std::filesystem::path tls_ca;           // trust anchors for the servers' certificates
  std::filesystem::path tls_certificate;  // this side's client certificate, when the servers ask
  std::filesystem::path tls_key;
  std::filesystem::path credentials_file;  // a NATS .creds file (a JWT and its nkey seed)
  std::string user;                        // user/password authentication, with:
  std::filesystem::path password_file;
  std::string origin;  // "file:line" of the section, for messages
};

// The writer's side: publishing the change feed (`revocore serve` or `revocore replicate`).
struct ReplicationSettings {
  NatsSettings nats;
  std::filesystem::path signing_key;  // Ed25519 private key (PEM) every message is signed with
  int stream_replicas = 3;            // of a stream the publisher creates (1 to 5)
  std::int64_t heartbeat_milliseconds = 1000;
  // A new snapshot once this many changes were published after the newest one, so that the
  // changes before it can be purged and the stream stays bounded (0: only the first snapshot).
  std::uint64_t snapshot_after_changes = 1'000'000;
};

// Replica mode (`revocore serve` with [replica]): the store is fed from the stream, never
// written by processes, imports or batch jobs.
struct ReplicaSettings {
  NatsSettings nats;
  std::filesystem::path verify_key;  // the writer's Ed25519 public key (PEM)
  // Longer than this without being caught up with the writer's heartbeat: OCSP answers
  // tryLater and /health is 503 (RFC 6960 4.2.1).
  std::int64_t max_staleness_seconds = 10;
  std::filesystem::path crl_directory;  // where replicated CRLs are kept; default <data-dir>/crl
};

struct Configuration {
  std::string source;  // file name for messages, or "<built-in default>"
  std::size_t map_size_bytes = 0;
  std::string default_role;
  // A certificate registered (import, POST /api/v1/certificates) on a credential that is not
  // active, or for a user who is not: false follows the credential (on hold when inactive,
  // revoked when locked), true refuses the registration.
  bool refuse_registration_when_not_active = false;
  // A pending approval request nobody decided within this long expires ([approvals]).
  std::int64_t approval_expiry_seconds = 7 * 24 * 3600;
  std::vector<IssuerConfig> issuers;
  OcspSettings ocsp;
  std::optional<AdminSettings> admin;              // none: no operator API
  std::optional<ReplicationSettings> replication;  // none: no change feed is published
  std::optional<ReplicaSettings> replica;          // present: this is a replica
  std::map<std::string, ProcessPolicy, std::less<>> processes;
  std::vector<Role> roles;  // [[role]]: what each role may do (config/authorization.hpp)
  AuthorizationSettings authorization;
  std::optional<SelfServiceSettings> self_service;  // none: card holders can do nothing

  // Whether any of `roles` grants `permission` ("process:UsersProcLock", "read:audit", ...).
  bool permits(const std::vector<std::string>& held, std::string_view permission) const {
    return grants(roles, held, permission);
  }
  // Throws kInvalidConfig naming the process when it is not configured.
  const ProcessPolicy& process(std::string_view name) const;
  const IssuerConfig* find_issuer(std::string_view name) const noexcept;

  // Both throw Error(kInvalidConfig) with "file:line: what is wrong".
  static Configuration load_file(const std::filesystem::path& file);
  // `base_directory` resolves relative paths; `source` names the text in messages.
  static Configuration parse(std::string_view toml_text, std::string source,
                             const std::filesystem::path& base_directory);
  static Configuration built_in_default();
};

}  // namespace revocore::config
