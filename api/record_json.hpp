#pragma once
// The JSON form of store records, one definition shared by the operator API and the command
// line's --json output, so a script sees the same fields from both.
#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "config/configuration.hpp"
#include "crl/crl_publisher.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/records.hpp"
#include "revocation/search.hpp"
#include "revocation/store.hpp"

namespace revocore::api {

std::string format_time(UnixTime time);  // ISO 8601 UTC, e.g. 2026-11-22T04:45:07Z
// Reads 2026-11-22 or 2026-11-22T04:45:07Z (UTC); throws kInvalidArgument naming `what`.
UnixTime parse_time(std::string_view text, std::string_view what);
// The issuer's configured name, or "#id" for one the store no longer names.
std::string issuer_name(const StoreTransaction& txn, IssuerId id);

using lifecycle::find_certificate;

// Every configured process: title, target, approval step and offered reasons, by name.
boost::json::object processes_json(const config::Configuration& config);

boost::json::object user_json(const StoreTransaction& txn, const User& user);
boost::json::object credential_json(const StoreTransaction& txn, const Credential& credential);
// With `config`: also the CRL the certificate is listed in, its shard and that shard's URL (the
// CRL distribution point issuance embeds, docs/CRL.md).
boost::json::object certificate_json(const StoreTransaction& txn, const CertificateKey& key,
                                     const CertificateRecord& record,
                                     const config::Configuration* config = nullptr);
boost::json::object audit_json(const AuditRecord& record);
// A page of search results: {"hits": [{"kind": "user"|"credential"|"certificate", ...}], "more"}.
boost::json::object search_json(const StoreTransaction& txn, const SearchPage& page,
                                std::size_t limit, std::size_t offset);
boost::json::object approval_json(const ApprovalRequest& request);
boost::json::object outcome_json(const lifecycle::ProcessOutcome& outcome);
// {"outcome": "preview", "approval_step", "preview": fingerprint, "user", "credentials",
//  "certificates": counts, "changes": [each certificate from and to]}
boost::json::object preview_json(const StoreTransaction& txn,
                                 const lifecycle::ProcessPreview& preview);
boost::json::object published_json(const crl::PublishedCrl& crl);
boost::json::object job_json(const JobRecord& job);

}  // namespace revocore::api
