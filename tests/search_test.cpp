// Search (revocation/search.hpp): users by id prefix and by the words of their names, folded;
// credentials by id prefix; certificates by serial prefix in every issuer or in one; paging and
// its bounds; the name index kept with every change of a name and built for an older store.
#include <gtest/gtest.h>

#include "revocation/error.hpp"
#include "revocation/search.hpp"
#include "revocation/store_faults.hpp"
#include "tests/test_support.hpp"

namespace revocore {
namespace {

using testing::StoreBuilder;

class Search : public ::testing::Test {
 protected:
  void SetUp() override {
    issuer_ = build_.issuer("ca-one");
    other_issuer_ = build_.issuer("ca-two");
    name("1001", "Åsa Öberg-Lind");
    name("1002", "Carl Berg");
    name("1003", "Cecilia Carlsson");
    name("2001", "Anna O'Brien");
    build_.credential("card-1001", CredentialType::kCard, "1001");
    build_.credential("card-1002", CredentialType::kCard, "1002");
    build_.credential("mobile-1003", CredentialType::kMobileId, "1003");
    build_.certificate(issuer_, 0x1A2B, "card-1001");
    build_.certificate(issuer_, 0x1A3C, "card-1002");
    build_.certificate(issuer_, 0x1B00, "mobile-1003");
    build_.certificate(other_issuer_, 0x1A2B, "mobile-1003");
    // Serials whose first octet is 80 or above are stored with a sign octet (00) that revocore
    // does not print.
    build_.certificate(issuer_, 0x9F01, "card-1002");
  }

  void name(const std::string& id, const std::string& user_name) {
    build_.user(id);
    WriteTransaction txn = store_.write();
    User user = *txn.user(id);
    user.name = user_name;
    txn.put_user(user);
    txn.commit();
  }

  // "user:1001", "credential:card-1001", "certificate:ca-one/1A2B", in the order found.
  std::vector<std::string> found(std::string_view query, std::size_t limit = 20,
                                 std::size_t offset = 0, bool* more = nullptr) {
    const StoreTransaction txn = store_.read();
    const SearchPage page = search(txn, query, limit, offset);
    if (more != nullptr) {
      *more = page.more;
    }
    std::vector<std::string> out;
    for (const auto& hit : page.hits) {
      switch (hit.kind) {
        case SearchHit::Kind::kUser:
          out.push_back("user:" + hit.user.id);
          break;
        case SearchHit::Kind::kCredential:
          out.push_back("credential:" + hit.credential.id);
          break;
        case SearchHit::Kind::kCertificate:
          out.push_back("certificate:" + txn.issuer(hit.certificate_key.issuer)->name + "/" +
                        hit.certificate_key.serial.hex());
          break;
      }
    }
    return out;
  }

  using Hits = std::vector<std::string>;
  testing::TempDir dir_;
  Store store_ = Store::create(dir_.path() / "store");
  StoreBuilder build_{store_};
  IssuerId issuer_ = 0;
  IssuerId other_issuer_ = 0;
};

TEST_F(Search, UsersByIdAndByTheWordsOfTheirNames) {
  // "100" is hex too: certificates with such a serial would follow; there are none.
  EXPECT_EQ(found("100"), (Hits{"user:1001", "user:1002", "user:1003"}));
  EXPECT_EQ(found("200"), (Hits{"user:2001"}));
  EXPECT_EQ(found("carl"), (Hits{"user:1002", "user:1003"}));  // Carl, Carlsson
  EXPECT_EQ(found("CARLS"), (Hits{"user:1003"}));
  EXPECT_EQ(found("cecilia carl"), (Hits{"user:1003"}));
  EXPECT_EQ(found("carl cecilia"), (Hits{"user:1003"}));
  EXPECT_EQ(found("carl anna"), Hits{});
  // Latin-1 letters fold, hyphens and apostrophes separate words.
  EXPECT_EQ(found("åsa"), (Hits{"user:1001"}));
  EXPECT_EQ(found("ÖBERG"), (Hits{"user:1001"}));
  EXPECT_EQ(found("lind"), (Hits{"user:1001"}));
  EXPECT_EQ(found("brien"), (Hits{"user:2001"}));
  EXPECT_EQ(found("  carls  "), (Hits{"user:1003"}));
  EXPECT_EQ(found("nobody"), Hits{});
}

TEST_F(Search, ARenamedUserIsFoundByTheNewNameOnly) {
  name("1002", "Karl Berg");
  EXPECT_EQ(found("carl"), (Hits{"user:1003"}));
  EXPECT_EQ(found("karl"), (Hits{"user:1002"}));
  EXPECT_EQ(found("berg"), (Hits{"user:1002"}));  // kept: the word did not change
}

TEST_F(Search, CredentialsById) {
  EXPECT_EQ(found("card-"), (Hits{"credential:card-1001", "credential:card-1002"}));
  EXPECT_EQ(found("mobile"), (Hits{"credential:mobile-1003"}));
}

TEST_F(Search, CertificatesBySerialInEveryIssuerOrInOne) {
  EXPECT_EQ(found("1A2B"), (Hits{"certificate:ca-one/1A2B", "certificate:ca-two/1A2B"}));
  EXPECT_EQ(found("1a:2b"), (Hits{"certificate:ca-one/1A2B", "certificate:ca-two/1A2B"}));
  EXPECT_EQ(found("1A"), (Hits{"certificate:ca-one/1A2B", "certificate:ca-one/1A3C",
                               "certificate:ca-two/1A2B"}));
  // Half an octet: 1A2, 1A3, 1B.
  EXPECT_EQ(found("1A3"), (Hits{"certificate:ca-one/1A3C"}));
  // Users first (their ids start with 1 too), then certificates.
  EXPECT_EQ(found("1"), (Hits{"user:1001", "user:1002", "user:1003", "certificate:ca-one/1A2B",
                              "certificate:ca-one/1A3C", "certificate:ca-one/1B00",
                              "certificate:ca-two/1A2B"}));
  EXPECT_EQ(found("9F"), (Hits{"certificate:ca-one/9F01"}));
  EXPECT_EQ(found("9"), (Hits{"certificate:ca-one/9F01"}));
  EXPECT_EQ(found("ca-two/1A"), (Hits{"certificate:ca-two/1A2B"}));
  EXPECT_EQ(found("ca-two/1B"), Hits{});
  EXPECT_EQ(found("ca-nine/1A"), Hits{});
  EXPECT_EQ(found("1A2B00"), Hits{});
  EXPECT_EQ(found("1G"), Hits{});
}

TEST_F(Search, PagesAreBounded) {
  bool more = false;
  EXPECT_EQ(found("ca-one/1", 2, 0, &more),
            (Hits{"certificate:ca-one/1A2B", "certificate:ca-one/1A3C"}));
  EXPECT_TRUE(more);
  EXPECT_EQ(found("ca-one/1", 2, 2, &more), (Hits{"certificate:ca-one/1B00"}));
  EXPECT_FALSE(more);
  EXPECT_EQ(found("ca-one/1", 2, 4, &more), Hits{});
  EXPECT_FALSE(more);
  EXPECT_EQ(found("1", 3, 0, &more), (Hits{"user:1001", "user:1002", "user:1003"}));
  EXPECT_TRUE(more);
  const StoreTransaction txn = store_.read();
  for (const auto& [query, limit, offset, says] :
       std::vector<std::tuple<std::string, std::size_t, std::size_t, std::string>>{
           {"", 20, 0, "the search is empty"},
           {"   ", 20, 0, "the search is empty"},
           {std::string(201, 'a'), 20, 0, "at most 200"},
           {"a\nb", 20, 0, "control character"},
           {"a", 0, 0, "the limit must be 1 to 100"},
           {"a", 101, 0, "the limit must be 1 to 100"},
           {"a", 20, 1001, "the offset must be at most 1000"}}) {
    try {
      search(txn, query, limit, offset);
      ADD_FAILURE() << "'" << query << "' was searched";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  }
}

// A store written before search has no name index: the first open builds it.
TEST(SearchIndex, IsBuiltWhenAStoreWithoutOneIsOpened) {
  testing::TempDir dir;
  {
    Store store = Store::create(dir.path() / "store");
    StoreBuilder build(store);
    build.user("7");
    WriteTransaction txn = store.write();
    User user = *txn.user("7");
    user.name = "Greta Garbo";
    txn.put_user(user);
    store_faults::drop_user_name_index(txn);
    txn.commit();
  }
  Store store = Store::open(dir.path() / "store");
  const auto page = search(store.read(), "garbo", 20, 0);
  ASSERT_EQ(page.hits.size(), 1u);
  EXPECT_EQ(page.hits[0].user.id, "7");
}

}  // namespace
}  // namespace revocore
