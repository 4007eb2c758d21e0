// `revocore crl generate` and `revocore crl show`.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <pthread.h>
#include <signal.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "crl/crl_publisher.hpp"
#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"
#include "pki/x509_crl.hpp"
#include "revocation/crl_shard.hpp"
#include "revocation/crl_shard_binding.hpp"
#include "revocation/error.hpp"

namespace revocore::cli {
namespace {

UnixTime to_unix(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ::ASN1_TIME_to_tm(time, &tm) != 1) {
    return 0;
  }
  return static_cast<UnixTime>(::timegm(&tm));
}

std::string integer_hex(const ASN1_INTEGER* integer) {
  pki::ScopedBignum number(::ASN1_INTEGER_to_BN(integer, nullptr));
  char* hex = ::BN_bn2hex(number.get());
  std::string out(hex != nullptr ? hex : "");
  pki::free_openssl_bytes(reinterpret_cast<unsigned char*>(hex));
  return out;
}

// The decimal value of an INTEGER extension (cRLNumber, deltaCRLIndicator); empty when absent.
std::string integer_extension(const X509_CRL* crl, int nid) {
  pki::ScopedAsn1Integer value(
      static_cast<ASN1_INTEGER*>(::X509_CRL_get_ext_d2i(crl, nid, nullptr, nullptr)));
  if (!value) {
    return {};
  }
  return std::to_string(::ASN1_INTEGER_get(value.get()));
}

std::string_view reason_of(const X509_REVOKED* entry) {
  ASN1_ENUMERATED* reason = static_cast<ASN1_ENUMERATED*>(
      ::X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
  if (reason == nullptr) {
    return "unspecified";
  }
  const long code = ::ASN1_ENUMERATED_get(reason);
  ::ASN1_ENUMERATED_free(reason);
  const auto parsed = reason_code_from_byte(static_cast<std::uint8_t>(code));
  return parsed ? to_string(*parsed) : "invalid";
}

}  // namespace

void crl_generate_command(const GlobalOptions& options, const std::string& issuer, bool delta,
                          bool if_due, int shard, std::ostream& out) {
  if (shard >= 0 && (issuer.empty() || if_due)) {
    throw Error(ErrorCode::kInvalidArgument,
                "--shard names a shard of one issuer: give --issuer too, and not --if-due");
  }
  DataDirectory dir = DataDirectory::open_writer(options, "crl generate");
  crl::CrlPublisher publisher(dir.store, dir.config, options.clock);
  std::vector<crl::PublishedCrl> published;
  if (if_due) {
    published = publisher.publish_due();
  } else {
    const std::vector<std::string> issuers =
        issuer.empty() ? publisher.issuers_with_crls() : std::vector<std::string>{issuer};
    if (issuers.empty()) {
      throw Error(ErrorCode::kInvalidConfig,
                  fmt::format("no issuer in {} has a private_key, so there is no CRL to make",
                              dir.config.source));
    }
    for (const auto& name : issuers) {
      std::vector<crl::PublishedCrl> made;
      if (shard >= 0) {
        const auto one = static_cast<std::uint16_t>(shard);
        made = publisher.publish_shards(name, delta ? crl::CrlKind::kDelta : crl::CrlKind::kFull,
                                        {one});
      } else {
        made = delta ? publisher.publish_shards(name, crl::CrlKind::kDelta)
                     : publisher.publish_full(name);
      }
      for (auto& crl : made) {
        published.push_back(std::move(crl));
      }
    }
  }
  if (options.json) {
    boost::json::array listed;
    for (const auto& crl : published) {
      listed.emplace_back(published_json(crl));
    }
    print_json(out, listed);
    return;
  }
  if (published.empty()) {
    fmt::print(out, "no CRL is due\n");
  }
  for (const auto& crl : published) {
    print_published(out, crl);
  }
}

void crl_shard_command(const GlobalOptions& options, const std::string& issuer_name,
                       const std::string& serial_hex, std::ostream& out) {
  DataDirectory dir = DataDirectory::open(options);
  const config::IssuerConfig* issuer = dir.config.find_issuer(issuer_name);
  if (issuer == nullptr || !issuer->crl) {
    throw Error(ErrorCode::kNotFound, fmt::format("issuer '{}' has no CRLs configured in {}",
                                                  issuer_name, dir.config.source));
  }
  const Serial serial = Serial::from_hex(serial_hex);  // kInvalidArgument for what is not hex
  const StoreTransaction txn = dir.store.read();
  const auto record = txn.issuer_by_name(issuer->name);
  if (!record) {
    throw Error(ErrorCode::kNotFound,
                fmt::format("issuer '{}' is not registered in the store; run `revocore init`",
                            issuer->name));
  }
  // A registered certificate's stored shard; otherwise the one registration would bind it to.
  const auto certificate = txn.certificate(CertificateKey{record->id, serial});
  const bool registered = certificate.has_value();
  const std::uint16_t shard =
      registered ? certificate->crl_shard.value_or(0)
                 : crl_shard_for(serial, check_crl_shards(txn, *record, issuer->crl->shards,
                                                          issuer->crl->shards_origin)
                                             .configured);
  const std::string url = issuer->crl->shard_url(shard);
  if (options.json) {
    boost::json::object listed{{"issuer", issuer->name},
                               {"serial", serial.hex()},
                               {"registered", registered},
                               {"crl_shard", shard}};
    if (!url.empty()) {
      listed["crl_distribution_point"] = url;
    }
    print_json(out, listed);
    return;
  }
  fmt::print(out, "serial {} of {}: CRL shard {}{}{}\n", serial.hex(), issuer->name, shard,
             registered ? "" : " (not registered: the shard registration will bind it to)",
             url.empty() ? "" : fmt::format(", {}", url));
}

void crl_watch_command(const GlobalOptions& options, unsigned interval_seconds, std::ostream& out) {
  // Block the stop signals and wait for them with a timeout: no handler, no async-signal rules.
  sigset_t stop;
  ::sigemptyset(&stop);
  ::sigaddset(&stop, SIGTERM);
  ::sigaddset(&stop, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  DataDirectory dir = DataDirectory::open_writer(options, "crl watch");
  crl::CrlPublisher publisher(dir.store, dir.config, options.clock);
  fmt::print(out, "watching {} issuer(s) with CRLs every {} s; SIGTERM stops\n",
             publisher.issuers_with_crls().size(), interval_seconds);
  out.flush();
  while (true) {
    for (const auto& crl : publisher.publish_due()) {
      print_published(out, crl);
    }
    out.flush();
    const timespec timeout{static_cast<time_t>(interval_seconds), 0};
    if (::sigtimedwait(&stop, nullptr, &timeout) > 0) {
      fmt::print(out, "stopped\n");
      return;
    }
  }
}

void crl_show_command(const GlobalOptions& options, const std::filesystem::path& file,
                      std::ostream& out) {
  const pki::ScopedX509Crl crl = pki::load_crl_file(file);

  pki::ScopedBio name_bio(::BIO_new(::BIO_s_mem()));
  ::X509_NAME_print_ex(name_bio.get(), ::X509_CRL_get_issuer(crl.get()), 0, XN_FLAG_RFC2253);
  char* name_data = nullptr;
  const long name_length = BIO_get_mem_data(name_bio.get(), &name_data);
  const std::string issuer(name_data, static_cast<std::size_t>(name_length));
  const std::string number = integer_extension(crl.get(), NID_crl_number);
  const std::string base = integer_extension(crl.get(), NID_delta_crl);
  const UnixTime this_update = to_unix(::X509_CRL_get0_lastUpdate(crl.get()));
  const UnixTime next_update = to_unix(::X509_CRL_get0_nextUpdate(crl.get()));
  STACK_OF(X509_REVOKED)* revoked = ::X509_CRL_get_REVOKED(crl.get());
  const int count = revoked != nullptr ? sk_X509_REVOKED_num(revoked) : 0;

  boost::json::array entries;
  for (int i = 0; i < count; ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    entries.emplace_back(boost::json::object{
        {"serial", integer_hex(::X509_REVOKED_get0_serialNumber(entry))},
        {"revocation_date", format_time(to_unix(::X509_REVOKED_get0_revocationDate(entry)))},
        {"reason", reason_of(entry)}});
  }
  if (options.json) {
    boost::json::object shown{{"issuer", issuer},
                              {"number", number},
                              {"this_update", format_time(this_update)},
                              {"next_update", format_time(next_update)},
                              {"entries", std::move(entries)}};
    if (!base.empty()) {
      shown["delta_base"] = base;
    }
    print_json(out, shown);
    return;
  }
  fmt::print(out, "{} CRL #{}{} of {}\n  thisUpdate {}, nextUpdate {}\n  {} entries\n",
             base.empty() ? "full" : "delta", number,
             base.empty() ? "" : fmt::format(" (over base #{})", base), issuer,
             format_time(this_update), format_time(next_update), count);
  for (const auto& entry : entries) {
    fmt::print(out, "  {} {} {}\n", std::string_view(entry.at("serial").as_string()),
               std::string_view(entry.at("revocation_date").as_string()),
               std::string_view(entry.at("reason").as_string()));
  }
}

}  // namespace revocore::cli
