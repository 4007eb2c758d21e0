// Asks a running responder about every certificate of one issuer in a data directory and
// compares each answer with the store: the full consistency check after bench/soak.sh's load.
// Requests carry 16 CertIDs each (the responder's default max_cert_ids) over one keep-alive
// connection to 127.0.0.1; every response's signature is verified with OpenSSL against the CA
// (the delegated responder's certificate travels in the response, RFC 6960 4.2.2.2), and every
// CertID's status compared: valid must be good, revoked revoked with its reason, on hold revoked
// with certificateHold. Read the store after the load has ended: a certificate that changes
// while this runs is reported as a difference.
//
// Usage: ocsp_full_check DATA_DIR ISSUER_NAME CA_PEM PORT
// Prints: certificates checked, differences, requests, seconds. Exits 1 on any difference or
// error.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"
#include "revocation/posix_file.hpp"
#include "revocation/store.hpp"

namespace {

using namespace revocore;

constexpr std::size_t kCertIdsPerRequest = 16;

struct Expected {
  Serial serial;
  CertificateStatus status;
  ReasonCode reason;
};

FileDescriptor connect_loopback(int port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM, 0));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return FileDescriptor();
  }
  return fd;
}

// POSTs `der` and returns the body of the answer; empty on any error.
std::string post(int fd, const std::string& der, std::string& pending) {
  const std::string request =
      fmt::format(
          "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n"
          "Content-Length: {}\r\n\r\n",
          der.size()) +
      der;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return {};
  }
  char buffer[16384];
  while (true) {
    const auto header_end = pending.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      const auto at = pending.find("Content-Length: ");
      if (at == std::string::npos || at > header_end) {
        return {};
      }
      const std::size_t length = std::strtoul(pending.c_str() + at + 16, nullptr, 10);
      if (pending.size() >= header_end + 4 + length) {
        std::string body = pending.substr(header_end + 4, length);
        pending.erase(0, header_end + 4 + length);
        return body;
      }
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return {};
    }
    pending.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: ocsp_full_check DATA_DIR ISSUER_NAME CA_PEM PORT\n";
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto ca = pki::X509Certificate::load_file(argv[3]);
  const int port = std::atoi(argv[4]);
  std::vector<Expected> expected;
  {
    const Store store = Store::open(std::filesystem::path(argv[1]) / "store");
    const StoreTransaction txn = store.read();
    const auto issuer = txn.issuer_by_name(argv[2]);
    if (!issuer) {
      std::cerr << "no issuer " << argv[2] << " in the store\n";
      return 2;
    }
    txn.for_each_certificate_of(issuer->id, [&](const CertificateStatusView& c) {
      expected.push_back({Serial::from_der_content(c.serial_octets), c.status, c.reason});
    });
  }

  pki::ScopedX509Store trusted(::X509_STORE_new());
  ::X509_STORE_add_cert(trusted.get(), ca.front().handle());
  const FileDescriptor connection = connect_loopback(port);
  if (!connection.valid()) {
    std::cerr << "cannot connect to 127.0.0.1:" << port << "\n";
    return 2;
  }
  std::string pending;
  std::size_t checked = 0, differences = 0, requests = 0, errors = 0;
  for (std::size_t first = 0; first < expected.size(); first += kCertIdsPerRequest) {
    const std::size_t count = std::min(kCertIdsPerRequest, expected.size() - first);
    pki::ScopedOcspRequest request(::OCSP_REQUEST_new());
    std::vector<pki::ScopedOcspCertId> ids;
    for (std::size_t i = first; i < first + count; ++i) {
      const std::string_view octets = expected[i].serial.octets();
      pki::ScopedBignum number(::BN_bin2bn(reinterpret_cast<const unsigned char*>(octets.data()),
                                           static_cast<int>(octets.size()), nullptr));
      pki::ScopedAsn1Integer serial(::BN_to_ASN1_INTEGER(number.get(), nullptr));
      OCSP_CERTID* id =
          ::OCSP_cert_id_new(::EVP_sha1(), ::X509_get_subject_name(ca.front().handle()),
                             ::X509_get0_pubkey_bitstr(ca.front().handle()), serial.get());
      ids.emplace_back(::OCSP_CERTID_dup(id));
      ::OCSP_request_add0_id(request.get(), id);  // the request owns `id` now
    }
    unsigned char* der = nullptr;
    const int length = ::i2d_OCSP_REQUEST(request.get(), &der);
    pki::ScopedOpenSslBytes owned(der);
    const std::string body =
        post(connection.get(), std::string(reinterpret_cast<char*>(der), length), pending);
    ++requests;
    const auto* p = reinterpret_cast<const unsigned char*>(body.data());
    pki::ScopedOcspResponse response(
        ::d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(body.size())));
    pki::ScopedOcspBasicResponse basic(response ? ::OCSP_response_get1_basic(response.get())
                                                : nullptr);
    if (!basic || ::OCSP_response_status(response.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
        ::OCSP_basic_verify(basic.get(), nullptr, trusted.get(), 0) != 1) {
      ++errors;
      if (errors <= 5) {
        std::cerr << "request " << requests << ": no verified successful response\n";
      }
      continue;
    }
    for (std::size_t i = 0; i < count; ++i) {
      int status = -1, reason = -1;
      ::OCSP_resp_find_status(basic.get(), ids[i].get(), &status, &reason, nullptr, nullptr,
                              nullptr);
      const Expected& want = expected[first + i];
      const bool ok = want.status == CertificateStatus::kValid
                          ? status == V_OCSP_CERTSTATUS_GOOD
                          : status == V_OCSP_CERTSTATUS_REVOKED &&
                                (want.status == CertificateStatus::kOnHold
                                     ? reason == OCSP_REVOKED_STATUS_CERTIFICATEHOLD
                                     : (reason == static_cast<int>(want.reason) ||
                                        (reason == -1 && want.reason == ReasonCode::kUnspecified)));
      ++checked;
      if (!ok) {
        ++differences;
        if (differences <= 10) {
          std::cerr << fmt::format("serial {}: store {} ({}), OCSP status {} reason {}\n",
                                   want.serial.hex(), to_string(want.status),
                                   to_string(want.reason), status, reason);
        }
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << fmt::format(
      "full check: {} certificates, {} differences, {} requests ({} failed), {:.1f} s\n", checked,
      differences, requests, errors, seconds);
  return differences == 0 && errors == 0 && checked == expected.size() ? 0 : 1;
}
