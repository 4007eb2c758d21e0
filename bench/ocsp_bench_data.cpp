// Prepares the data for bench/ocsp_bench.sh: in DIR (which holds pki/ca.pem, ca.key,
// responder.pem, responder.key made by openssl), a revocore data directory with USERS x 4
// certificates (every 10th revoked), the same certificates as an `openssl ocsp -index` database,
// and OCSP requests for one good certificate (with and without a nonce); and rotation.txt, the
// GET paths (base64, %-escaped) of ROTATION requests spread over the whole serial range, good and
// revoked, for a load that misses the pre-signed store too (bench/soak.sh).
//
// Usage: ocsp_bench_data DIR USERS [ROTATION]
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include <fstream>
#include <iostream>

#include "bench/bench_support.hpp"
#include "config/configuration.hpp"
#include "config/default_config.hpp"
#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"
#include "revocation/batch_order.hpp"

namespace {

using namespace revocore;
namespace fs = std::filesystem;

std::string request_der(const pki::X509Certificate& ca, std::uint64_t serial, bool nonce) {
  pki::ScopedOcspRequest request(::OCSP_REQUEST_new());
  pki::ScopedAsn1Integer integer(::ASN1_INTEGER_new());
  ::ASN1_INTEGER_set_uint64(integer.get(), serial);
  ::OCSP_request_add0_id(request.get(),
                         ::OCSP_cert_id_new(::EVP_sha1(), ::X509_get_subject_name(ca.handle()),
                                            ::X509_get0_pubkey_bitstr(ca.handle()), integer.get()));
  if (nonce) {
    ::OCSP_request_add1_nonce(request.get(), nullptr, 16);
  }
  unsigned char* der = nullptr;
  const int length = ::i2d_OCSP_REQUEST(request.get(), &der);
  pki::ScopedOpenSslBytes owned(der);
  return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
}

void write_request(const fs::path& file, const pki::X509Certificate& ca, std::uint64_t serial,
                   bool nonce) {
  std::ofstream(file, std::ios::binary) << request_der(ca, serial, nonce);
}

// "/<base64>" with '/', '+' and '=' %-escaped, as relying parties send it (RFC 6960 A.1).
std::string get_path(const std::string& der) {
  std::string base64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                                  reinterpret_cast<const unsigned char*>(der.data()),
                                  static_cast<int>(der.size()));
  std::string path = "/";
  for (int i = 0; i < n; ++i) {
    const char c = base64[static_cast<std::size_t>(i)];
    path += c == '/' ? "%2F" : c == '+' ? "%2B" : c == '=' ? "%3D" : std::string(1, c);
  }
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: ocsp_bench_data DIR USERS [ROTATION]\n";
    return 2;
  }
  const std::size_t rotation = argc == 4 ? std::strtoul(argv[3], nullptr, 10) : 0;
  const fs::path dir = argv[1];
  const std::size_t users = std::strtoul(argv[2], nullptr, 10);
  const auto ca = pki::X509Certificate::load_file(dir / "pki/ca.pem");

  std::ofstream(dir / "data/revocore.toml")
      << config::kDefaultConfigToml
      << "\n[[issuer]]\nname = \"bench-ca\"\ncertificate = \"../pki/ca.pem\"\n"
         "private_key = \"../pki/ca.key\"\nocsp_certificate = \"../pki/responder.pem\"\n"
         "ocsp_private_key = \"../pki/responder.key\"\n";
  const auto config = config::Configuration::load_file(dir / "data/revocore.toml");
  Store store = Store::create(dir / "data/store", StoreOptions{std::size_t{16} << 30});
  // populate() registers the issuer under the configured name with its real certificate.
  const IssuerId issuer =
      bench::populate(store, users, CertificateStatus::kValid, "bench-ca", ca.front().der());
  {
    // Every 10th certificate revoked, as a realistic mix, journalled as a revocation would be.
    WriteTransaction txn = store.write();
    CertificateOrder order;
    order.process = "CertsProcRevoke";
    order.operator_name = "bench";
    order.time = 1'790'000'000;
    order.reason = ReasonCode::kKeyCompromise;
    for (std::uint64_t serial = 10; serial <= users * 4; serial += 10) {
      order.key = CertificateKey{issuer, Serial::from_hex(fmt::format("{:X}", serial))};
      apply_certificate_order(txn, order);
    }
    txn.commit();
  }
  std::ofstream index(dir / "index.txt");
  for (std::uint64_t serial = 1; serial <= users * 4; ++serial) {
    std::string hex = fmt::format("{:X}", serial);
    if (hex.size() % 2 != 0) {
      hex.insert(hex.begin(), '0');
    }
    if (serial % 10 == 0) {
      index << "R\t300101000000Z\t260924000000Z,keyCompromise\t" << hex << "\tunknown\t/CN=c"
            << serial << "\n";
    } else {
      index << "V\t300101000000Z\t\t" << hex << "\tunknown\t/CN=c" << serial << "\n";
    }
  }
  std::ofstream(dir / "index.txt.attr") << "unique_subject = no\n";
  // A good certificate in the middle of the population (odd, so never one of the revoked tenths).
  const std::uint64_t serial = users * 2 + 1;
  write_request(dir / "request.der", ca.front(), serial, false);
  write_request(dir / "request-nonce.der", ca.front(), serial, true);
  // The users, one per line, for `revocore batch lock` (bench/batch_bench.sh).
  std::ofstream user_list(dir / "users.txt");
  for (std::size_t user = 0; user < users; ++user) {
    user_list << "u" << user << "\n";
  }
  // Requests for a sample of certificates, one per 1/64 of the serial range.
  std::filesystem::create_directories(dir / "sample");
  for (std::uint64_t i = 0; i < 64; ++i) {
    write_request(dir / "sample" / fmt::format("{}.der", i), ca.front(), 1 + i * users * 4 / 64,
                  false);
  }
  if (rotation > 0) {
    // A prime stride walks the whole range and mixes good and revoked (every 10th) serials.
    std::ofstream paths(dir / "rotation.txt");
    const std::uint64_t certificates = users * 4;
    for (std::uint64_t i = 0; i < rotation; ++i) {
      const std::uint64_t rotated = 1 + (i * 7919) % certificates;
      paths << rotated << " " << get_path(request_der(ca.front(), rotated, false)) << "\n";
    }
  }
  std::cout << fmt::format("{} certificates ready in {}\n", users * 4, (dir / "data").string());
  return 0;
}
