#include "crl/crl_publisher.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <memory>

#include "crl/atomic_file.hpp"
#include "crl/crl_builder.hpp"
#include "crl/crl_signer.hpp"
#include "revocation/crl_shard_binding.hpp"
#include "revocation/error.hpp"
#include "revocation/posix_file.hpp"

namespace revocore::crl {
namespace {

using SteadyClock = std::chrono::steady_clock;

// At most this many shards are built in one pair of scans: each holds an open file.
constexpr std::size_t kShardsPerScan = 256;

// The size of the CRL now published under `file`, 0 when there is none: the next one's entries
// are about as large, which sizes the room left for its headers (crl_builder.hpp).
std::uint64_t previous_size(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  return ec ? 0 : size;
}

double seconds_between(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
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

IssuerRecord registered_issuer(const StoreTransaction& txn, std::string_view name) {
  auto record = txn.issuer_by_name(name);
  if (!record) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("issuer '{}' is configured but not registered in the store; run "
                            "`revocore init` to register it",
                            name));
  }
  return std::move(*record);
}

// The PEM copy of a DER CRL, base64 encoded in pieces from the DER file's pages.
void write_pem(const std::filesystem::path& directory, const std::string& name,
               const std::string& numbered_name, std::string_view der) {
  AtomicFile pem(directory, name);
  pem.write("-----BEGIN X509 CRL-----\n");
  std::string text;
  constexpr std::size_t kPiece = 48 * 1024;  // a multiple of 48: whole 64-character lines
  for (std::size_t at = 0; at < der.size(); at += kPiece) {
    const std::size_t n = std::min(kPiece, der.size() - at);
    text.resize(n / 48 * 65 + 66);
    std::size_t out = 0;
    for (std::size_t line = 0; line < n; line += 48) {
      const std::size_t chunk = std::min<std::size_t>(48, n - line);
      const int produced = ::EVP_EncodeBlock(
          reinterpret_cast<unsigned char*>(text.data() + out),
          reinterpret_cast<const unsigned char*>(der.data() + at + line), static_cast<int>(chunk));
      out += static_cast<std::size_t>(produced);
      text[out++] = '\n';
    }
    pem.write(std::string_view(text.data(), out));
  }
  pem.write("-----END X509 CRL-----\n");
  pem.publish({numbered_name}, false);  // the directory is synced after the DER files
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

std::uint16_t CrlPublisher::published_shards(std::string_view issuer_name) const {
  const config::IssuerConfig& issuer = issuer_with_crls(config_, issuer_name);
  const StoreTransaction txn = store_.read();
  return check_crl_shards(txn, registered_issuer(txn, issuer.name), issuer.crl->shards,
                          issuer.crl->shards_origin)
      .published;
}

PublishedCrl CrlPublisher::publish(std::string_view issuer_name, CrlKind kind,
                                   std::uint16_t shard) {
  return publish_shards(issuer_name, kind, {shard}).front();
}

std::vector<PublishedCrl> CrlPublisher::publish_shards(std::string_view issuer_name, CrlKind kind,
                                                       std::vector<std::uint16_t> shards) {
  const config::IssuerConfig& issuer = issuer_with_crls(config_, issuer_name);
  const std::uint16_t count = published_shards(issuer.name);
  if (shards.empty()) {
    for (std::uint16_t shard = 0; shard < count; ++shard) {
      shards.push_back(shard);
    }
  }
  std::sort(shards.begin(), shards.end());
  shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
  if (shards.back() >= count) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("issuer '{}' has {} CRL shard(s), numbered 0 to {}; there is no "
                            "shard {}",
                            issuer.name, count, count - 1, shards.back()));
  }
  timings_ = {};
  std::vector<PublishedCrl> out;
  for (std::size_t first = 0; first < shards.size(); first += kShardsPerScan) {
    const std::vector<std::uint16_t> group(
        shards.begin() + static_cast<std::ptrdiff_t>(first),
        shards.begin() +
            static_cast<std::ptrdiff_t>(std::min(shards.size(), first + kShardsPerScan)));
    for (auto& crl : publish_group(issuer, kind, group)) {
      crl.shard_count = count;
      out.push_back(std::move(crl));
    }
  }
  if (kind == CrlKind::kFull) {
    write_shard_list(issuer, count);
  }
  return out;
}

std::vector<PublishedCrl> CrlPublisher::publish_group(const config::IssuerConfig& issuer,
                                                      CrlKind kind,
                                                      const std::vector<std::uint16_t>& shards) {
  const config::CrlSettings& settings = *issuer.crl;

  // 1. Everything that can fail for a reason the operator can fix, before a number is taken.
  const CrlSigner signer =
      CrlSigner::load(issuer.name, issuer.certificate, settings.private_key, issuer.pkcs11_module);
  check_writable_directory(settings.publish_directory);
  const DirectoryLock lock(settings.publish_directory / fmt::format(".{}.lock", issuer.name));
  IssuerId issuer_id = 0;
  {
    const StoreTransaction txn = store_.read();
    const IssuerRecord record = registered_issuer(txn, issuer.name);
    if (record.certificate_der != signer.certificate().der()) {
      throw Error(ErrorCode::kInvalidConfig,
                  fmt::format("issuer '{}': {} is not the certificate registered under this name",
                              issuer.name, issuer.certificate.string()));
    }
    for (const std::uint16_t shard : shards) {
      if (kind == CrlKind::kDelta && txn.crl_state(record.id, shard).base_number == 0) {
        throw Error(ErrorCode::kWrongState,
                    fmt::format("issuer '{}' has no full CRL yet{} for a delta CRL to refer to; "
                                "run `revocore crl generate --issuer {}` first",
                                issuer.name,
                                shards.size() > 1 || shard != 0 ? fmt::format(" in shard {}", shard)
                                                                : std::string(),
                                issuer.name));
      }
    }
    issuer_id = record.id;
  }

  // 2. Reserve the numbers: committed before anything is published, so a crash later leaves a
  // gap in the numbering, never a reused number (RFC 5280 5.2.3: numbers only increase).
  const UnixTime now = clock_();
  std::vector<PublishedCrl> published(shards.size());
  std::vector<CrlState> states(shards.size());
  {
    WriteTransaction txn = store_.write();
    for (std::size_t i = 0; i < shards.size(); ++i) {
      states[i] = txn.crl_state(issuer_id, shards[i]);
      PublishedCrl& crl = published[i];
      crl.issuer = issuer.name;
      crl.shard = shards[i];
      crl.kind = kind;
      crl.this_update = now;
      crl.next_update = now + (kind == CrlKind::kFull ? settings.validity_seconds
                                                      : settings.delta_validity_seconds);
      crl.number = ++states[i].last_number;
      crl.url = kind == CrlKind::kFull ? settings.shard_url(shards[i])
                                       : settings.delta_shard_url(shards[i]);
      if (kind == CrlKind::kDelta) {
        crl.delta_base = states[i].base_number;
      }
      txn.put_crl_state(issuer_id, shards[i], states[i]);
    }
    txn.commit();
  }

  // 3. A builder and a file per shard; slot[shard] finds them from a certificate's shard.
  std::vector<int> slot(static_cast<std::size_t>(shards.back()) + 1, -1);
  std::vector<std::unique_ptr<CrlBuilder>> builders;
  std::vector<std::unique_ptr<AtomicFile>> files;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    slot[shards[i]] = static_cast<int>(i);
    PublishedCrl& crl = published[i];
    auto builder =
        std::make_unique<CrlBuilder>(signer, crl.this_update, crl.next_update, crl.number);
    // The same scope (the shard's own URL) on its full and delta CRLs (RFC 5280 5.2.4).
    if (!settings.distribution_point.empty()) {
      builder->set_issuing_distribution_point(settings.shard_url(crl.shard));
    }
    if (kind == CrlKind::kFull && settings.delta_crls) {
      builder->set_freshest_crl(settings.delta_shard_url(crl.shard));
    } else if (kind == CrlKind::kDelta) {
      builder->set_delta_base(crl.delta_base);
    }
    const std::string stem = crl_file_stem(issuer.name, crl.shard, kind);
    crl.file = settings.publish_directory / fmt::format("{}.crl", stem);
    crl.numbered_file = settings.publish_directory / fmt::format("{}-{}.crl", stem, crl.number);
    builders.push_back(std::move(builder));
    files.push_back(
        std::make_unique<AtomicFile>(settings.publish_directory, crl.file.filename().string()));
  }

  // 4. Build from one consistent snapshot, straight into the files.
  std::uint64_t covered_journal = 0;
  {
    const StoreTransaction txn = store_.read();
    covered_journal = txn.last_journal_sequence();
    const auto started = SteadyClock::now();
    if (kind == CrlKind::kFull) {
      for (std::size_t i = 0; i < builders.size(); ++i) {
        builders[i]->start(*files[i], previous_size(published[i].file));
      }
      // One scan of the issuer's certificates, each listed one written to its shard's CRL.
      txn.for_each_certificate_of(issuer_id, [&](const CertificateStatusView& certificate) {
        const std::size_t shard = certificate.crl_shard.value_or(0);
        const int i = shard < slot.size() ? slot[shard] : -1;
        if (i >= 0 && listed(certificate.status) &&
            still_listed_after_expiry(settings, certificate.not_after, now)) {
          builders[static_cast<std::size_t>(i)]->add_entry(
              certificate.serial_octets, certificate.revocation_time, certificate.reason,
              certificate.invalidity_date);
        }
      });
    } else {
      // RFC 5280 5.2.4: the changes since each shard's base, from the journal. For each
      // certificate touched since then: its status at the base (the first change's old status)
      // and now.
      struct Touched {
        CertificateStatus at_base;
        UnixTime last_change;
      };
      std::vector<std::map<std::string, Touched>> touched(shards.size());  // serial -> change
      std::uint64_t from = covered_journal;
      for (const CrlState& state : states) {
        from = std::min(from, state.base_journal_sequence);
      }
      CertificateStatusView view;
      txn.for_each_journal_entry(from + 1, covered_journal, [&](const JournalEntry& entry) {
        if (entry.certificate.issuer != issuer_id ||
            !txn.certificate_status(entry.certificate, view)) {
          return true;
        }
        const std::size_t shard = view.crl_shard.value_or(0);
        const int i = shard < slot.size() ? slot[shard] : -1;
        if (i < 0 || entry.sequence <= states[static_cast<std::size_t>(i)].base_journal_sequence) {
          return true;
        }
        auto [it, inserted] = touched[static_cast<std::size_t>(i)].try_emplace(
            std::string(entry.certificate.serial.octets()), Touched{entry.old_status, entry.time});
        it->second.last_change = entry.time;
        return true;
      });
      struct DeltaEntry {
        std::string_view serial;
        UnixTime date;
        ReasonCode reason;
        std::optional<UnixTime> invalidity;
      };
      for (std::size_t i = 0; i < shards.size(); ++i) {
        std::vector<DeltaEntry> entries;
        for (const auto& [serial, change] : touched[i]) {
          const auto record =
              txn.certificate(CertificateKey{issuer_id, Serial::from_der_content(serial)});
          if (!record) {
            continue;
          }
          if (listed(record->status) &&
              still_listed_after_expiry(settings, record->not_after, now)) {
            entries.push_back(
                {serial, record->revocation_time, record->reason, record->invalidity_date});
          } else if (listed(change.at_base)) {
            // Released from hold (or dropped after expiry) since the base: tell delta users to
            // drop it (RFC 5280 5.3.1).
            entries.push_back({serial, change.last_change, ReasonCode::kRemoveFromCrl, {}});
          }
        }
        builders[i]->start(*files[i], previous_size(published[i].file));
        for (const DeltaEntry& e : entries) {
          builders[i]->add_entry(e.serial, e.date, e.reason, e.invalidity);
        }
      }
    }
    timings_.write_seconds += seconds_between(started, SteadyClock::now());
  }
  const auto signing = SteadyClock::now();
  for (std::size_t i = 0; i < builders.size(); ++i) {
    builders[i]->finish();
    published[i].entries = builders[i]->entry_count();
    published[i].bytes = builders[i]->der_size();
  }
  const auto publishing = SteadyClock::now();
  timings_.sign_seconds += seconds_between(signing, publishing);

  // 5. Publish: each file appears under its numbered and its stable name, whole or not at all.
  for (const auto& file : files) {
    file->start_writeback();
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (settings.pem) {
      const MappedFile der = files[i]->map();
      write_pem(settings.publish_directory, published[i].file.filename().string() + ".pem",
                published[i].numbered_file.filename().string() + ".pem", der.bytes());
    }
    files[i]->publish({published[i].numbered_file.filename().string()}, false);
  }
  sync_directory(settings.publish_directory);  // once for every file above
  timings_.publish_seconds += seconds_between(publishing, SteadyClock::now());

  // 6. Record what each shard's CRLs now cover: a full CRL is the new base for deltas.
  {
    WriteTransaction txn = store_.write();
    for (std::size_t i = 0; i < shards.size(); ++i) {
      CrlState state = txn.crl_state(issuer_id, shards[i]);
      const PublishedCrl& crl = published[i];
      if (kind == CrlKind::kFull && crl.number > state.base_number) {
        state.base_number = crl.number;
        state.base_journal_sequence = covered_journal;
        state.base_this_update = crl.this_update;
        state.next_update = crl.next_update;
      } else if (kind == CrlKind::kDelta && crl.number > state.delta_number) {
        state.delta_number = crl.number;
        state.delta_next_update = crl.next_update;
      }
      state.published_journal_sequence =
          std::max(state.published_journal_sequence, covered_journal);
      txn.put_crl_state(issuer_id, shards[i], state);
    }
    txn.commit();
  }
  return published;
}

void CrlPublisher::write_shard_list(const config::IssuerConfig& issuer,
                                    std::uint16_t shards) const {
  // What an operator hands to a disclosure database (such as the CCADB's "JSON array of
  // partitioned CRLs"): every shard's URL, and where this responder serves it.
  const config::CrlSettings& settings = *issuer.crl;
  boost::json::array list;
  for (std::uint16_t shard = 0; shard < shards; ++shard) {
    boost::json::object entry{{"shard", shard},
                              {"path", fmt::format("/crl/{}/{}.crl", issuer.name, shard)}};
    if (!settings.distribution_point.empty()) {
      entry["url"] = settings.shard_url(shard);
    }
    if (settings.delta_crls) {
      entry["delta_url"] = settings.delta_shard_url(shard);
      entry["delta_path"] = fmt::format("/crl/{}/{}-delta.crl", issuer.name, shard);
    }
    list.emplace_back(std::move(entry));
  }
  boost::json::array urls;
  for (std::uint16_t shard = 0; shard < shards && !settings.distribution_point.empty(); ++shard) {
    urls.emplace_back(settings.shard_url(shard));
  }
  const boost::json::object document{
      {"issuer", issuer.name}, {"crl_shards", shards}, {"urls", urls}, {"shards", list}};
  // Written only when it changes (the shard count or a URL).
  write_file_if_changed(settings.publish_directory / shard_list_file_name(issuer.name),
                        boost::json::serialize(document) + "\n");
}

namespace {

// The shards of `issuer` whose certificates changed since their newest CRL: the journal after
// the oldest of those points, stopping as soon as every shard is marked.
std::vector<std::uint16_t> touched_shards(const StoreTransaction& txn, IssuerId issuer,
                                          std::uint16_t count) {
  std::vector<std::uint64_t> since(count);
  std::uint64_t from = txn.last_journal_sequence();
  for (std::uint16_t shard = 0; shard < count; ++shard) {
    since[shard] = txn.crl_state(issuer, shard).published_journal_sequence;
    from = std::min(from, since[shard]);
  }
  std::vector<bool> marked(count, false);
  std::size_t unmarked = count;
  CertificateStatusView view;
  txn.for_each_journal_entry(from + 1, txn.last_journal_sequence(), [&](const JournalEntry& e) {
    if (e.certificate.issuer != issuer || !txn.certificate_status(e.certificate, view)) {
      return true;
    }
    const std::uint16_t shard = view.crl_shard.value_or(0);
    if (shard < count && !marked[shard] && e.sequence > since[shard]) {
      marked[shard] = true;
      --unmarked;
    }
    return unmarked != 0;
  });
  std::vector<std::uint16_t> out;
  for (std::uint16_t shard = 0; shard < count; ++shard) {
    if (marked[shard]) {
      out.push_back(shard);
    }
  }
  return out;
}

void append(std::vector<PublishedCrl>& to, std::vector<PublishedCrl> from) {
  for (auto& crl : from) {
    to.push_back(std::move(crl));
  }
}

}  // namespace

std::vector<PublishedCrl> CrlPublisher::publish_full(std::string_view issuer_name) {
  std::vector<PublishedCrl> out = publish_shards(issuer_name, CrlKind::kFull);
  if (issuer_with_crls(config_, issuer_name).crl->delta_crls) {
    append(out, publish_shards(issuer_name, CrlKind::kDelta));
  }
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
    const config::CrlSettings& settings = *issuer->crl;
    const std::uint16_t count = published_shards(issuer->name);
    std::vector<std::uint16_t> full;
    std::vector<std::uint16_t> delta;
    {
      const StoreTransaction txn = store_.read();
      const UnixTime now = clock_();
      for (const std::uint16_t shard : touched_shards(txn, id, count)) {
        const CrlState state = txn.crl_state(id, shard);
        const bool interval_reached =
            settings.full_crl_interval_seconds != 0 &&
            now >= state.base_this_update + settings.full_crl_interval_seconds;
        if (!settings.delta_crls || settings.full_crl_on_change || state.base_number == 0 ||
            interval_reached) {
          full.push_back(shard);
        } else {
          delta.push_back(shard);
        }
      }
    }
    if (!full.empty()) {
      append(out, publish_shards(issuer->name, CrlKind::kFull, full));
      if (settings.delta_crls) {
        // A delta over each new base, so that the newest full and delta CRLs combine.
        delta.insert(delta.end(), full.begin(), full.end());
      }
    }
    if (!delta.empty()) {
      append(out, publish_shards(issuer->name, CrlKind::kDelta, delta));
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
    const config::CrlSettings& settings = *issuer.crl;
    std::vector<std::uint16_t> full;
    std::vector<std::uint16_t> delta;
    {
      const StoreTransaction txn = store_.read();
      const auto record = txn.issuer_by_name(issuer.name);
      if (!record) {
        continue;  // not registered yet: nothing to list
      }
      const std::uint16_t count =
          check_crl_shards(txn, *record, settings.shards, settings.shards_origin).published;
      for (std::uint16_t shard = 0; shard < count; ++shard) {
        const CrlState state = txn.crl_state(record->id, shard);
        const bool full_due = state.base_number == 0 ||
                              now >= state.next_update - settings.overlap_seconds ||
                              (settings.full_crl_interval_seconds != 0 &&
                               now >= state.base_this_update + settings.full_crl_interval_seconds);
        if (full_due) {
          full.push_back(shard);
        } else if (settings.delta_crls &&
                   (state.delta_number < state.base_number ||
                    now >= state.delta_next_update - settings.delta_validity_seconds / 4)) {
          delta.push_back(shard);
        }
      }
    }
    if (!full.empty()) {
      append(out, publish_shards(issuer.name, CrlKind::kFull, full));
      if (settings.delta_crls) {
        delta.insert(delta.end(), full.begin(), full.end());
      }
    }
    if (!delta.empty()) {
      append(out, publish_shards(issuer.name, CrlKind::kDelta, delta));
    }
  }
  return out;
}

}  // namespace revocore::crl
