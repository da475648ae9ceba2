// giftcard-gateway over real processes: every annotated route called over
// HTTP, its answer compared with the gRPC answer to the same call; errors as
// JSON google.rpc.Status bodies with their reasons and HTTP statuses; the
// OpenAPI document; and no PIN in the gateway's log or metrics.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "auth/permissions.h"
#include "services/gateway/openapi/openapi.h"
#include "services/gateway/transcoding/route_table.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using nlohmann::json;

std::string Json(const json& j) { return j.dump(); }

// `answer`'s body parsed into a message of `T`'s type; fails the test if it
// does not parse (which also checks the JSON field names).
template <typename T>
T Parse(const HttpAnswer& answer) {
  T message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(answer.body, &message, options);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << answer.body;
  return message;
}

::testing::AssertionResult Same(const google::protobuf::Message& http,
                                const google::protobuf::Message& grpc) {
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  if (differ.Compare(http, grpc)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "HTTP and gRPC answers differ:\n" << diff;
}

std::string ReasonOfBody(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "";
  for (const json& d : j["error"].value("details", json::array())) {
    if (d.value("@type", "") == "type.googleapis.com/google.rpc.ErrorInfo") {
      return d.value("reason", "");
    }
  }
  return "";
}

std::vector<std::string> Lines(const std::string& body) {
  return absl::StrSplit(body, '\n', absl::SkipEmpty());
}

// The routes the gateway serves, read from the same descriptors.
gateway::RouteTable Routes() {
  auto table = gateway::RouteTable::FromServices(gateway::LinkedApiServices());
  EXPECT_TRUE(table.ok()) << table.status();
  return *std::move(table);
}

class GatewayTest : public ::testing::Test {
 protected:
  GatewayTest() : gateway_(StartGateway(suite_)) {}

  HttpAnswer Call(const std::string& method, const std::string& target, const std::string& token,
                  const std::string& body = "") {
    return HttpCall(gateway_.http_port, method, target, token, body);
  }

  Suite suite_;
  GatewayProcess gateway_;
};

TEST_F(GatewayTest, EveryRouteAnswersAsItsRpc) {
  // Accounts: PUT with the account as the body, the id from the path.
  HttpAnswer put = Call("PUT", "/v1/accounts/gw-alice", kStorefrontToken,
                        Json({{"country", "DE"},
                              {"currency_code", "EUR"},
                              {"billing_channel", "BILLING_CHANNEL_DIRECT"}}));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Header("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(put.body)["account_id"], "gw-alice");
  v1::Account account;
  ASSERT_TRUE(suite_.GetAccount("gw-alice", &account).ok());

  // Issue (a stream of one JSON object per line), list, activate.
  HttpAnswer issued = Call("POST", "/v1/codes:issue", kAdminToken,
                           Json({{"count", 4},
                                 {"amount", {{"currency_code", "EUR"}, {"amount_minor", "2500"}}},
                                 {"region", "DE"},
                                 {"request_id", "gw-issue-1"}}));
  ASSERT_EQ(issued.status, 200) << issued.body;
  EXPECT_EQ(issued.Header("Content-Type"), "application/x-ndjson");
  std::vector<v1::IssuedCode> codes;
  for (const std::string& line : Lines(issued.body)) {
    codes.push_back(Parse<v1::IssuedCode>({200, line, {}}));
  }
  ASSERT_EQ(codes.size(), 4u) << issued.body;
  const std::string batch = codes[0].batch_id();

  HttpAnswer batches = Call("GET", "/v1/batches?page_size=50", kAdminToken);
  ASSERT_EQ(batches.status, 200) << batches.body;
  {
    v1::ListBatchesRequest r;
    r.set_page_size(50);
    v1::ListBatchesResponse grpc;
    ASSERT_TRUE(suite_.vault_stub->ListBatches(Context(kAdminToken).get(), r, &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::ListBatchesResponse>(batches), grpc));
  }
  HttpAnswer activated = Call("POST", "/v1/codes:activate", kAdminToken,
                              Json({{"batch_id", batch}, {"request_id", "gw-activate-1"}}));
  ASSERT_EQ(activated.status, 200) << activated.body;
  EXPECT_EQ(json::parse(activated.body)["activated_count"], "4");  // int64: a string.
  {
    v1::ActivateCodesRequest r;
    r.set_batch_id(batch);
    r.set_request_id("gw-activate-1");  // A replay: the same answer.
    v1::ActivateCodesResponse grpc;
    ASSERT_TRUE(suite_.vault_stub->ActivateCodes(Context(kAdminToken).get(), r, &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::ActivateCodesResponse>(activated), grpc));
  }
  for (const std::string& target :
       {absl::StrCat("/v1/codes?batch_id=", batch, "&state=CODE_STATE_ACTIVE&page_size=10"),
        absl::StrCat("/v1/batches/", batch, "/codes?state=CODE_STATE_ACTIVE&page_size=10")}) {
    HttpAnswer listed = Call("GET", target, kSupportToken);
    ASSERT_EQ(listed.status, 200) << target << ": " << listed.body;
    v1::ListCodesRequest r;
    r.set_batch_id(batch);
    r.set_state(v1::CODE_STATE_ACTIVE);
    r.set_page_size(10);
    v1::ListCodesResponse grpc;
    ASSERT_TRUE(suite_.vault_stub->ListCodes(Context(kSupportToken).get(), r, &grpc).ok());
    EXPECT_EQ(grpc.codes_size(), 4);
    EXPECT_TRUE(Same(Parse<v1::ListCodesResponse>(listed), grpc)) << target;
  }

  // The storefront: check, then redeem; a gRPC replay of the HTTP call's
  // request_id returns the same redemption.
  HttpAnswer checked = Call("POST", "/v1/codes:check", kStorefrontToken,
                            Json({{"code", codes[0].code()}, {"client_ip", suite_.client_ip}}));
  ASSERT_EQ(checked.status, 200) << checked.body;
  EXPECT_EQ(json::parse(checked.body)["redeemable"], true);
  {
    v1::CheckCodeRequest r;
    r.set_code(codes[0].code());
    r.set_client_ip(suite_.client_ip);
    v1::CodeCheck grpc;
    ASSERT_TRUE(suite_.vault_stub->CheckCode(Context(kStorefrontToken).get(), r, &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::CodeCheck>(checked), grpc));
  }
  std::vector<v1::Redemption> redemptions;
  for (int i : {0, 1}) {
    HttpAnswer redeemed = Call("POST", "/v1/codes:redeem", kStorefrontToken,
                               Json({{"code", codes[i].code()},
                                     {"account_id", "gw-alice"},
                                     {"request_id", absl::StrCat("gw-redeem-", i)},
                                     {"client_ip", suite_.client_ip}}));
    ASSERT_EQ(redeemed.status, 200) << redeemed.body;
    EXPECT_EQ(json::parse(redeemed.body)["state"], "REDEMPTION_STATE_COMPLETED");
    v1::Redemption grpc;
    ASSERT_TRUE(
        suite_.Redeem(codes[i].code(), "gw-alice", absl::StrCat("gw-redeem-", i), &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::Redemption>(redeemed), grpc));
    redemptions.push_back(grpc);
  }

  // Support's reads, each equal to its gRPC answer.
  HttpAnswer status = Call("GET", absl::StrCat("/v1/codes/", codes[0].serial()), kSupportToken);
  ASSERT_EQ(status.status, 200) << status.body;
  json status_json = json::parse(status.body);
  EXPECT_EQ(status_json["state"], "CODE_STATE_REDEEMED");
  EXPECT_EQ(status_json["redeemed_by_account_id"], "gw-alice");  // Proto field names.
  {
    v1::CodeStatus grpc;
    ASSERT_TRUE(suite_.GetCodeStatus(codes[0].serial(), &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::CodeStatus>(status), grpc));
  }
  HttpAnswer looked_up =
      Call("POST", "/v1/codes:lookup", kSupportToken, Json({{"code", codes[0].code()}}));
  ASSERT_EQ(looked_up.status, 200) << looked_up.body;
  EXPECT_EQ(json::parse(looked_up.body)["serial"], codes[0].serial());
  HttpAnswer changes =
      Call("GET", absl::StrCat("/v1/codes/", codes[0].serial(), "/changes"), kSupportToken);
  ASSERT_EQ(changes.status, 200) << changes.body;
  {
    v1::ListCodeChangesRequest r;
    r.set_serial(codes[0].serial());
    v1::ListCodeChangesResponse grpc;
    ASSERT_TRUE(suite_.vault_stub->ListCodeChanges(Context(kSupportToken).get(), r, &grpc).ok());
    EXPECT_GE(grpc.changes_size(), 3);
    EXPECT_TRUE(Same(Parse<v1::ListCodeChangesResponse>(changes), grpc));
  }
  HttpAnswer got = Call("GET", "/v1/accounts/gw-alice", kSupportToken);
  ASSERT_EQ(got.status, 200) << got.body;
  ASSERT_TRUE(suite_.GetAccount("gw-alice", &account).ok());
  EXPECT_TRUE(Same(Parse<v1::Account>(got), account));
  EXPECT_EQ(account.balance().amount_minor(), 5000);

  // Billing: apply, read, reverse; gRPC replays answer the same.
  HttpAnswer applied =
      Call("POST", "/v1/invoices/gw-inv-1:applyCredit", kBillingSystemToken,
           Json({{"account_id", "gw-alice"},
                 {"amount_due", {{"currency_code", "EUR"}, {"amount_minor", "1200"}}}}));
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(json::parse(applied.body)["applied"]["amount_minor"], "1200");
  {
    v1::CreditApplication grpc;
    ASSERT_TRUE(suite_.ApplyCredit("gw-inv-1", "gw-alice", 1200, "EUR", &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::CreditApplication>(applied), grpc));
  }
  HttpAnswer ledger =
      Call("GET", "/v1/accounts/gw-alice/ledgerEntries?page_size=10", kSupportToken);
  ASSERT_EQ(ledger.status, 200) << ledger.body;
  {
    v1::ListLedgerEntriesRequest r;
    r.set_account_id("gw-alice");
    r.set_page_size(10);
    v1::ListLedgerEntriesResponse grpc;
    ASSERT_TRUE(suite_.credit_stub->ListLedgerEntries(Context(kSupportToken).get(), r, &grpc).ok());
    EXPECT_EQ(grpc.entries_size(), 3);
    EXPECT_TRUE(Same(Parse<v1::ListLedgerEntriesResponse>(ledger), grpc));
  }
  HttpAnswer reversed = Call("POST", "/v1/invoices/gw-inv-1:reverseCredit", kBillingSystemToken,
                             Json({{"reason", "refund"}}));
  ASSERT_EQ(reversed.status, 200) << reversed.body;
  HttpAnswer application = Call("GET", "/v1/invoices/gw-inv-1/creditApplication", kSupportToken);
  ASSERT_EQ(application.status, 200) << application.body;
  {
    v1::GetCreditApplicationRequest r;
    r.set_invoice_id("gw-inv-1");
    v1::CreditApplication grpc;
    ASSERT_TRUE(
        suite_.billing_stub->GetCreditApplication(Context(kSupportToken).get(), r, &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::CreditApplication>(application), grpc));
    EXPECT_TRUE(Same(Parse<v1::CreditApplication>(reversed), grpc));
  }

  // Admin holds: block, unblock, void.
  for (const auto& [verb, count_field] : std::vector<std::pair<std::string, std::string>>{
           {"block", "blocked_count"}, {"unblock", "unblocked_count"}, {"void", "voided_count"}}) {
    HttpAnswer held = Call("POST", absl::StrCat("/v1/codes:", verb), kAdminToken,
                           Json({{"serials", {codes[3].serial()}},
                                 {"reason", "gateway test"},
                                 {"request_id", "gw-" + verb}}));
    ASSERT_EQ(held.status, 200) << verb << ": " << held.body;
    EXPECT_EQ(json::parse(held.body)[count_field], "1") << held.body;
  }

  // Clawbacks, by serial and by redemption id.
  HttpAnswer clawed =
      Call("POST", absl::StrCat("/v1/codes/", codes[0].serial(), ":reverseRedemption"), kAdminToken,
           Json({{"reason", "fraud case 1"},
                 {"request_id", "gw-claw-1"},
                 {"then_state", "CODE_STATE_BLOCKED"}}));
  ASSERT_EQ(clawed.status, 200) << clawed.body;
  {
    v1::ReverseRedemptionRequest r;
    r.set_serial(codes[0].serial());
    r.set_reason("fraud case 1");
    r.set_request_id("gw-claw-1");
    r.set_then_state(v1::CODE_STATE_BLOCKED);
    v1::Clawback grpc;
    ASSERT_TRUE(suite_.vault_stub->ReverseRedemption(Context(kAdminToken).get(), r, &grpc).ok());
    EXPECT_TRUE(Same(Parse<v1::Clawback>(clawed), grpc));
  }
  HttpAnswer clawed2 =
      Call("POST", absl::StrCat("/v1/redemptions/", redemptions[1].redemption_id(), ":reverse"),
           kAdminToken,
           Json({{"reason", "fraud case 2"},
                 {"request_id", "gw-claw-2"},
                 {"then_state", "CODE_STATE_VOIDED"}}));
  ASSERT_EQ(clawed2.status, 200) << clawed2.body;
  EXPECT_EQ(json::parse(clawed2.body)["serial"], codes[1].serial());

  // Reports (their read_time is the moment of each read).
  auto without_read_time = [](json j) {
    j.erase("read_time");
    return j;
  };
  {
    HttpAnswer http = Call("GET", "/v1/reports/codeLiability", kSupportToken);
    ASSERT_EQ(http.status, 200) << http.body;
    v1::CodeLiability grpc;
    ASSERT_TRUE(
        suite_.vault_stub
            ->GetCodeLiability(Context(kSupportToken).get(), v1::GetCodeLiabilityRequest(), &grpc)
            .ok());
    grpc.clear_read_time();
    v1::CodeLiability from_http = Parse<v1::CodeLiability>(http);
    from_http.clear_read_time();
    EXPECT_TRUE(Same(from_http, grpc));
  }
  {
    HttpAnswer http = Call("GET", "/v1/reports/creditLiability", kSupportToken);
    ASSERT_EQ(http.status, 200) << http.body;
    v1::CreditLiability grpc;
    ASSERT_TRUE(suite_.credit_stub
                    ->GetCreditLiability(Context(kSupportToken).get(),
                                         v1::GetCreditLiabilityRequest(), &grpc)
                    .ok());
    grpc.clear_read_time();
    v1::CreditLiability from_http = Parse<v1::CreditLiability>(http);
    from_http.clear_read_time();
    EXPECT_TRUE(Same(from_http, grpc));
  }
  for (const std::string& target :
       {std::string("/v1/reports/breakage"), std::string("/v1/reports/dormantAccounts?days=1"),
        // Without days: a year, as giftctl's default.
        std::string("/v1/reports/dormantAccounts")}) {
    HttpAnswer http = Call("GET", target, kAdminToken);
    ASSERT_EQ(http.status, 200) << target << ": " << http.body;
    EXPECT_TRUE(without_read_time(json::parse(http.body)).is_object());
  }

  // Streams: events (caught up, then ended) and audit facts.
  for (const std::string service : {"codeVault", "accountCredit", "billing"}) {
    HttpAnswer events =
        Call("GET", absl::StrCat("/v1/", service, "/events?stop_when_caught_up=true"), kAdminToken);
    ASSERT_EQ(events.status, 200) << service << ": " << events.body;
    std::vector<std::string> lines = Lines(events.body);
    if (service != "billing") {
      EXPECT_FALSE(lines.empty()) << service;
    }
    for (const std::string& line : lines) {
      const v1::Event event = Parse<v1::Event>({200, line, {}});
      EXPECT_GT(event.event_id(), 0) << line;
    }
    HttpAnswer facts = Call("GET", absl::StrCat("/v1/", service, "/auditFacts"), kAdminToken);
    ASSERT_EQ(facts.status, 200) << service << ": " << facts.body;
    EXPECT_FALSE(Lines(facts.body).empty()) << service;
  }
  {
    // The serial filter, as a query parameter; equal to the gRPC stream.
    HttpAnswer events = Call("GET",
                             absl::StrCat("/v1/codeVault/events?stop_when_caught_up=true&serial=",
                                          codes[0].serial(), "&types=code.redeemed"),
                             kSupportToken);
    ASSERT_EQ(events.status, 200) << events.body;
    v1::WatchEventsRequest r;
    r.set_stop_when_caught_up(true);
    r.set_serial(codes[0].serial());
    r.add_types("code.redeemed");
    auto ctx = Context(kSupportToken);
    auto reader = suite_.vault_stub->WatchEvents(ctx.get(), r);
    std::vector<v1::Event> grpc;
    for (v1::Event e; reader->Read(&e);) grpc.push_back(e);
    ASSERT_TRUE(reader->Finish().ok());
    const std::vector<std::string> lines = Lines(events.body);
    ASSERT_EQ(lines.size(), 1u) << events.body;
    ASSERT_EQ(grpc.size(), 1u);
    EXPECT_TRUE(Same(Parse<v1::Event>({200, lines[0], {}}), grpc[0]));
  }

  // Who am I: the console's cue for the admin's actions.
  HttpAnswer admin = Call("GET", "/v1/caller", kAdminToken);
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(json::parse(admin.body)["principal"], "admin");
  EXPECT_NE(admin.body.find("/giftcard.v1.CodeVault/BlockCodes"), std::string::npos);
  HttpAnswer support = Call("GET", "/v1/caller", kSupportToken);
  ASSERT_EQ(support.status, 200) << support.body;
  EXPECT_EQ(json::parse(support.body)["principal"], "support");
  EXPECT_EQ(support.body.find("BlockCodes"), std::string::npos);

  // Every route of the table answered 200 at least once (the gateway's own
  // count): a new annotated RPC fails here until this test calls it.
  const std::string scrape = ScrapeMetrics(*gateway_.process);
  const gateway::RouteTable routes = Routes();
  EXPECT_EQ(routes.routes().size(), 32u);
  for (const gateway::Route& route : routes.routes()) {
    const std::string series =
        absl::StrCat("giftcard_gateway_requests_total{route=\"", route.name(), "\",code=\"200\"}");
    EXPECT_NE(scrape.find(series), std::string::npos) << "never answered 200: " << route.name();
  }
  EXPECT_EQ(suite_.AuditReport(), "");
}

TEST_F(GatewayTest, ErrorsAreJsonStatusesWithTheirReasons) {
  ASSERT_TRUE(suite_.UpsertAccount("gw-bob", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(1, 1000, "EUR", "FR");
  const std::string before = suite_.ContentsDigest();
  struct Case {
    std::string name, method, target, token, body;
    int http_status;
    std::string status, reason;
  };
  const std::string redeem_body = Json({{"code", codes[0].code()},
                                        {"account_id", "gw-bob"},
                                        {"request_id", "gw-e-1"},
                                        {"client_ip", suite_.client_ip}});
  const std::vector<Case> cases = {
      {"no token", "GET", "/v1/caller", "", "", 401, "UNAUTHENTICATED", "CALLER_UNKNOWN"},
      {"unknown token", "GET", "/v1/caller", "nope", "", 401, "UNAUTHENTICATED", "CALLER_UNKNOWN"},
      {"wrong principal", "GET", absl::StrCat("/v1/codes/", codes[0].serial()), kStorefrontToken,
       "", 403, "PERMISSION_DENIED", "METHOD_NOT_ALLOWED"},
      {"unknown code", "POST", "/v1/codes:redeem", kStorefrontToken,
       Json({{"code", UnknownPin()},
             {"account_id", "gw-bob"},
             {"request_id", "gw-e-2"},
             {"client_ip", suite_.client_ip}}),
       404, "NOT_FOUND", "CODE_INVALID"},
      {"malformed code", "POST", "/v1/codes:check", kStorefrontToken,
       Json({{"code", "12"}, {"client_ip", suite_.client_ip}}), 400, "INVALID_ARGUMENT",
       "CODE_MALFORMED"},
      {"unknown account", "GET", "/v1/accounts/gw-nobody", kSupportToken, "", 404, "NOT_FOUND",
       "ACCOUNT_NOT_FOUND"},
      {"unknown invoice", "GET", "/v1/invoices/gw-none/creditApplication", kSupportToken, "", 404,
       "NOT_FOUND", "INVOICE_NOT_FOUND"},
      {"unknown field", "POST", "/v1/codes:check", kStorefrontToken,
       Json({{"pin", "x"}, {"client_ip", suite_.client_ip}}), 400, "INVALID_ARGUMENT",
       "REQUEST_MALFORMED"},
      {"not JSON", "POST", "/v1/codes:check", kStorefrontToken, "{code:", 400, "INVALID_ARGUMENT",
       "REQUEST_MALFORMED"},
      {"query on a body route", "POST", "/v1/codes:check?code=x", kStorefrontToken, "{}", 400,
       "INVALID_ARGUMENT", "REQUEST_MALFORMED"},
      {"unknown query field", "GET", "/v1/batches?colour=red", kAdminToken, "", 400,
       "INVALID_ARGUMENT", "REQUEST_MALFORMED"},
      {"bad enum", "GET", "/v1/codes?state=MELTED", kAdminToken, "", 400, "INVALID_ARGUMENT",
       "REQUEST_MALFORMED"},
      {"path and body disagree", "PUT", "/v1/accounts/gw-bob", kStorefrontToken,
       Json({{"account_id", "gw-eve"}, {"country", "DE"}, {"currency_code", "EUR"}}), 400,
       "INVALID_ARGUMENT", "REQUEST_MALFORMED"},
      {"path not UTF-8", "GET", "/v1/accounts/a%CEe", kSupportToken, "", 400, "INVALID_ARGUMENT",
       "REQUEST_MALFORMED"},
      {"query not UTF-8", "GET", "/v1/batches?page_token=%FF", kAdminToken, "", 400,
       "INVALID_ARGUMENT", "REQUEST_MALFORMED"},
      {"no route", "GET", "/v1/nothing", kAdminToken, "", 404, "NOT_FOUND", "ROUTE_NOT_FOUND"},
      {"wrong HTTP method", "GET", "/v1/codes:redeem", kStorefrontToken, "", 405, "UNIMPLEMENTED",
       "ROUTE_NOT_FOUND"},
      {"oversized body", "POST", "/v1/codes:redeem", kStorefrontToken, std::string(100 * 1024, ' '),
       413, "INVALID_ARGUMENT", "REQUEST_TOO_LARGE"},
  };
  for (const Case& c : cases) {
    HttpAnswer answer = Call(c.method, c.target, c.token, c.body);
    EXPECT_EQ(answer.status, c.http_status) << c.name << ": " << answer.body;
    EXPECT_EQ(answer.Header("Content-Type"), "application/json") << c.name;
    json body = json::parse(answer.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << c.name << ": " << answer.body;
    EXPECT_EQ(body["error"]["code"], c.http_status) << c.name;
    EXPECT_EQ(body["error"]["status"], c.status) << c.name << ": " << answer.body;
    EXPECT_FALSE(body["error"].value("message", "").empty()) << c.name;
    EXPECT_EQ(ReasonOfBody(answer.body), c.reason) << c.name << ": " << answer.body;
    if (c.http_status == 401) {
      EXPECT_EQ(answer.Header("WWW-Authenticate"), "Bearer realm=\"giftcard\"") << c.name;
    }
    if (c.http_status == 405) {
      EXPECT_EQ(answer.Header("Allow"), "POST") << c.name;
    }
  }
  // A field error names its field (google.rpc.BadRequest), in the body as in
  // the query, an enum value as any other.
  for (const auto& [method, target, body, field] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"GET", "/v1/batches?colour=red", "", "colour"},
           {"POST", "/v1/codes:check", Json({{"pin", "x"}, {"client_ip", suite_.client_ip}}),
            "pin"},
           {"GET", "/v1/codes?state=MELTED", "", "state"}}) {
    HttpAnswer bad = Call(method, target, kAdminToken, body);
    json violation = json::parse(bad.body)["error"]["details"][1]["field_violations"][0];
    EXPECT_EQ(violation["field"], field) << bad.body;
    EXPECT_EQ(violation.value("description", "").find("Cannot find field"), std::string::npos)
        << bad.body;
    EXPECT_EQ(bad.body.find("TYPE_ENUM"), std::string::npos) << bad.body;
  }
  // Nothing above wrote anything.
  EXPECT_EQ(suite_.ContentsDigest(), before);
  // A refusal the vault records: 400 FAILED_PRECONDITION with its reason.
  HttpAnswer region = Call("POST", "/v1/codes:redeem", kStorefrontToken, redeem_body);
  EXPECT_EQ(region.status, 400) << region.body;
  EXPECT_EQ(json::parse(region.body)["error"]["status"], "FAILED_PRECONDITION");
  EXPECT_EQ(ReasonOfBody(region.body), "REGION_MISMATCH") << region.body;
}

TEST_F(GatewayTest, EveryRouteRefusesAStrangerAndAPrincipalItIsNotFor) {
  const std::string before = suite_.ContentsDigest();
  const gateway::RouteTable routes = Routes();
  int refused_403 = 0;
  for (const gateway::Route& route : routes.routes()) {
    // The route's path with every variable filled in.
    std::string path;
    for (size_t i = 0; i < route.path.text().size(); ++i) {
      if (route.path.text()[i] == '{') {
        i = route.path.text().find('}', i);
        path += "x1";
      } else {
        path += route.path.text()[i];
      }
    }
    const std::string body = route.body.empty() ? "" : "{}";
    HttpAnswer stranger = Call(route.http_method, path, "", body);
    EXPECT_EQ(stranger.status, 401) << route.name() << ": " << stranger.body;
    EXPECT_EQ(ReasonOfBody(stranger.body), "CALLER_UNKNOWN") << route.name();
    const std::vector<std::string> allowed = auth::PrincipalsAllowed(route.grpc_method());
    for (const std::string& principal : AllTestPrincipals()) {
      if (std::find(allowed.begin(), allowed.end(), principal) != allowed.end()) continue;
      HttpAnswer wrong = Call(route.http_method, path, absl::StrCat("test-", principal), body);
      EXPECT_EQ(wrong.status, 403) << route.name() << " as " << principal << ": " << wrong.body;
      EXPECT_EQ(ReasonOfBody(wrong.body), "METHOD_NOT_ALLOWED") << route.name();
      ++refused_403;
      break;  // One such principal per route.
    }
  }
  // Every route but GetCaller's (open to every principal) had one.
  EXPECT_EQ(refused_403, static_cast<int>(routes.routes().size()) - 1);
  EXPECT_EQ(suite_.ContentsDigest(), before);
}

TEST_F(GatewayTest, AServiceDownIsUnavailableAndRetryable) {
  // A gateway whose billing address has nothing behind it.
  GatewayProcess lonely =
      StartGateway(suite_, {"--billing_address=127.0.0.1:1", "--call_timeout=2s"});
  HttpAnswer answer =
      HttpCall(lonely.http_port, "GET", "/v1/invoices/gw-x/creditApplication", kSupportToken);
  EXPECT_EQ(answer.status, 503) << answer.body;
  EXPECT_EQ(ReasonOfBody(answer.body), "DEPENDENCY_UNAVAILABLE") << answer.body;
  HttpAnswer ready = HttpCall(lonely.http_port, "GET", "/readyz", "");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("giftcard.v1.Billing"), std::string::npos) << ready.body;
  EXPECT_EQ(Call("GET", "/readyz", "").status, 200);
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
}

// Polls `read` until it returns `want` or 20 s pass; the last value read.
double WaitForValue(const std::function<double()>& read, double want) {
  double got = read();
  for (int i = 0; i < 200 && got != want; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    got = read();
  }
  return got;
}

TEST_F(GatewayTest, AStreamFollowsUntilItsClientLeavesAndStreamsAreBounded) {
  GatewayProcess gateway = StartGateway(suite_, {"--max_streams=1"});
  suite_.IssueActiveCodes(1, 1000, "EUR", "DE");  // Events to follow.
  absl::Notification first_line, release;
  std::thread follower([&] {
    httplib::Client client("127.0.0.1", gateway.http_port);
    client.set_read_timeout(60);
    client.Get("/v1/codeVault/events", {{"Authorization", std::string("Bearer ") + kAdminToken}},
               [&](const char*, size_t) {
                 if (!first_line.HasBeenNotified()) first_line.Notify();
                 release.WaitForNotification();
                 return false;  // Hang up.
               });
  });
  ASSERT_TRUE(first_line.WaitForNotificationWithTimeout(absl::Seconds(20)));
  auto watchers = [&] {
    return MetricValue(ScrapeMetrics(*suite_.code_vault), "giftcard_event_watchers");
  };
  EXPECT_EQ(WaitForValue(watchers, 1), 1);
  // The one stream slot is taken: the next stream is turned away, a unary
  // call is not.
  HttpAnswer second = HttpCall(gateway.http_port, "GET",
                               "/v1/billing/events?stop_when_caught_up=true", kAdminToken);
  EXPECT_EQ(second.status, 429) << second.body;
  EXPECT_EQ(ReasonOfBody(second.body), "OVERLOADED") << second.body;
  EXPECT_EQ(HttpCall(gateway.http_port, "GET", "/v1/caller", kAdminToken).status, 200);
  // The client leaves: the gateway cancels its call to the vault and frees
  // the slot.
  release.Notify();
  follower.join();
  EXPECT_EQ(WaitForValue(watchers, 0), 0) << "the vault still streams to a client that left";
  auto third_status = [&] {
    return static_cast<double>(HttpCall(gateway.http_port, "GET",
                                        "/v1/billing/events?stop_when_caught_up=true", kAdminToken)
                                   .status);
  };
  EXPECT_EQ(WaitForValue(third_status, 200), 200);
}

// SIGTERM: the gateway stops accepting and lets a call it holds finish
// (it cancelled it at first: the caller got an error for a call the vault
// went on to answer).
TEST(GatewayShutdownTest, SigtermLetsACallInFlightFinish) {
  SuiteOptions options;
  options.code_vault_args = {"--enable_test_hooks", "--test_delay_methods=GetCaller=1500"};
  Suite suite(options);
  GatewayProcess gateway = StartGateway(suite);
  HttpAnswer answer;
  std::thread caller(
      [&] { answer = HttpCall(gateway.http_port, "GET", "/v1/caller", kSupportToken); });
  // The vault holds the call and says so: the gateway has it in flight.
  bool held = false;
  for (int i = 0; i < 200 && !held; ++i) {
    held = suite.code_vault->Log().find("test_hook_delay") != std::string::npos;
    if (!held) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(held) << "the call never reached the vault";
  gateway.process->Signal(SIGTERM);
  caller.join();
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(json::parse(answer.body, nullptr, false).value("principal", ""), "support");
  EXPECT_EQ(gateway.process->WaitExit(absl::Seconds(30)), 0) << gateway.process->Log();
}

TEST_F(GatewayTest, NoPinInTheLogOrTheMetrics) {
  ASSERT_TRUE(suite_.UpsertAccount("gw-carol", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(2, 1000, "EUR", "DE");
  const std::string pin = codes[0].code();
  const std::string pin2 = codes[1].code();
  // Where a PIN belongs (bodies) and where a careless caller puts one (the
  // path, the query, a serial's place).
  EXPECT_EQ(Call("POST", "/v1/codes:redeem", kStorefrontToken,
                 Json({{"code", pin},
                       {"account_id", "gw-carol"},
                       {"request_id", "gw-pin-1"},
                       {"client_ip", suite_.client_ip}}))
                .status,
            200);
  Call("POST", "/v1/codes:check", kStorefrontToken,
       Json({{"code", pin2}, {"client_ip", suite_.client_ip}}));
  Call("GET", absl::StrCat("/v1/codes/", pin2), kSupportToken);
  Call("GET", absl::StrCat("/v1/codes?page_token=", pin2), kSupportToken);
  Call("GET", absl::StrCat("/v1/", pin2), kSupportToken);
  Call("POST", "/v1/codes:lookup", kSupportToken, Json({{"code", pin2}}));
  Call("POST", "/v1/codes:check", kStorefrontToken, Json({{"code", pin2}, {"bogus", pin2}}));
  const std::string log = gateway_.process->SettledLog();
  const std::string metrics = ScrapeMetrics(*gateway_.process);
  ASSERT_NE(log.find("http_request"), std::string::npos);  // The log is there.
  for (const std::string& p : {pin, pin2}) {
    const std::string bare = absl::StrReplaceAll(p, {{"-", ""}});
    for (const std::string& spelling : {p, bare, absl::AsciiStrToLower(bare)}) {
      EXPECT_EQ(log.find(spelling), std::string::npos) << "the gateway logged a PIN";
      EXPECT_EQ(metrics.find(spelling), std::string::npos) << "a PIN in the metrics";
    }
  }
}

TEST_F(GatewayTest, OpenApiDocumentsEveryRoute) {
  HttpAnswer answer = Call("GET", "/v1/openapi.json", "");
  ASSERT_EQ(answer.status, 200);
  std::ifstream built(std::string(GIFTCARD_BUILD_DIR_FOR_TESTS) + "/services/gateway/openapi.json");
  std::stringstream file;
  file << built.rdbuf();
  EXPECT_EQ(answer.body, file.str()) << "the served document is not the build's";
  json doc = json::parse(answer.body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  int operations = 0;
  std::set<std::string> operation_ids;
  const gateway::RouteTable routes = Routes();
  for (const gateway::Route& route : routes.routes()) {
    std::string method = absl::AsciiStrToLower(route.http_method);
    const json& op = doc["paths"][gateway::OpenApiPath(route.path.text())][method];
    ASSERT_TRUE(op.is_object()) << route.name() << " is not documented";
    ++operations;
    const std::string id = op.value("operationId", "");
    EXPECT_TRUE(absl::StartsWith(
        id, absl::StrCat(route.method->service()->name(), "_", route.method->name())))
        << id;
    EXPECT_TRUE(operation_ids.insert(id).second) << "operationId " << id << " is not unique";
    EXPECT_FALSE(op.value("description", "").empty()) << route.name() << " has no doc comment";
    for (const std::string& field : route.path.VariableFields()) {
      bool documented = false;
      const std::string name = field.substr(field.rfind('.') + 1);
      for (const json& p : op.value("parameters", json::array())) {
        documented = documented || (p["name"] == name && p["in"] == "path");
      }
      EXPECT_TRUE(documented) << route.name() << ": path parameter " << field;
    }
  }
  EXPECT_EQ(operations, 32);
  // A schema with the proto field names and the JSON types.
  const json& status = doc["components"]["schemas"]["giftcard.v1.CodeStatus"]["properties"];
  EXPECT_TRUE(status.contains("redeemed_by_account_id"));
  EXPECT_EQ(doc["components"]["schemas"]["giftcard.v1.Money"]["properties"]["amount_minor"]["type"],
            "string");
  // The console is served too, with a policy that runs only its own code.
  HttpAnswer console = Call("GET", "/console/", "");
  EXPECT_EQ(console.status, 200);
  EXPECT_NE(console.body.find("<title>Gift-card support console</title>"), std::string::npos);
  EXPECT_NE(console.Header("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  // It names no icon to fetch (a /favicon.ico 404 on every load otherwise),
  // and the gateway's root leads a person to it.
  EXPECT_NE(console.body.find("<link rel=\"icon\" href=\"data:,\">"), std::string::npos);
  HttpAnswer root = Call("GET", "/", "");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.Header("Location"), "/console/");
}

}  // namespace
}  // namespace giftcard::testing
