// `revocore serve` against clients nobody here wrote: `openssl ocsp` (POST, with and without a
// nonce, -VAfile and -CAfile), GnuTLS `ocsptool --ask`, and curl for GET, whose answers openssl
// and ocsptool then verify. Answers change the moment a lifecycle process commits; bad requests
// get the right error and the server keeps serving; SIGTERM stops it cleanly.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;

// A demo data directory and a responder on a free loopback port, per test process (ctest runs
// each test in its own process; a plain run of the binary shares them across the suite).
class OcspInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    ASSERT_EQ(testing::run_command(fmt::format("{} --data-dir {} --operator demo demo",
                                               REVOCORE_BINARY, data().string())),
              0);
    // A certificate of the demo CA that was never imported: OCSP "unknown".
    ASSERT_EQ(testing::run_command(
                  fmt::format("cd {0} && openssl req -new -newkey ec -pkeyopt "
                              "ec_paramgen_curve:P-256 -nodes -subj /CN=stranger -keyout "
                              "stranger.key -out stranger.csr && openssl x509 -req -in "
                              "stranger.csr -CA pki/issuing-ca.pem -CAkey pki/issuing-ca.key "
                              "-set_serial 0x5eed -days 5 -out stranger.pem",
                              data().string())),
              0);
    const auto responder = testing::start_responder(REVOCORE_BINARY, data(), dir_->path());
    pid_ = responder.pid;
    port_ = responder.port;
    ASSERT_NE(port_, 0) << "revocore serve did not start";
  }

  // A failed SetUpTestSuite would only skip the tests; fail each of them instead.
  void SetUp() override { ASSERT_NE(port_, 0) << "revocore serve did not start"; }

  static void TearDownTestSuite() {
    testing::ResponderProcess responder{pid_, port_};
    testing::stop_responder(responder);
    delete dir_;
  }

  static fs::path data() { return dir_->path() / "data"; }
  static std::string url() { return fmt::format("http://127.0.0.1:{}/", port_); }
  static std::string file(const char* name) { return (data() / name).string(); }

  // `openssl ocsp` for one certificate: the status line and whether the response verified.
  static std::string openssl_status(const std::string& cert, const std::string& extra) {
    std::string output;
    testing::run_command(fmt::format("openssl ocsp -issuer {} -cert {} -url {} {}",
                                     file("pki/issuing-ca.pem"), cert, url(), extra),
                         &output);
    return output;
  }

  static void revocore(const std::string& args) {
    std::string output;
    ASSERT_EQ(testing::run_command(fmt::format("{} --data-dir {} --operator carol {}",
                                               REVOCORE_BINARY, data().string(), args),
                                   &output),
              0)
        << output;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline pid_t pid_ = 0;
  static inline int port_ = 0;
};

TEST_F(OcspInterop, OpensslOcspVerifiesEveryStatusWithAndWithoutNonce) {
  const std::string va = "-VAfile " + file("pki/ocsp-responder.pem");
  const std::string chain = fmt::format("-CAfile {} -verify_other {}", file("pki/root-ca.pem"),
                                        file("pki/issuing-ca.pem"));
  std::string out = openssl_status(file("import/card-1001.pem"), va);
  EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
  EXPECT_NE(out.find(": revoked"), std::string::npos) << out;
  EXPECT_NE(out.find("Reason: affiliationChanged"), std::string::npos) << out;
  EXPECT_EQ(out.find("WARNING: no nonce"), std::string::npos) << out;  // nonce echoed

  out = openssl_status(file("import/card-1005.pem"), chain + " -no_nonce");  // on hold
  EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
  EXPECT_NE(out.find("Reason: certificateHold"), std::string::npos) << out;

  out = openssl_status(file("import/card-1003.pem"), chain);
  EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
  EXPECT_NE(out.find(": good"), std::string::npos) << out;

  out = openssl_status(file("stranger.pem"), va + " -no_nonce");
  EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
  EXPECT_NE(out.find(": unknown"), std::string::npos) << out;
}

TEST_F(OcspInterop, GnutlsOcsptoolAsksAndVerifies) {
  for (const auto& [cert, status] :
       {std::pair{"import/card-1001.pem", "revoked"}, std::pair{"import/card-1003.pem", "good"},
        std::pair{"import/mobile-1005.pem", "revoked"}}) {
    std::string out;
    testing::run_command(
        fmt::format("ocsptool --ask={} --load-issuer {} --load-cert {} --load-trust {} --nonce",
                    url(), file("pki/issuing-ca.pem"), file(cert), file("pki/issuing-ca.pem")),
        &out);
    EXPECT_NE(out.find(fmt::format("Certificate Status: {}", status)), std::string::npos) << out;
    EXPECT_NE(out.find("Verifying OCSP Response: Success."), std::string::npos) << out;
    testing::run_command(
        fmt::format("ocsptool --ask={} --load-issuer {} --load-cert {} --load-signer {}", url(),
                    file("pki/issuing-ca.pem"), file(cert), file("pki/ocsp-responder.pem")),
        &out);
    EXPECT_NE(out.find("Verifying OCSP Response: Success."), std::string::npos) << out;
  }
}

TEST_F(OcspInterop, GetRequestsAnswerWithCachingHeadersAndVerify) {
  const fs::path req = dir_->path() / "get.req";
  const fs::path resp = dir_->path() / "get.resp";
  ASSERT_EQ(testing::run_command(fmt::format(
                "openssl ocsp -issuer {} -cert {} -no_nonce -reqout {}", file("pki/issuing-ca.pem"),
                file("import/card-1001.pem"), req.string())),
            0);
  std::string headers;
  ASSERT_EQ(
      testing::run_command(fmt::format("curl -s -D - -o {} \"{}$(base64 -w0 {} | sed 's|/|%2F|g; "
                                       "s|+|%2B|g; s|=|%3D|g')\"",
                                       resp.string(), url(), req.string()),
                           &headers),
      0);
  EXPECT_NE(headers.find("HTTP/1.1 200"), std::string::npos) << headers;
  EXPECT_NE(headers.find("Content-Type: application/ocsp-response"), std::string::npos) << headers;
  EXPECT_NE(headers.find("Cache-Control: max-age="), std::string::npos) << headers;
  EXPECT_NE(headers.find("ETag: \""), std::string::npos) << headers;
  EXPECT_NE(headers.find("Expires: "), std::string::npos) << headers;
  // Last-Modified (thisUpdate) once the answer's second is over (ocsp/conditional_request.hpp):
  // asked again a second later, the stored answer has it.
  ::usleep(1'100'000);
  ASSERT_EQ(testing::run_command(fmt::format("curl -s -D - -o /dev/null \"{}$(base64 -w0 {} | sed "
                                             "'s|/|%2F|g; s|+|%2B|g; s|=|%3D|g')\"",
                                             url(), req.string()),
                                 &headers),
            0);
  EXPECT_NE(headers.find("Last-Modified: "), std::string::npos) << headers;
  std::string out;
  testing::run_command(fmt::format("openssl ocsp -respin {} -issuer {} -cert {} -VAfile {}",
                                   resp.string(), file("pki/issuing-ca.pem"),
                                   file("import/card-1001.pem"), file("pki/ocsp-responder.pem")),
                       &out);
  EXPECT_NE(out.find("Response verify OK"), std::string::npos) << out;
  EXPECT_NE(out.find(": revoked"), std::string::npos) << out;
  testing::run_command(fmt::format("ocsptool --response-info --infile {} --inder", resp.string()),
                       &out);
  EXPECT_NE(out.find("Certificate Status: revoked"), std::string::npos) << out;
  // The same request with raw slashes in the path.
  ASSERT_EQ(testing::run_command(fmt::format("curl -s -o {}.raw \"{}$(base64 -w0 {})\"",
                                             resp.string(), url(), req.string())),
            0);
  testing::run_command(fmt::format("openssl ocsp -respin {}.raw -issuer {} -cert {} -VAfile {}",
                                   resp.string(), file("pki/issuing-ca.pem"),
                                   file("import/card-1001.pem"), file("pki/ocsp-responder.pem")),
                       &out);
  EXPECT_NE(out.find(": revoked"), std::string::npos) << out;
}

TEST_F(OcspInterop, AnswersChangeTheMomentALifecycleProcessCommits) {
  const std::string va = "-no_nonce -VAfile " + file("pki/ocsp-responder.pem");
  const std::string card = file("import/card-1003.pem");
  const std::string mobile = file("import/mobile-1003.pem");
  // Warm the pre-signed store with "good" answers first.
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(openssl_status(card, va).find(": good"), std::string::npos);
    ::usleep(150'000);
  }
  revocore("card deactivate card-1003 --reason 'Card not in use'");
  std::string out = openssl_status(card, va);
  EXPECT_NE(out.find("Reason: certificateHold"), std::string::npos) << out;
  revocore("user deactivate 1003 --reason 'Leave of absence'");
  EXPECT_NE(openssl_status(mobile, va).find("Reason: certificateHold"), std::string::npos);
  revocore("user reactivate 1003 --reason 'Returned from leave'");
  EXPECT_NE(openssl_status(mobile, va).find(": good"), std::string::npos);
  EXPECT_NE(openssl_status(card, va).find(": good"), std::string::npos);  // inactive card: active
  revocore("user lock 1003 --reason 'Key compromise'");
  out = openssl_status(mobile, va);
  EXPECT_NE(out.find("Reason: keyCompromise"), std::string::npos) << out;
  EXPECT_NE(openssl_status(card, va).find("Reason: keyCompromise"), std::string::npos);
}

// curl's own conditional requests against the real server: --etag-save/--etag-compare and
// --time-cond (If-Modified-Since), before and after a process changes the delta CRL.
TEST_F(OcspInterop, CurlRevalidatesCrlsWithETagsAndDates) {
  const fs::path work = dir_->path();
  // Last-Modified is given once a CRL's second is over (ocsp/conditional_request.hpp); the demo
  // may have published the last one a moment ago.
  ::usleep(1'100'000);
  const auto status_of = [&](const std::string& options, const std::string& path) {
    std::string code;
    testing::run_command(
        fmt::format("curl -s -o /dev/null -w '%{{http_code}}' {} {}{}", options, url(), path),
        &code);
    return code;
  };
  for (const std::string name : {"full", "delta"}) {
    const std::string path =
        name == "full" ? "crl/demo-issuing-ca.crl" : "crl/demo-issuing-ca-delta.crl";
    std::string headers;
    ASSERT_EQ(
        testing::run_command(fmt::format("curl -s -D - -o '{}/{}.crl' --etag-save '{}/{}.etag' "
                                         "{}{}",
                                         work.string(), name, work.string(), name, url(), path),
                             &headers),
        0);
    EXPECT_NE(headers.find("HTTP/1.1 200 OK"), std::string::npos) << headers;
    EXPECT_NE(headers.find("Content-Type: application/pkix-crl"), std::string::npos) << headers;
    EXPECT_NE(headers.find("Cache-Control: max-age="), std::string::npos) << headers;
    EXPECT_EQ(status_of(fmt::format("--etag-compare '{}/{}.etag'", work.string(), name), path),
              "304");
    const auto at = headers.find("Last-Modified: ");
    ASSERT_NE(at, std::string::npos) << headers;
    const std::string last_modified = headers.substr(at + 15, 29);
    EXPECT_EQ(status_of(fmt::format("--time-cond '{}'", last_modified), path), "304");
    // The file curl saved is the CRL openssl reads.
    EXPECT_EQ(testing::run_command(fmt::format("openssl crl -inform DER -in '{}/{}.crl' -noout",
                                               work.string(), name)),
              0);
  }
  // HEAD: the same headers, no body.
  std::string head;
  testing::run_command(fmt::format("curl -s -I {}crl/demo-issuing-ca.crl", url()), &head);
  EXPECT_NE(head.find("ETag: \""), std::string::npos) << head;

  // A process publishes a new delta over the same full CRL: the delta is no longer what curl
  // holds, the full CRL still is.
  revocore("user lock 1005 --reason 'Key compromise'");
  EXPECT_EQ(status_of(fmt::format("--etag-compare '{}/delta.etag'", work.string()),
                      "crl/demo-issuing-ca-delta.crl"),
            "200");
  EXPECT_EQ(status_of(fmt::format("--etag-compare '{}/full.etag'", work.string()),
                      "crl/demo-issuing-ca.crl"),
            "304");
}

TEST_F(OcspInterop, BadRequestsGetTheRightErrorAndTheServerKeepsServing) {
  std::string out;
  testing::run_command(fmt::format("printf 'garbage' | curl -s --data-binary @- -H 'Content-Type: "
                                   "application/ocsp-request' {} | od -An -tx1",
                                   url()),
                       &out);
  EXPECT_NE(out.find("30 03 0a 01 01"), std::string::npos) << out;  // malformedRequest
  testing::run_command(
      fmt::format("head -c 20000 /dev/zero | curl -s -o /dev/null -w '%{{http_code}}' "
                  "--data-binary @- {}",
                  url()),
      &out);
  EXPECT_EQ(out, "413");
  testing::run_command(fmt::format("curl -s -o /dev/null -w '%{{http_code}}' -X PUT {}", url()),
                       &out);
  EXPECT_EQ(out, "405");
  testing::run_command(
      fmt::format("printf 'NOT HTTP AT ALL\\r\\n\\r\\n' | timeout 5 bash -c 'exec 3<>/dev/tcp/"
                  "127.0.0.1/{}; cat >&3; cat <&3' | head -1",
                  port_),
      &out);
  EXPECT_NE(out.find("400"), std::string::npos) << out;
  testing::run_command(fmt::format("curl -s {}health", url()), &out);
  EXPECT_EQ(out, "ok\n");
  testing::run_command(
      fmt::format("curl -s {}crl/demo-issuing-ca.crl | openssl crl -inform DER -noout -CAfile {} "
                  "-verify",
                  url(), file("pki/issuing-ca.pem")),
      &out);
  EXPECT_NE(out.find("verify OK"), std::string::npos) << out;
  testing::run_command(fmt::format("curl -s {}metrics", url()), &out);
  EXPECT_NE(out.find("revocore_ocsp_responses_total{outcome=\"malformed_request\"}"),
            std::string::npos);
}

TEST_F(OcspInterop, SigtermDrainsAndExitsCleanly) {
  // Defined last: in a plain run of the binary the suite's tests run in this order.
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int status = -1;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      break;
    }
    ::usleep(50'000);
  }
  ASSERT_TRUE(WIFEXITED(status)) << "revocore serve did not exit within 5 s of SIGTERM";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  pid_ = 0;
  std::stringstream log;
  log << std::ifstream(dir_->path() / "serve.err").rdbuf();
  EXPECT_NE(log.str().find("event=stopped"), std::string::npos) << log.str();
}

}  // namespace
}  // namespace revocore
