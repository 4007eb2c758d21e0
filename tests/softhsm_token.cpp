#include "tests/softhsm_token.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace revocore::testing {
namespace {

void run(const std::string& command) {
  std::string output;
  if (run_command(command + " 2>&1", &output) != 0) {
    throw std::runtime_error(fmt::format("`{}` failed:\n{}", command, output));
  }
}

}  // namespace

SoftHsmToken::SoftHsmToken(const std::filesystem::path& directory, const std::string& label)
    : directory_(directory), label_(label) {
  std::filesystem::create_directories(directory_ / "tokens");
  std::ofstream(directory_ / "softhsm2.conf")
      << "directories.tokendir = " << (directory_ / "tokens").string()
      << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  ::setenv("SOFTHSM2_CONF", (directory_ / "softhsm2.conf").c_str(), 1);
  run(fmt::format("softhsm2-util --init-token --free --label '{}' --so-pin 87654321 --pin '{}'",
                  label_, kPin));
  root_ = directory_ / "root.pem";
  root_key_ = directory_ / "root.key";
  run(
      fmt::format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                  "-keyout '{}' -out '{}' -subj '/O=revocore test/CN=HSM test root' -days 30 "
                  "-addext basicConstraints=critical,CA:TRUE "
                  "-addext keyUsage=critical,keyCertSign,cRLSign",
                  root_key_.string(), root_.string()));
}

std::string SoftHsmToken::tool() const {
  return fmt::format("pkcs11-tool --module {} --token-label '{}'", kSoftHsmModule, label_);
}

void SoftHsmToken::generate(const std::string& key_type, const std::string& object,
                            const std::string& id) {
  run(fmt::format("{} --login --pin '{}' --keypairgen --key-type {} --label '{}' --id {}", tool(),
                  kPin, key_type, object, id));
}

void SoftHsmToken::certify(const std::string& id, const std::string& common_name,
                           const std::filesystem::path& out, bool ocsp_signing) {
  const auto public_pem = directory_ / fmt::format("pub-{}.pem", id);
  // GnuTLS's p11tool exports every key type (OpenSC 0.23's pkcs11-tool fails on P-384 with
  // OpenSSL 3 and writes Ed25519 keys as PEM, others as DER).
  run(
      fmt::format("GNUTLS_PIN='{}' p11tool --login --provider {} --export-pubkey "
                  "'pkcs11:token={};id=%{}' --outfile '{}'",
                  kPin, kSoftHsmModule, label_, id, public_pem.string()));
  const auto extensions = directory_ / fmt::format("ext-{}.cnf", id);
  std::ofstream(extensions) << (ocsp_signing ? "basicConstraints=critical,CA:FALSE\n"
                                               "keyUsage=critical,digitalSignature\n"
                                               "extendedKeyUsage=OCSPSigning\n"
                                             : "basicConstraints=critical,CA:TRUE\n"
                                               "keyUsage=critical,keyCertSign,cRLSign\n")
                            << "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
  run(
      fmt::format("openssl x509 -new -subj '/O=revocore test/CN={}' -force_pubkey '{}' -CA '{}' "
                  "-CAkey '{}' -days 30 -extfile '{}' -out '{}'",
                  common_name, public_pem.string(), root_.string(), root_key_.string(),
                  extensions.string(), out.string()));
}

std::filesystem::path SoftHsmToken::pin_file(unsigned mode) const {
  const auto path = directory_ / "pin.txt";
  std::ofstream(path) << kPin << "\n";
  ::chmod(path.c_str(), mode);
  return path;
}

std::string SoftHsmToken::uri(const std::string& object) const {
  return fmt::format("pkcs11:token={};object={};type=private;pin-source=file:{}", label_, object,
                     pin_file().string());
}

}  // namespace revocore::testing
