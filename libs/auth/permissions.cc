#include "auth/permissions.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace giftcard::auth {
namespace {

std::string Vault(absl::string_view m) { return absl::StrCat("/giftcard.v1.CodeVault/", m); }
std::string Credit(absl::string_view m) { return absl::StrCat("/giftcard.v1.AccountCredit/", m); }
std::string Bill(absl::string_view m) { return absl::StrCat("/giftcard.v1.Billing/", m); }

const std::map<std::string, std::set<std::string>>& Table() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, std::set<std::string>>;
    auto allow = [t](const std::string& principal, const std::vector<std::string>& methods) {
      for (const auto& m : methods) (*t)[principal].insert(m);
    };
    allow(std::string(kStorefront),
          {Vault("RedeemCode"), Vault("CheckCode"), Credit("UpsertAccount"), Credit("GetAccount")});
    allow(std::string(kBillingSystem),
          {Bill("ApplyCredit"), Bill("ReverseCredit"), Bill("GetCreditApplication"),
           Credit("UpsertAccount"), Credit("GetAccount")});
    allow(std::string(kAdmin),
          {Vault("GetCodeStatus"), Vault("IssueCodes"), Vault("ActivateCodes"), Vault("VoidCodes"),
           Vault("BlockCodes"), Vault("UnblockCodes"), Vault("ReverseRedemption"),
           Vault("ListCodeChanges"),
           // Not in DESIGN.md's table: ListBatches, a read like ListCodes.
           Vault("ListCodes"), Vault("ListBatches"), Credit("GetAccount"),
           Credit("ListLedgerEntries"), Bill("GetCreditApplication"),
           // Not in DESIGN.md's table: the audit's reads (docs/decisions.md).
           Vault("ExportAuditFacts"), Credit("ExportAuditFacts"), Bill("ExportAuditFacts")});
    allow(std::string(kSupport), {Vault("GetCodeStatus"), Vault("ListCodes"), Vault("ListBatches"),
                                  Vault("ListCodeChanges"), Credit("GetAccount"),
                                  Credit("ListLedgerEntries"), Bill("GetCreditApplication")});
    // DESIGN.md's "the reports" (finance's reads) and WatchEvents, for admin
    // and support.
    for (absl::string_view reader : {kAdmin, kSupport}) {
      allow(std::string(reader),
            {Vault("GetCodeLiability"), Vault("GetBreakageReport"), Credit("GetCreditLiability"),
             Credit("ListDormantAccounts"), Vault("WatchEvents"), Credit("WatchEvents"),
             Bill("WatchEvents")});
    }
    // Not in DESIGN.md's table: the batch forms of the single calls.
    allow(std::string(kCodeVault),
          {Credit("CreditAccount"), Credit("BatchCreditAccounts"), Credit("ClawBackCredit")});
    allow(std::string(kBilling), {Credit("DebitAccount"), Credit("BatchDebitAccounts"),
                                  Credit("ReverseTransfer"), Credit("GetAccount")});
    // Not in DESIGN.md's table: who am I, for every principal (the console
    // shows admins their actions only).
    for (const std::string& principal : AllPrincipals()) allow(principal, {Vault("GetCaller")});
    return t;
  }();
  return *table;
}

}  // namespace

const std::vector<std::string>& AllPrincipals() {
  static const auto* all = new std::vector<std::string>{
      std::string(kStorefront), std::string(kBillingSystem), std::string(kAdmin),
      std::string(kSupport),    std::string(kCodeVault),     std::string(kBilling)};
  return *all;
}

const std::vector<std::string>& AllMethods() {
  static const auto* all = new std::vector<std::string>{Vault("RedeemCode"),
                                                        Vault("CheckCode"),
                                                        Vault("GetCodeStatus"),
                                                        Vault("IssueCodes"),
                                                        Vault("ActivateCodes"),
                                                        Vault("VoidCodes"),
                                                        Vault("ListCodes"),
                                                        Vault("ListBatches"),
                                                        Credit("UpsertAccount"),
                                                        Credit("GetAccount"),
                                                        Credit("CreditAccount"),
                                                        Credit("DebitAccount"),
                                                        Credit("ReverseTransfer"),
                                                        Credit("ListLedgerEntries"),
                                                        Bill("ApplyCredit"),
                                                        Bill("ReverseCredit"),
                                                        Bill("GetCreditApplication"),
                                                        Vault("ExportAuditFacts"),
                                                        Credit("ExportAuditFacts"),
                                                        Bill("ExportAuditFacts"),
                                                        Credit("BatchCreditAccounts"),
                                                        Credit("BatchDebitAccounts"),
                                                        Vault("BlockCodes"),
                                                        Vault("UnblockCodes"),
                                                        Vault("ReverseRedemption"),
                                                        Credit("ClawBackCredit"),
                                                        Vault("ListCodeChanges"),
                                                        Vault("GetCodeLiability"),
                                                        Vault("GetBreakageReport"),
                                                        Credit("GetCreditLiability"),
                                                        Credit("ListDormantAccounts"),
                                                        Vault("WatchEvents"),
                                                        Credit("WatchEvents"),
                                                        Bill("WatchEvents"),
                                                        Vault("GetCaller")};
  return *all;
}

bool Allowed(absl::string_view principal, absl::string_view method) {
  auto it = Table().find(std::string(principal));
  return it != Table().end() && it->second.count(std::string(method)) > 0;
}

std::vector<std::string> PrincipalsAllowed(absl::string_view method) {
  std::vector<std::string> out;
  for (const std::string& principal : AllPrincipals()) {
    if (Allowed(principal, method)) out.push_back(principal);
  }
  return out;
}

std::vector<std::string> MethodsAllowed(absl::string_view principal) {
  auto it = Table().find(std::string(principal));
  if (it == Table().end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());  // A set: sorted.
}

bool IsOpenMethod(absl::string_view method) {
  return absl::StartsWith(method, "/grpc.health.v1.Health/") ||
         absl::StartsWith(method, "/grpc.reflection.v1alpha.ServerReflection/") ||
         absl::StartsWith(method, "/grpc.reflection.v1.ServerReflection/");
}

}  // namespace giftcard::auth
