#pragma once
// Ownership of OpenSSL objects: the only place in revocore that names their free functions.
// `ScopedX509 cert(::PEM_read_bio_X509(...));` frees the certificate when it leaves scope.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace revocore::pki {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const noexcept { Free(p); }
};
template <typename T, void (*Free)(T*)>
using ScopedOpenSslType = std::unique_ptr<T, OpenSslDeleter<T, Free>>;

using ScopedX509 = ScopedOpenSslType<X509, ::X509_free>;
using ScopedX509Name = ScopedOpenSslType<X509_NAME, ::X509_NAME_free>;
using ScopedX509Extension = ScopedOpenSslType<X509_EXTENSION, ::X509_EXTENSION_free>;
using ScopedEvpPkey = ScopedOpenSslType<EVP_PKEY, ::EVP_PKEY_free>;
using ScopedBio = ScopedOpenSslType<BIO, ::BIO_free_all>;
using ScopedAsn1Integer = ScopedOpenSslType<ASN1_INTEGER, ::ASN1_INTEGER_free>;
using ScopedBignum = ScopedOpenSslType<BIGNUM, ::BN_free>;
using ScopedEvpMdCtx = ScopedOpenSslType<EVP_MD_CTX, ::EVP_MD_CTX_free>;
using ScopedEvpPkeyCtx = ScopedOpenSslType<EVP_PKEY_CTX, ::EVP_PKEY_CTX_free>;
using ScopedEvpMd = ScopedOpenSslType<EVP_MD, ::EVP_MD_free>;
using ScopedEcdsaSig = ScopedOpenSslType<ECDSA_SIG, ::ECDSA_SIG_free>;
using ScopedX509Crl = ScopedOpenSslType<X509_CRL, ::X509_CRL_free>;
using ScopedX509Store = ScopedOpenSslType<X509_STORE, ::X509_STORE_free>;
using ScopedX509StoreCtx = ScopedOpenSslType<X509_STORE_CTX, ::X509_STORE_CTX_free>;
using ScopedOcspRequest = ScopedOpenSslType<OCSP_REQUEST, ::OCSP_REQUEST_free>;
using ScopedOcspResponse = ScopedOpenSslType<OCSP_RESPONSE, ::OCSP_RESPONSE_free>;
using ScopedOcspBasicResponse = ScopedOpenSslType<OCSP_BASICRESP, ::OCSP_BASICRESP_free>;
using ScopedOcspCertId = ScopedOpenSslType<OCSP_CERTID, ::OCSP_CERTID_free>;
using ScopedAsn1Time = ScopedOpenSslType<ASN1_TIME, ::ASN1_TIME_free>;

// OPENSSL_free is a macro, so it gets a function of its own.
inline void free_openssl_bytes(unsigned char* p) noexcept {
  OPENSSL_free(p);
}
using ScopedOpenSslBytes = ScopedOpenSslType<unsigned char, free_openssl_bytes>;

// The text of OpenSSL's error queue (emptied), for messages: "; OpenSSL says: ...".
std::string drain_openssl_errors();

}  // namespace revocore::pki
