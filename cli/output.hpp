#pragma once
// How the command line shows store contents: human text, or JSON for `--json` (Boost.JSON).
#include <boost/json.hpp>
#include <ostream>

#include "api/record_json.hpp"

#include "config/configuration.hpp"
#include "crl/crl_publisher.hpp"
#include "lifecycle/lifecycle_processes.hpp"
#include "revocation/records.hpp"
#include "revocation/store.hpp"

namespace revocore::cli {

// The JSON forms are the API's (api/record_json.hpp).
using api::approval_json;
using api::audit_json;
using api::certificate_json;
using api::credential_json;
using api::format_time;
using api::issuer_name;
using api::job_json;
using api::outcome_json;
using api::parse_time;
using api::published_json;
using api::search_json;
using api::user_json;

void print_user(std::ostream& out, const StoreTransaction& txn, const User& user);
void print_credential(std::ostream& out, const StoreTransaction& txn, const Credential& credential,
                      std::string_view indent);
void print_certificate(std::ostream& out, const StoreTransaction& txn, const CertificateKey& key,
                       const CertificateRecord& record, std::string_view indent);
void print_audit(std::ostream& out, const AuditRecord& record);
void print_approval(std::ostream& out, const ApprovalRequest& request);
// A dry run: what the process would change, nothing changed.
void print_preview(std::ostream& out, const StoreTransaction& txn,
                   const config::ProcessPolicy& policy, const lifecycle::ProcessPreview& preview);
void print_outcome(std::ostream& out, const config::ProcessPolicy& policy,
                   const lifecycle::ProcessOutcome& outcome);

void print_published(std::ostream& out, const crl::PublishedCrl& crl);

// Pretty-printed JSON followed by a newline.
void print_json(std::ostream& out, const boost::json::value& value);

}  // namespace revocore::cli
