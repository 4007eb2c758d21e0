// The operator console: its pages as the listener serves them (files, redirect, policy, the
// refusal page), and the whole console in a real browser (tests/console_browser.py: headless
// Chromium through chromedriver, with operator client certificates) against `revocore serve`.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/console_pages.hpp"
#include "config/configuration.hpp"
#include "revocation/store.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

api::HttpRequest get(const char* target, http::verb method = http::verb::get) {
  api::HttpRequest request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  return request;
}

TEST(ConsolePages, FilesRedirectAndPolicy) {
  EXPECT_TRUE(api::is_console_path("/"));
  EXPECT_TRUE(api::is_console_path("/console"));
  EXPECT_TRUE(api::is_console_path("/console/console.js?v=1"));
  EXPECT_FALSE(api::is_console_path("/consoles"));
  EXPECT_EQ(api::console_response(get("/favicon.ico")).result(), http::status::no_content);
  EXPECT_FALSE(api::is_console_path("/api/v1/whoami"));

  const auto index = api::console_response(get("/console/"));
  EXPECT_EQ(index.result(), http::status::ok);
  EXPECT_EQ(index[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(index.body().find("<script type=\"module\" src=\"/console/console.js\">"),
            std::string::npos);
  const std::string policy(index["Content-Security-Policy"]);
  EXPECT_NE(policy.find("default-src 'none'; script-src 'self'; style-src 'self'"),
            std::string::npos)
      << policy;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe"), std::string::npos) << policy;
  // No inline script or style in the page: the policy would block them.
  EXPECT_EQ(index.body().find("<script>"), std::string::npos);
  EXPECT_EQ(index.body().find("<style"), std::string::npos);
  EXPECT_EQ(index.body().find(" style="), std::string::npos);
  EXPECT_EQ(api::console_response(get("/console/console.js"))[http::field::content_type],
            "text/javascript; charset=utf-8");
  EXPECT_EQ(api::console_response(get("/console/console.css"))[http::field::content_type],
            "text/css; charset=utf-8");
  const auto redirect = api::console_response(get("/"));
  EXPECT_EQ(redirect.result(), http::status::see_other);
  EXPECT_EQ(redirect[http::field::location], "/console/");
  EXPECT_EQ(api::console_response(get("/console/../revocore.toml")).result(),
            http::status::not_found);
  EXPECT_EQ(api::console_response(get("/console/nothing.js")).result(), http::status::not_found);
  EXPECT_EQ(api::console_response(get("/console/", http::verb::post)).result(),
            http::status::method_not_allowed);
  const auto head = api::console_response(get("/console/", http::verb::head));
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_TRUE(head.body().empty());
}

TEST(ConsolePages, TheRefusalPageSaysWhatIsMissingEscaped) {
  const auto none = api::console_refusal(
      Error(ErrorCode::kNotAuthenticated, "no client certificate was presented"), 11);
  EXPECT_EQ(none.result(), http::status::unauthorized);
  EXPECT_NE(none.body().find("<h1>No client certificate</h1>"), std::string::npos);
  const auto refused =
      api::console_refusal(Error(ErrorCode::kOperatorRefused,
                                 "the client certificate 'CN=<script>x</script>' is refused"),
                           11);
  EXPECT_EQ(refused.result(), http::status::forbidden);
  EXPECT_EQ(refused.body().find("<script>"), std::string::npos) << refused.body();
  EXPECT_NE(refused.body().find("CN=&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
}

using testing::read_text;

// Search, profile, Lock user with Cancel and Next (then `openssl ocsp`), an approval between two
// operators' browsers, Reactivate user and Deactivate card, a hostile name, a post from another
// origin, no certificate; screenshots of each page at 1280x800 and 390x844.
TEST(ConsoleInABrowser, OperatorsRunTheProcesses) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  ASSERT_EQ(testing::run_demo(REVOCORE_BINARY, data), 0);
  ASSERT_TRUE(testing::give_approval_step(data / "revocore.toml", "Lock card"));
  std::string config = read_text(data / "revocore.toml");
  // A help desk's role, for the console offering only what the operator may do.
  config +=
      "\n[[role]]\nname = \"help-desk\"\npermissions = [\"process:CardsProcDeactivate\", "
      "\"process:CardsProcReactivate\", \"read:users\"]\n";
  std::ofstream(data / "revocore.toml") << config;
  {
    Store store = Store::open(data / "store");
    WriteTransaction txn = store.write();
    User user = *txn.user("1004");
    user.name = "<img src=x onerror=alert(1)>";
    txn.put_user(user);
    txn.commit();
  }
  testing::ResponderProcess server = testing::start_responder(REVOCORE_BINARY, data, dir.path());
  ASSERT_NE(server.admin_port, 0) << read_text(dir.path() / "serve.err");
  std::string out;
  const int rc = testing::run_command(
      fmt::format("/usr/bin/python3 {} {} {} {} {} {}", CONSOLE_BROWSER_SCRIPT, data.string(),
                  server.admin_port, server.port, CONSOLE_SCREENSHOTS, REVOCORE_BINARY),
      &out);
  testing::stop_responder(server);
  EXPECT_EQ(rc, 0) << out;
  std::cout << out;
}

}  // namespace
}  // namespace revocore
