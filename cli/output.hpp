#pragma once
// How the command line shows store contents: human text, or JSON for `--json` (Boost.JSON).
#include <boost/json.hpp>
#include <ostream>

#include "config/configuration.hpp"
#include "crl/crl_publisher.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore::cli {

std::string format_time(UnixTime time);  // ISO 8601 UTC, e.g. 2026-11-22T04:45:07Z
// Reads 2026-11-22 or 2026-11-22T04:45:07Z (UTC); throws kInvalidArgument naming `what`.
UnixTime parse_time(std::string_view text, std::string_view what);

boost::json::object user_json(const StoreTransaction& txn, const User& user);
boost::json::object credential_json(const StoreTransaction& txn, const Credential& credential);
boost::json::object certificate_json(const StoreTransaction& txn, const CertificateKey& key,
                                     const CertificateRecord& record);
boost::json::object audit_json(const AuditRecord& record);
boost::json::object approval_json(const ApprovalRequest& request);
boost::json::object outcome_json(const lifecycle::ProcessOutcome& outcome);

void print_user(std::ostream& out, const StoreTransaction& txn, const User& user);
void print_credential(std::ostream& out, const StoreTransaction& txn, const Credential& credential,
                      std::string_view indent);
void print_certificate(std::ostream& out, const StoreTransaction& txn, const CertificateKey& key,
                       const CertificateRecord& record, std::string_view indent);
void print_audit(std::ostream& out, const AuditRecord& record);
void print_approval(std::ostream& out, const ApprovalRequest& request);
void print_outcome(std::ostream& out, const config::ProcessPolicy& policy,
                   const lifecycle::ProcessOutcome& outcome);

void print_published(std::ostream& out, const crl::PublishedCrl& crl);
boost::json::object published_json(const crl::PublishedCrl& crl);

// Pretty-printed JSON followed by a newline.
void print_json(std::ostream& out, const boost::json::value& value);

}  // namespace revocore::cli
