// Every string, amount and count of every RPC's request, one at a time, set to
// hostile values (10 KB, control characters, bytes that are not UTF-8,
// negative and overflowing numbers) on top of an otherwise valid request, sent
// by a caller allowed to call it: every answer is a clean error, no process
// dies, and no table changes. Messages over the size limit are refused by gRPC.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <gtest/gtest.h>

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

namespace pb = google::protobuf;

struct Target {
  std::string service;  // Full service name.
  std::string method;
  std::string token;
  std::string valid_request;  // Text format, with $ACCOUNT, $CODE, $SERIAL, $BATCH, $TRANSFER.
};

// A mutation of one field of a request: a name for messages and the change.
struct Mutation {
  std::string name;
  std::function<void(pb::Message*)> apply;
};

// Every hostile value for every string and integer field, recursively.
void CollectMutations(const pb::Descriptor* d, std::vector<const pb::FieldDescriptor*> path,
                      std::vector<Mutation>* out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    auto here = path;
    here.push_back(f);
    auto leaf = [here](pb::Message* m) {
      for (size_t k = 0; k + 1 < here.size(); ++k) {
        m = m->GetReflection()->MutableMessage(m, here[k]);
      }
      return m;
    };
    // Output-only fields are ignored on input (AIP-203): nothing to refuse.
    if (f->full_name() == "giftcard.v1.Account.balance" ||
        f->full_name() == "giftcard.v1.Account.owed") {
      continue;
    }
    std::string name;
    for (const auto* p : here) name += (name.empty() ? "" : ".") + p->name();
    if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE && !f->is_repeated()) {
      if (f->message_type()->full_name() != "google.protobuf.Timestamp") {
        CollectMutations(f->message_type(), here, out);
      }
      continue;
    }
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      for (const auto& [label, value] : std::vector<std::pair<std::string, std::string>>{
               {"10 KB", std::string(10 * 1024, 'a')},
               {"control characters", std::string("ab\x01\x02\x1b[2J\x7f", 8)},
               {"not UTF-8", std::string("\xff\xfe\xc3\x28", 4)}}) {
        out->push_back({name + " = " + label, [leaf, f, value](pb::Message* m) {
                          pb::Message* target = leaf(m);
                          if (f->is_repeated()) {
                            target->GetReflection()->AddString(target, f, value);
                          } else {
                            target->GetReflection()->SetString(target, f, value);
                          }
                        }});
      }
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64 && !f->is_repeated()) {
      for (int64_t v : {int64_t{-1}, std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<int64_t>::max()}) {
        out->push_back({absl::StrCat(name, " = ", v), [leaf, f, v](pb::Message* m) {
                          pb::Message* target = leaf(m);
                          target->GetReflection()->SetInt64(target, f, v);
                        }});
      }
    } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT32 && !f->is_repeated()) {
      for (int32_t v : {-1, std::numeric_limits<int32_t>::max()}) {
        out->push_back({absl::StrCat(name, " = ", v), [leaf, f, v](pb::Message* m) {
                          pb::Message* target = leaf(m);
                          target->GetReflection()->SetInt32(target, f, v);
                        }});
      }
    }
  }
}

class HostileMatrixTest : public ::testing::Test {
 protected:
  grpc::Status Call(const Target& t, const pb::Message& request) {
    const std::string& address = t.service == "giftcard.v1.CodeVault" ? suite_.code_vault_addr
                                 : t.service == "giftcard.v1.AccountCredit"
                                     ? suite_.account_credit_addr
                                     : suite_.billing_addr;
    auto channel = server::MakeChannel(address, server::ClientTls{});
    const std::string path = absl::StrCat("/", t.service, "/", t.method);
    const bool streaming = t.method == "IssueCodes";
    grpc::internal::RpcMethod method(path.c_str(), streaming
                                                       ? grpc::internal::RpcMethod::SERVER_STREAMING
                                                       : grpc::internal::RpcMethod::NORMAL_RPC);
    auto ctx = Context(t.token);
    const pb::Descriptor* out_type = pb::DescriptorPool::generated_pool()
                                         ->FindMethodByName(absl::StrCat(t.service, ".", t.method))
                                         ->output_type();
    std::unique_ptr<pb::Message> response(
        pb::MessageFactory::generated_factory()->GetPrototype(out_type)->New());
    if (streaming) {
      std::unique_ptr<grpc::ClientReader<pb::Message>> reader(
          grpc::internal::ClientReaderFactory<pb::Message>::Create(channel.get(), method, ctx.get(),
                                                                   request));
      while (reader->Read(response.get())) {
      }
      return reader->Finish();
    }
    return grpc::internal::BlockingUnaryCall<pb::Message, pb::Message>(
        channel.get(), method, ctx.get(), request, response.get());
  }

  Suite suite_;
};

TEST_F(HostileMatrixTest, EveryFieldOfEveryRpcRefusesHostileValuesCleanly) {
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite_.IssueActiveCodes(2, 1000, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);
  ASSERT_TRUE(suite_.Redeem(codes[1].code(), account, "seed").ok());
  const std::string transfer =
      QueryColumn(suite_.account_credit_dsn, "SELECT transfer_id FROM transfers").at(0);

  const std::vector<Target> targets = {
      {"giftcard.v1.CodeVault", "RedeemCode", kStorefrontToken,
       "code: '$CODE' account_id: '$ACCOUNT' request_id: 'r' client_ip: '10.0.0.1'"},
      {"giftcard.v1.CodeVault", "CheckCode", kStorefrontToken, "code: '$CODE' client_ip: '::1'"},
      {"giftcard.v1.CodeVault", "GetCodeStatus", kAdminToken, "serial: '$SERIAL'"},
      {"giftcard.v1.CodeVault", "IssueCodes", kAdminToken,
       "count: 1 amount { currency_code: 'EUR' amount_minor: 100 } region: 'DE' request_id: 'b'"},
      {"giftcard.v1.CodeVault", "ActivateCodes", kAdminToken, "serials: '$SERIAL' request_id: 'a'"},
      {"giftcard.v1.CodeVault", "VoidCodes", kAdminToken,
       "serials: '$SERIAL' reason: 'lost' request_id: 'v'"},
      {"giftcard.v1.CodeVault", "ListCodes", kAdminToken, "batch_id: '$BATCH' page_size: 10"},
      {"giftcard.v1.AccountCredit", "UpsertAccount", kStorefrontToken,
       "account { account_id: 'new' country: 'DE' currency_code: 'EUR' billing_channel: "
       "BILLING_CHANNEL_DIRECT }"},
      {"giftcard.v1.AccountCredit", "GetAccount", kStorefrontToken, "account_id: '$ACCOUNT'"},
      {"giftcard.v1.AccountCredit", "CreditAccount", kCodeVaultToken,
       "account_id: '$ACCOUNT' amount { currency_code: 'EUR' amount_minor: 100 } "
       "code_region: 'DE' request_id: 'c' reference: 'x'"},
      {"giftcard.v1.AccountCredit", "DebitAccount", kBillingToken,
       "account_id: '$ACCOUNT' max_amount { currency_code: 'EUR' amount_minor: 100 } "
       "allow_partial: true request_id: 'd' reference: 'x'"},
      {"giftcard.v1.AccountCredit", "ReverseTransfer", kBillingToken,
       "transfer_id: '$TRANSFER' request_id: 'x'"},
      {"giftcard.v1.AccountCredit", "ListLedgerEntries", kAdminToken,
       "account_id: '$ACCOUNT' page_size: 10"},
      {"giftcard.v1.Billing", "ApplyCredit", kBillingSystemToken,
       "invoice_id: 'i' account_id: '$ACCOUNT' amount_due { currency_code: 'EUR' amount_minor: 1 "
       "}"},
      {"giftcard.v1.Billing", "ReverseCredit", kBillingSystemToken,
       "invoice_id: 'i' reason: 'refund'"},
      {"giftcard.v1.Billing", "GetCreditApplication", kBillingSystemToken, "invoice_id: 'i'"},
  };
  const std::string before = suite_.ContentsDigest();
  int calls = 0;
  for (const Target& t : targets) {
    const pb::MethodDescriptor* m = pb::DescriptorPool::generated_pool()->FindMethodByName(
        absl::StrCat(t.service, ".", t.method));
    ASSERT_NE(m, nullptr) << t.method;
    std::string text = t.valid_request;
    for (const auto& [from, to] :
         std::vector<std::pair<std::string, std::string>>{{"$ACCOUNT", account},
                                                          {"$CODE", codes[0].code()},
                                                          {"$SERIAL", codes[0].serial()},
                                                          {"$BATCH", codes[0].batch_id()},
                                                          {"$TRANSFER", transfer}}) {
      for (size_t p; (p = text.find(from)) != std::string::npos;) text.replace(p, from.size(), to);
    }
    std::vector<Mutation> mutations;
    CollectMutations(m->input_type(), {}, &mutations);
    ASSERT_FALSE(mutations.empty()) << t.method;
    for (const Mutation& mutation : mutations) {
      std::unique_ptr<pb::Message> request(
          pb::MessageFactory::generated_factory()->GetPrototype(m->input_type())->New());
      ASSERT_TRUE(pb::TextFormat::ParseFromString(text, request.get())) << text;
      mutation.apply(request.get());
      grpc::Status s = Call(t, *request);
      ++calls;
      EXPECT_FALSE(s.ok()) << t.method << " " << mutation.name;
      EXPECT_THAT(s.error_code(),
                  ::testing::AnyOf(grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::NOT_FOUND,
                                   grpc::StatusCode::FAILED_PRECONDITION))
          << t.method << " " << mutation.name << ": " << s.error_message();
      // A request that is not valid protobuf (proto3 strings must be UTF-8)
      // never reaches a handler; it is still refused with a reason, and
      // nothing else is answered so.
      EXPECT_EQ(ReasonOf(s) == "REQUEST_MALFORMED",
                mutation.name.find("not UTF-8") != std::string::npos)
          << t.method << " " << mutation.name << ": " << ReasonOf(s);
    }
  }
  std::printf("%d hostile calls\n", calls);
  EXPECT_EQ(suite_.ContentsDigest(), before);
  EXPECT_TRUE(suite_.account_credit->Running());
  EXPECT_TRUE(suite_.code_vault->Running());
  EXPECT_TRUE(suite_.billing->Running());
  EXPECT_EQ(suite_.AuditReport(), "");
}

TEST_F(HostileMatrixTest, MessagesOverTheSizeLimitAreRefusedByGrpc) {
  grpc::Status s = suite_.Redeem(std::string(5 << 20, 'A'), "acct", "big");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(suite_.code_vault->Running());
}

}  // namespace
}  // namespace giftcard::testing
