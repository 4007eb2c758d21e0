#include "ocsp/ocsp_request.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>

#include "pki/x509_certificate.hpp"
#include "revocation/codec.hpp"
#include "revocation/error.hpp"

namespace revocore::ocsp {
namespace {

std::string_view view_of(const ASN1_OCTET_STRING* s) {
  return {reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(::ASN1_STRING_length(s))};
}

}  // namespace

bool decode_get_path(std::string_view path, std::string& base64, std::string& der) {
  base64.clear();
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%') {
      if (i + 2 >= path.size()) {
        return false;
      }
      const int high = codec::hex_digit(path[i + 1]);
      const int low = codec::hex_digit(path[i + 2]);
      if (high < 0 || low < 0) {
        return false;
      }
      base64.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      base64.push_back(path[i]);
    }
  }
  // Some clients leave out the padding; EVP_DecodeBlock wants whole quanta.
  while (base64.size() % 4 != 0) {
    base64.push_back('=');
  }
  if (base64.empty()) {
    return false;
  }
  for (const char c : base64) {
    const bool valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '+' || c == '/' || c == '=';
    if (!valid) {
      return false;
    }
  }
  der.resize(base64.size() / 4 * 3);
  const int length = ::EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                                       reinterpret_cast<const unsigned char*>(base64.data()),
                                       static_cast<int>(base64.size()));
  if (length < 0) {
    return false;
  }
  // EVP_DecodeBlock counts padding as zero octets; drop them.
  std::size_t padding = 0;
  for (std::size_t i = base64.size(); i > 0 && base64[i - 1] == '='; --i) {
    ++padding;
  }
  der.resize(static_cast<std::size_t>(length) - std::min<std::size_t>(padding, 2));
  return true;
}

std::optional<std::string> decode_get_path(std::string_view path) {
  std::string base64;
  std::string der;
  if (!decode_get_path(path, base64, der)) {
    return std::nullopt;
  }
  return der;
}

DecodedRequest decode_ocsp_request(std::string_view der, std::size_t max_ids) {
  DecodedRequest out;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  pki::ScopedOcspRequest request(::d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!request || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    ::ERR_clear_error();
    return out;
  }
  const int count = ::OCSP_request_onereq_count(request.get());
  if (count <= 0) {
    return out;
  }
  if (static_cast<std::size_t>(count) > max_ids) {
    out.error = RequestError::kTooManyIds;
    return out;
  }

  OcspRequest decoded;
  for (int i = 0; i < count; ++i) {
    OCSP_CERTID* id = ::OCSP_onereq_get0_id(::OCSP_request_onereq_get0(request.get(), i));
    ASN1_OCTET_STRING* name_hash = nullptr;
    ASN1_OCTET_STRING* key_hash = nullptr;
    ASN1_OBJECT* algorithm = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (::OCSP_id_get0_info(&name_hash, &algorithm, &key_hash, &serial, id) != 1) {
      return out;
    }
    CertIdView view;
    view.id = id;
    switch (::OBJ_obj2nid(algorithm)) {
      case NID_sha1:
        view.hash = HashAlgorithm::kSha1;
        break;
      case NID_sha256:
        view.hash = HashAlgorithm::kSha256;
        break;
      default:
        break;
    }
    view.issuer_name_hash = view_of(name_hash);
    view.issuer_key_hash = view_of(key_hash);
    try {
      view.serial = pki::serial_of(serial);
    } catch (const Error&) {
      view.serial.reset();
    }
    decoded.ids.push_back(view);
  }

  // RFC 9654 2.1: Nonce ::= OCTET STRING (SIZE(1..32)), wrapped in the extension's extnValue.
  const int nonce_index = ::OCSP_REQUEST_get_ext_by_NID(request.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (nonce_index >= 0) {
    X509_EXTENSION* extension = ::OCSP_REQUEST_get_ext(request.get(), nonce_index);
    const std::string_view value = view_of(::X509_EXTENSION_get_data(extension));
    const auto* q = reinterpret_cast<const unsigned char*>(value.data());
    pki::ScopedOpenSslType<ASN1_OCTET_STRING, ::ASN1_OCTET_STRING_free> nonce(
        ::d2i_ASN1_OCTET_STRING(nullptr, &q, static_cast<long>(value.size())));
    const bool whole =
        nonce && q == reinterpret_cast<const unsigned char*>(value.data() + value.size());
    const int length = nonce ? ::ASN1_STRING_length(nonce.get()) : 0;
    if (!whole || length < 1 || length > 32) {
      ::ERR_clear_error();
      out.error = RequestError::kBadNonce;
      return out;
    }
    decoded.has_nonce = true;
  }
  decoded.request = std::move(request);
  out.request = std::move(decoded);
  return out;
}

}  // namespace revocore::ocsp
