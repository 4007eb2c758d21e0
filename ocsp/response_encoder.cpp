#include "ocsp/response_encoder.hpp"

namespace revocore::ocsp {
namespace {

// id-pkix-ocsp-basic (RFC 6960 4.2.1), the whole OID TLV.
constexpr std::string_view kBasicResponseOid{"\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x01", 11};

}  // namespace

void write_cert_status(der::Writer& w, const CertStatus& status) {
  switch (status.kind()) {
    case CertStatus::Kind::kGood:
      w.implicit_null(der::kContextPrimitive0);  // good [0] IMPLICIT NULL
      return;
    case CertStatus::Kind::kRevoked:
      // revoked [1] IMPLICIT RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
      //     revocationReason [0] EXPLICIT CRLReason OPTIONAL }
      w.nested(der::kContext1, [&] {
        w.generalized_time(status.revocation_time());
        if (const auto reason = status.reason()) {
          w.explicit_tag(0, [&] { w.enumerated(static_cast<std::uint8_t>(*reason)); });
        }
      });
      return;
    case CertStatus::Kind::kUnknown:
      w.implicit_null(der::kContextPrimitive2);  // unknown [2] IMPLICIT UnknownInfo (NULL)
      return;
  }
}

void write_single_response(der::Writer& w, const SingleResponse& response, UnixTime this_update,
                           UnixTime next_update) {
  w.sequence([&] {
    w.raw(response.cert_id);
    write_cert_status(w, response.status);
    w.generalized_time(this_update);
    w.explicit_tag(0, [&] { w.generalized_time(next_update); });
    if (response.archive_cutoff) {
      // RFC 6960 4.4.4: ArchiveCutoff ::= GeneralizedTime, id-pkix-ocsp-archive-cutoff.
      static constexpr std::string_view kArchiveCutoff{
          "\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x06", 11};  // 1.3.6.1.5.5.7.48.1.6
      w.explicit_tag(1, [&] {
        w.sequence([&] {
          w.sequence([&] {
            w.raw(kArchiveCutoff);
            w.octet_string_of([&] { w.generalized_time(*response.archive_cutoff); });
          });
        });
      });
    }
  });
}

void encode_response_data(std::string& out, std::string_view responder_id, UnixTime produced_at,
                          std::span<const SingleResponse> responses, UnixTime this_update,
                          UnixTime next_update, std::string_view nonce_extension) {
  out.clear();
  der::Writer w(out);
  w.sequence([&] {
    w.raw(responder_id);
    w.generalized_time(produced_at);
    w.sequence([&] {
      for (const SingleResponse& response : responses) {
        write_single_response(w, response, this_update, next_update);
      }
    });
    if (!nonce_extension.empty()) {
      w.explicit_tag(1, [&] { w.sequence([&] { w.raw(nonce_extension); }); });
    }
  });
}

void encode_successful_response(std::string& out, std::string_view response_data,
                                std::string_view signature_algorithm, std::string_view signature,
                                std::string_view certs) {
  out.clear();
  der::Writer w(out);
  w.sequence([&] {  // OCSPResponse: responseStatus, then
    w.enumerated(static_cast<std::uint8_t>(ResponseStatus::kSuccessful));
    w.explicit_tag(0, [&] {              //   responseBytes [0] EXPLICIT
      w.sequence([&] {                   //   ResponseBytes
        w.raw(kBasicResponseOid);        //     responseType
        w.octet_string_of([&] {          //     response
          w.sequence([&] {               //     BasicOCSPResponse
            w.raw(response_data);        //       tbsResponseData
            w.raw(signature_algorithm);  //       signatureAlgorithm
            w.bit_string(signature);     //       signature
            w.raw(certs);                //       certs [0] OPTIONAL
          });
        });
      });
    });
  });
}

std::string encode_error_response(ResponseStatus status) {
  std::string out;
  der::Writer w(out);
  w.sequence([&] { w.enumerated(static_cast<std::uint8_t>(status)); });
  return out;
}

}  // namespace revocore::ocsp
