// Fuzz target: the OCSP request decoder (DER from the network), checked against OpenSSL's.
// Every input OpenSSL decodes and would encode to the same bytes (a DER request) must decode the
// same here: the same CertIDs, hashes, serials and nonce. A difference aborts, so the fuzzer
// reports it and the corpus replay in ctest keeps it a test. (revocore may be more lenient
// than OpenSSL in parts it ignores, such as requestorName, so the converse is not checked.)
#include <openssl/ocsp.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ocsp/ocsp_request.hpp"
#include "pki/openssl_handles.hpp"
#include "pki/x509_certificate.hpp"
#include "revocation/error.hpp"

namespace {

using namespace revocore;

[[noreturn]] void differs(const char* what) {
  std::fprintf(stderr, "decode_ocsp_request differs from OpenSSL: %s\n", what);
  std::abort();
}

std::string_view view_of(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(::ASN1_STRING_length(s))};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view der(reinterpret_cast<const char*>(data), size);
  ocsp::OcspRequest ours;
  const ocsp::RequestDecoding result = ocsp::decode_ocsp_request(der, 16, ours);

  const unsigned char* p = data;
  pki::ScopedOcspRequest theirs(::d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(size)));
  if (!theirs || p != data + size) {
    return 0;
  }
  unsigned char* reencoded = nullptr;
  const int length = ::i2d_OCSP_REQUEST(theirs.get(), &reencoded);
  pki::ScopedOpenSslBytes owned(reencoded);
  if (length != static_cast<int>(size) ||
      std::string_view(reinterpret_cast<char*>(reencoded), size) != der) {
    return 0;  // not DER
  }
  const int count = ::OCSP_request_onereq_count(theirs.get());
  if (count < 1 || count > 16) {
    return 0;
  }
  const int nonce_index = ::OCSP_REQUEST_get_ext_by_NID(theirs.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (result == ocsp::RequestDecoding::kBadNonce && nonce_index >= 0) {
    return 0;  // OpenSSL does not check the nonce's length
  }
  if (result != ocsp::RequestDecoding::kOk) {
    differs("refused a DER request OpenSSL decodes");
  }
  if (ours.ids.size() != static_cast<std::size_t>(count)) {
    differs("number of CertIDs");
  }
  if (ours.has_nonce() != (nonce_index >= 0)) {
    differs("nonce");
  }
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = ::OCSP_onereq_get0_id(::OCSP_request_onereq_get0(theirs.get(), i));
    ASN1_OCTET_STRING* name_hash = nullptr;
    ASN1_OCTET_STRING* key_hash = nullptr;
    ASN1_OBJECT* algorithm = nullptr;
    ASN1_INTEGER* serial = nullptr;
    ::OCSP_id_get0_info(&name_hash, &algorithm, &key_hash, &serial, id);
    const ocsp::CertIdView& mine = ours.ids[static_cast<std::size_t>(i)];
    if (mine.issuer_name_hash != view_of(name_hash) || mine.issuer_key_hash != view_of(key_hash)) {
      differs("issuer hashes");
    }
    const int nid = ::OBJ_obj2nid(algorithm);
    const bool sha1 = mine.hash == ocsp::HashAlgorithm::kSha1;
    const bool sha256 = mine.hash == ocsp::HashAlgorithm::kSha256;
    if (sha1 != (nid == NID_sha1) || sha256 != (nid == NID_sha256)) {
      differs("hash algorithm");
    }
    unsigned char* id_der = nullptr;
    const int id_length = ::i2d_OCSP_CERTID(id, &id_der);
    pki::ScopedOpenSslBytes id_owned(id_der);
    if (mine.der !=
        std::string_view(reinterpret_cast<char*>(id_der), static_cast<std::size_t>(id_length))) {
      differs("CertID bytes");
    }
    std::optional<Serial> expected;
    try {
      expected = pki::serial_of(serial);
    } catch (const Error&) {
    }
    if (mine.serial.has_value() != expected.has_value() ||
        (expected && !(*mine.serial == *expected))) {
      differs("serial");
    }
  }
  return 0;
}
