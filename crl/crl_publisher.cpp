#include "crl/crl_publisher.hpp"

#include <fmt/format.h>
#include <openssl/pem.h>

#include <map>

#include "crl/atomic_file.hpp"
#include "crl/crl_builder.hpp"
#include "crl/crl_signer.hpp"
#include "revocation/error.hpp"

namespace revocore::crl {
namespace {

std::string to_pem(std::string_view der) {
  pki::ScopedBio bio(::BIO_new(::BIO_s_mem()));
  ::PEM_write_bio(bio.get(), "X509 CRL", "", reinterpret_cast<const unsigned char*>(der.data()),
                  static_cast<long>(der.size()));
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

bool listed(CertificateStatus status) noexcept {
  return status != CertificateStatus::kValid;
}

// RFC 5280 5.1.2.6 lets a CA drop expired certificates; the configuration says when.
bool still_listed_after_expiry(const config::CrlSettings& settings, UnixTime not_after,
                               UnixTime this_update) noexcept {
  return settings.keep_expired || not_after + settings.expired_grace_seconds >= this_update;
}

const config::IssuerConfig& issuer_with_crls(const config::Configuration& config,
                                             std::string_view name) {
  const config::IssuerConfig* issuer = config.find_issuer(name);
  if (issuer == nullptr) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("issuer '{}' is not configured in {}", name, config.source));
  }
  if (!issuer->crl) {
    throw Error(ErrorCode::kInvalidConfig,
                fmt::format("issuer '{}' has no private_key in {}, so revocore makes no CRL for "
                            "it; add private_key to its [[issuer]]",
                            name, config.source));
  }
  return *issuer;
}

}  // namespace

std::vector<std::string> CrlPublisher::issuers_with_crls() const {
  std::vector<std::string> names;
  for (const auto& issuer : config_.issuers) {
    if (issuer.crl) {
      names.push_back(issuer.name);
    }
  }
  return names;
}

PublishedCrl CrlPublisher::publish(std::string_view issuer_name, CrlKind kind) {
  const config::IssuerConfig& issuer = issuer_with_crls(config_, issuer_name);
  const config::CrlSettings& settings = *issuer.crl;

  // 1. Everything that can fail for a reason the operator can fix, before a number is taken.
  const CrlSigner signer =
      CrlSigner::load(issuer.name, issuer.certificate, settings.private_key, issuer.pkcs11_module);
  check_writable_directory(settings.publish_directory);
  const DirectoryLock lock(settings.publish_directory / fmt::format(".{}.lock", issuer.name));
  IssuerId issuer_id = 0;
  {
    const StoreTransaction txn = store_.read();
    const auto record = txn.issuer_by_name(issuer.name);
    if (!record) {
      throw Error(ErrorCode::kNotFound,
                  fmt::format("issuer '{}' is configured but not registered in the store; run "
                              "`revocore init` to register it",
                              issuer.name));
    }
    if (record->certificate_der != signer.certificate().der()) {
      throw Error(ErrorCode::kInvalidConfig,
                  fmt::format("issuer '{}': {} is not the certificate registered under this name",
                              issuer.name, issuer.certificate.string()));
    }
    if (kind == CrlKind::kDelta && txn.crl_state(record->id).base_number == 0) {
      throw Error(ErrorCode::kWrongState,
                  fmt::format("issuer '{}' has no full CRL yet for a delta CRL to refer to; run "
                              "`revocore crl generate --issuer {}` first",
                              issuer.name, issuer.name));
    }
    issuer_id = record->id;
  }

  // 2. Reserve the number: committed before anything is published, so a crash later leaves a
  // gap in the numbering, never a reused number (RFC 5280 5.2.3: numbers only increase).
  const UnixTime now = clock_();
  PublishedCrl published;
  published.issuer = issuer.name;
  published.kind = kind;
  published.this_update = now;
  published.next_update =
      now + (kind == CrlKind::kFull ? settings.validity_seconds : settings.delta_validity_seconds);
  CrlState reserved;
  {
    WriteTransaction txn = store_.write();
    reserved = txn.crl_state(issuer_id);
    published.number = ++reserved.last_number;
    txn.put_crl_state(issuer_id, reserved);
    txn.commit();
  }

  // 3. Build from one consistent snapshot.
  CrlBuilder builder(signer, published.this_update, published.next_update, published.number);
  if (!settings.distribution_point.empty()) {
    builder.set_issuing_distribution_point(settings.distribution_point);
  }
  std::uint64_t covered_journal = 0;
  {
    const StoreTransaction txn = store_.read();
    covered_journal = txn.last_journal_sequence();
    if (kind == CrlKind::kFull) {
      if (settings.delta_crls) {
        builder.set_freshest_crl(settings.delta_distribution_point);
      }
      builder.reserve(static_cast<std::size_t>(txn.count_certificates()));
      txn.for_each_certificate_of(issuer_id, [&](const CertificateStatusView& certificate) {
        if (listed(certificate.status) &&
            still_listed_after_expiry(settings, certificate.not_after, published.this_update)) {
          builder.add_entry(certificate.serial_octets, certificate.revocation_time,
                            certificate.reason, certificate.invalidity_date);
        }
      });
    } else {
      // RFC 5280 5.2.4: the changes since the base, from the journal. For each certificate
      // touched since then: its status at the base (the first change's old status) and now.
      published.delta_base = reserved.base_number;
      builder.set_delta_base(reserved.base_number);
      struct Touched {
        CertificateStatus at_base;
        UnixTime last_change;
      };
      std::map<std::string, Touched> touched;  // serial octets -> status at base, in key order
      for (const auto& entry : txn.journal(reserved.base_journal_sequence + 1, covered_journal)) {
        if (entry.certificate.issuer != issuer_id) {
          continue;
        }
        auto [it, inserted] = touched.try_emplace(std::string(entry.certificate.serial.octets()),
                                                  Touched{entry.old_status, entry.time});
        it->second.last_change = entry.time;
      }
      for (const auto& [serial, change] : touched) {
        const auto record =
            txn.certificate(CertificateKey{issuer_id, Serial::from_der_content(serial)});
        if (!record) {
          continue;
        }
        const bool now_listed =
            listed(record->status) && still_listed_after_expiry(settings, record->not_after, now);
        if (now_listed) {
          builder.add_entry(serial, record->revocation_time, record->reason,
                            record->invalidity_date);
        } else if (listed(change.at_base)) {
          // Released from hold since the base: tell delta users to drop it (RFC 5280 5.3.1).
          builder.add_entry(serial, change.last_change, ReasonCode::kRemoveFromCrl, std::nullopt);
        }
      }
    }
  }
  published.entries = builder.entry_count();
  const std::string der = builder.finish();

  // 4. Publish: the numbered copy, then the stable name; each appears whole or not at all.
  const std::string stem = crl_file_stem(issuer.name, kind);
  published.file = settings.publish_directory / fmt::format("{}.crl", stem);
  published.numbered_file =
      settings.publish_directory / fmt::format("{}-{}.crl", stem, published.number);
  write_file_atomically(published.numbered_file, der);
  write_file_atomically(published.file, der);
  if (settings.pem) {
    const std::string pem = to_pem(der);
    write_file_atomically(published.numbered_file.string() + ".pem", pem);
    write_file_atomically(published.file.string() + ".pem", pem);
  }

  // 5. A published full CRL is the new base for deltas.
  if (kind == CrlKind::kFull) {
    WriteTransaction txn = store_.write();
    CrlState state = txn.crl_state(issuer_id);
    if (published.number > state.base_number) {
      state.base_number = published.number;
      state.base_journal_sequence = covered_journal;
      state.base_this_update = published.this_update;
      state.next_update = published.next_update;
      txn.put_crl_state(issuer_id, state);
      txn.commit();
    }
  }
  return published;
}

std::vector<PublishedCrl> CrlPublisher::publish_with_delta(const config::IssuerConfig& issuer) {
  std::vector<PublishedCrl> out;
  // The delta first, over the previous base, so holders of that base catch up; then the full CRL
  // that becomes the next base.
  bool has_base = false;
  {
    const StoreTransaction txn = store_.read();
    const auto record = txn.issuer_by_name(issuer.name);
    has_base = record && txn.crl_state(record->id).base_number != 0;
  }
  if (issuer.crl->delta_crls && has_base) {
    out.push_back(publish(issuer.name, CrlKind::kDelta));
  }
  out.push_back(publish(issuer.name, CrlKind::kFull));
  return out;
}

std::vector<PublishedCrl> CrlPublisher::publish_after(
    const std::vector<IssuerId>& issuers_changed) {
  std::vector<PublishedCrl> out;
  for (const IssuerId id : issuers_changed) {
    const auto record = store_.read().issuer(id);
    if (!record) {
      continue;
    }
    const config::IssuerConfig* issuer = config_.find_issuer(record->name);
    if (issuer == nullptr || !issuer->crl) {
      continue;  // CRLs for this issuer are made elsewhere
    }
    for (auto& crl : publish_with_delta(*issuer)) {
      out.push_back(std::move(crl));
    }
  }
  return out;
}

std::vector<PublishedCrl> CrlPublisher::publish_due() {
  std::vector<PublishedCrl> out;
  const UnixTime now = clock_();
  for (const auto& issuer : config_.issuers) {
    if (!issuer.crl) {
      continue;
    }
    const auto record = store_.read().issuer_by_name(issuer.name);
    const CrlState state = record ? store_.read().crl_state(record->id) : CrlState{};
    if (state.base_number != 0 && now < state.next_update - issuer.crl->overlap_seconds) {
      continue;
    }
    for (auto& crl : publish_with_delta(issuer)) {
      out.push_back(std::move(crl));
    }
  }
  return out;
}

}  // namespace revocore::crl
