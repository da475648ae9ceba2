// Route templates and the HTTP/JSON ⇄ message mapping, without servers.
#include "services/gateway/transcoding/transcoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "giftcard/v1/account_credit.pb.h"
#include "giftcard/v1/billing.pb.h"
#include "giftcard/v1/code_vault.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/gateway/openapi/openapi.h"
#include "services/gateway/transcoding/route_table.h"

namespace giftcard::gateway {
namespace {

using nlohmann::json;

const RouteTable& Table() {
  static const RouteTable* table = [] {
    auto t = RouteTable::FromServices(LinkedApiServices());
    EXPECT_TRUE(t.ok()) << t.status();
    return new RouteTable(*std::move(t));
  }();
  return *table;
}

TEST(PathTemplateTest, ParsesAndMatchesVariablesAndVerbs) {
  auto t = PathTemplate::Parse("/v1/codes/{serial}:reverseRedemption");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->verb(), "reverseRedemption");
  PathTemplate::Bindings b;
  ASSERT_TRUE(t->Match("/v1/codes/GC0001:reverseRedemption", &b));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0], std::make_pair(std::string("serial"), std::string("GC0001")));
  EXPECT_FALSE(t->Match("/v1/codes/GC0001", &b));
  EXPECT_FALSE(t->Match("/v1/codes/:reverseRedemption", &b));  // An empty segment.

  auto nested = PathTemplate::Parse("/v1/{name=accounts/*}/entries");
  ASSERT_TRUE(nested.ok()) << nested.status();
  ASSERT_TRUE(nested->Match("/v1/accounts/a1/entries", &b));
  EXPECT_EQ(b[0].second, "accounts/a1");
  EXPECT_FALSE(nested->Match("/v1/users/a1/entries", &b));

  auto rest = PathTemplate::Parse("/v1/files/{path=**}");
  ASSERT_TRUE(rest.ok()) << rest.status();
  ASSERT_TRUE(rest->Match("/v1/files/a/b/c", &b));
  EXPECT_EQ(b[0].second, "a/b/c");

  for (const char* bad : {"v1/x", "/v1//x", "/v1/{x", "/v1/{}", "/v1/**/x", "/v1/x:", "/v1/{a}b"}) {
    EXPECT_FALSE(PathTemplate::Parse(bad).ok()) << bad;
  }
}

TEST(RouteTableTest, FindsTheRouteOrSaysWhichMethodsThePathTakes) {
  PathTemplate::Bindings b;
  std::vector<std::string> others;
  const Route* r = Table().Find("POST", "/v1/codes:redeem", &b, &others);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->grpc_method(), "/giftcard.v1.CodeVault/RedeemCode");
  EXPECT_EQ(r->body, "*");
  // The custom verb wins over the {serial} variable.
  r = Table().Find("POST", "/v1/codes/GC1:reverseRedemption", &b, &others);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->method->name(), "ReverseRedemption");
  r = Table().Find("GET", "/v1/codes/GC1", &b, &others);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->method->name(), "GetCodeStatus");
  EXPECT_EQ(Table().Find("DELETE", "/v1/codes:redeem", &b, &others), nullptr);
  EXPECT_EQ(others, std::vector<std::string>{"POST"});
  EXPECT_EQ(Table().Find("GET", "/v2/codes", &b, &others), nullptr);
  EXPECT_TRUE(others.empty());
  // Internal RPCs (service to service) have no route.
  for (const Route& route : Table().routes()) {
    EXPECT_NE(route.method->name(), "CreditAccount");
    EXPECT_NE(route.method->name(), "DebitAccount");
  }
}

const Route& RouteOf(const std::string& method, const std::string& path,
                     PathTemplate::Bindings* b) {
  std::vector<std::string> others;
  const Route* r = Table().Find(method, path, b, &others);
  EXPECT_NE(r, nullptr) << method << " " << path;
  return *r;
}

TEST(BuildRequestTest, PathQueryAndBodyFillTheMessage) {
  PathTemplate::Bindings b;
  std::string field;
  const Route& list = RouteOf("GET", "/v1/batches/B1/codes", &b);
  v1::ListCodesRequest codes;
  ASSERT_TRUE(BuildRequest(list, b, {{"state", "CODE_STATE_ACTIVE"}, {"page_size", "5"}}, "",
                           &codes, &field)
                  .ok());
  EXPECT_EQ(codes.batch_id(), "B1");
  EXPECT_EQ(codes.state(), v1::CODE_STATE_ACTIVE);
  EXPECT_EQ(codes.page_size(), 5);

  const Route& watch = RouteOf("GET", "/v1/codeVault/events", &b);
  v1::WatchEventsRequest events;
  ASSERT_TRUE(BuildRequest(watch, b,
                           {{"types", "code.redeemed"},
                            {"types", "code.voided"},
                            {"stop_when_caught_up", "true"},
                            {"after_event_id", "42"}},
                           "", &events, &field)
                  .ok());
  EXPECT_EQ(events.types_size(), 2);
  EXPECT_TRUE(events.stop_when_caught_up());
  EXPECT_EQ(events.after_event_id(), 42);

  // body: "account" — the body is that field; the id comes from the path.
  const Route& upsert = RouteOf("PUT", "/v1/accounts/a1", &b);
  v1::UpsertAccountRequest account;
  ASSERT_TRUE(
      BuildRequest(upsert, b, {}, R"({"country":"DE","currency_code":"EUR"})", &account, &field)
          .ok());
  EXPECT_EQ(account.account().account_id(), "a1");
  EXPECT_EQ(account.account().country(), "DE");
  // The same id in the body is fine; another one is not.
  EXPECT_TRUE(BuildRequest(upsert, b, {}, R"({"account_id":"a1"})", &account, &field).ok());
  EXPECT_FALSE(BuildRequest(upsert, b, {}, R"({"account_id":"a2"})", &account, &field).ok());
  EXPECT_EQ(field, "account.account_id");
}

TEST(BuildRequestTest, BadInputNamesTheField) {
  PathTemplate::Bindings b;
  std::string field;
  v1::ListCodesRequest codes;
  const Route& list = RouteOf("GET", "/v1/codes", &b);
  absl::Status s = BuildRequest(list, b, {{"colour", "red"}}, "", &codes, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(field, "colour");
  s = BuildRequest(list, b, {{"page_size", "5"}, {"page_size", "6"}}, "", &codes, &field);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(field, "page_size");
  EXPECT_FALSE(BuildRequest(list, b, {}, "{}", &codes, &field).ok()) << "a GET takes no body";

  const Route& watch = RouteOf("GET", "/v1/codeVault/events", &b);
  v1::WatchEventsRequest events;
  EXPECT_FALSE(BuildRequest(watch, b, {{"stop_when_caught_up", "yes"}}, "", &events, &field).ok());
  EXPECT_EQ(field, "stop_when_caught_up");

  const Route& redeem = RouteOf("POST", "/v1/codes:redeem", &b);
  v1::RedeemCodeRequest r;
  EXPECT_FALSE(BuildRequest(redeem, b, {}, "[1]", &r, &field).ok());
  EXPECT_FALSE(BuildRequest(redeem, b, {}, "{\"code\":", &r, &field).ok());
  EXPECT_FALSE(BuildRequest(redeem, b, {{"code", "x"}}, "{}", &r, &field).ok());
  EXPECT_FALSE(BuildRequest(redeem, b, {}, R"({"code": 7})", &r, &field).ok());
  EXPECT_TRUE(BuildRequest(redeem, b, {}, R"({"code": "x", "accountId": "a"})", &r, &field).ok())
      << "JSON names are accepted as protobuf's parser does";
  EXPECT_EQ(r.account_id(), "a");
}

// protobuf's parser would answer "not a giftcard.v1.RedeemCodeRequest:
// acount_id: Cannot find field."; the caller gets the field and our words.
TEST(BuildRequestTest, AnUnknownBodyFieldOrEnumValueIsAFieldViolationInOurWords) {
  PathTemplate::Bindings b;
  std::string field;
  const Route& redeem = RouteOf("POST", "/v1/codes:redeem", &b);
  v1::RedeemCodeRequest r;
  absl::Status s = BuildRequest(redeem, b, {}, R"({"code": "x", "acount_id": "a"})", &r, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(field, "acount_id");
  EXPECT_EQ(s.message(), "acount_id: no such field in RedeemCodeRequest");

  const Route& list = RouteOf("GET", "/v1/codes", &b);
  v1::ListCodesRequest codes;
  s = BuildRequest(list, b, {{"state", "BOGUS"}}, "", &codes, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(field, "state");
  EXPECT_THAT(std::string(s.message()),
              ::testing::StartsWith("state: must be one of CODE_STATE_ISSUED, CODE_STATE_ACTIVE"));
  EXPECT_THAT(std::string(s.message()), ::testing::Not(::testing::HasSubstr("TYPE_ENUM")));

  const Route& upsert = RouteOf("PUT", "/v1/accounts/a1", &b);
  v1::UpsertAccountRequest account;
  s = BuildRequest(upsert, b, {}, R"({"billing_channel": "CARRIER"})", &account, &field);
  EXPECT_EQ(field, "billing_channel");
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("must be one of BILLING_CHANNEL_"));
}

// Found by fuzz_gateway_requests: a percent-decoded path or query that is
// not UTF-8 made the JSON writer throw (a 500 at best), not a 400. Found by
// reading it again: so did an enum given as a number past int64.
TEST(BuildRequestTest, TextThatIsNotUtf8OrANumberTooLargeIsRefusedNamingTheField) {
  PathTemplate::Bindings b;
  std::string field;
  const Route& get = RouteOf("GET",
                             "/v1/accounts/a\xCE"
                             "e",
                             &b);
  v1::GetAccountRequest account;
  absl::Status s = BuildRequest(get, b, {}, "", &account, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(field, "account_id");
  const Route& list = RouteOf("GET", "/v1/codes", &b);
  v1::ListCodesRequest codes;
  s = BuildRequest(list, b, {{"batch_id", "\xFF"}}, "", &codes, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(field, "batch_id");
  s = BuildRequest(list, b, {{"\xFF", "x"}}, "", &codes, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  // An enum by a number too large for any integer (std::stoll threw).
  s = BuildRequest(list, b, {{"state", "99999999999999999999999"}}, "", &codes, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(field, "state");
  const Route& redeem = RouteOf("POST", "/v1/codes:redeem", &b);
  v1::RedeemCodeRequest r;
  s = BuildRequest(redeem, b, {}, "{\"code\": \"\xCE\"}", &r, &field);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
}

TEST(ErrorTest, StatusesMapToHttpWithAip193Bodies) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);

  google::rpc::Status details;
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(1);
  retry.mutable_retry_delay()->set_nanos(200000000);
  google::rpc::ErrorInfo info;
  info.set_reason("TOO_MANY_ATTEMPTS");
  info.set_domain("giftcard.v1");
  details.add_details()->PackFrom(info);
  details.add_details()->PackFrom(retry);
  HttpError e = ErrorFromStatus(absl::StatusCode::kResourceExhausted, "slow down",
                                details.SerializeAsString());
  EXPECT_EQ(e.http_status, 429);
  json body = json::parse(e.json);
  EXPECT_EQ(body["error"]["code"], 429);
  EXPECT_EQ(body["error"]["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(body["error"]["details"][0]["reason"], "TOO_MANY_ATTEMPTS");
  EXPECT_EQ(body["error"]["details"][1]["retry_delay"], "1.200s");
  ASSERT_EQ(e.headers.size(), 1u);
  EXPECT_EQ(e.headers[0], std::make_pair(std::string("Retry-After"), std::string("2")));

  // An upstream error with no details (a connection refused) gets a reason.
  e = ErrorFromStatus(absl::StatusCode::kUnavailable, "connection refused", "");
  EXPECT_EQ(json::parse(e.json)["error"]["details"][0]["reason"], "DEPENDENCY_UNAVAILABLE");
}

TEST(OpenApiTest, PathsHaveNoPatternsAndVariablesTheirLastName) {
  EXPECT_EQ(OpenApiPath("/v1/accounts/{account.account_id}"), "/v1/accounts/{account_id}");
  EXPECT_EQ(OpenApiPath("/v1/{name=accounts/*}:x"), "/v1/{name}:x");
  auto doc = OpenApiDocument(Table());
  ASSERT_TRUE(doc.ok()) << doc.status();
  json j = json::parse(*doc);
  EXPECT_TRUE(j["paths"]["/v1/accounts/{account_id}"].contains("put"));
  EXPECT_TRUE(j["paths"]["/v1/accounts/{account_id}"].contains("get"));
}

}  // namespace
}  // namespace giftcard::gateway
