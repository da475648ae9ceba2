// libFuzzer target: any bytes as a CodeVault request, through the vault's
// domain with stores that refuse everything. Validation must answer every
// input with a clean status, never crash, and never echo a PIN.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "codes/codes.h"
#include "codes/hasher.h"
#include "giftcard/v1/code_vault.pb.h"
#include "services/code_vault/domain/attempt_limiters.h"
#include "services/code_vault/domain/vault_service.h"

namespace {

using namespace giftcard::code_vault;

absl::Status Down() { return absl::UnavailableError("fuzz: no storage"); }

class NoStore : public CodeStore {
 public:
  absl::StatusOr<Batch> CreateBatch(const BatchSpec&, const std::vector<NewCode>&) override {
    return Down();
  }
  absl::StatusOr<BulkResult> ApplyBulkChange(const BulkChange&) override { return Down(); }
  absl::StatusOr<BatchPage> ListBatches(int64_t, int) override { return Down(); }
  absl::StatusOr<CodePage> ListCodes(const std::string&, std::optional<CodeState>,
                                     const std::string&, int) override {
    return Down();
  }
  absl::StatusOr<std::vector<Redemption>> ClaimPending(absl::Duration, int) override {
    return Down();
  }
  absl::StatusOr<CodeLookup> Lookup(const std::vector<std::string>&, const std::string&,
                                    const std::string&) override {
    return Down();
  }
  absl::StatusOr<Code> GetCodeBySerial(const std::string&) override { return Down(); }
  absl::StatusOr<CodeChangePage> ListCodeChanges(const std::string&, int64_t, int) override {
    return Down();
  }
  absl::StatusOr<std::optional<CodeChange>> LastCodeChange(const std::string&) override {
    return Down();
  }
  absl::StatusOr<Code> GetCodeByHashes(const std::vector<std::string>&) override { return Down(); }
  absl::StatusOr<Reservation> Reserve(const ReserveRequest&) override { return Down(); }
  absl::StatusOr<Redemption> Complete(const Redemption&, const std::string&, int64_t) override {
    return Down();
  }
  absl::StatusOr<Redemption> Reject(const Redemption&, const absl::Status&) override {
    return Down();
  }
  absl::StatusOr<Clawback> StartClawback(const ClawbackRequest&) override { return Down(); }
  absl::StatusOr<Clawback> CompleteClawback(const Clawback&, const std::string&, int64_t,
                                            int64_t) override {
    return Down();
  }
  absl::StatusOr<Clawback> RejectClawback(const Clawback&, const absl::Status&) override {
    return Down();
  }
  absl::StatusOr<std::vector<Clawback>> ClaimPendingClawbacks(absl::Duration, int) override {
    return Down();
  }
};

class NoGuard : public RedemptionGuard {
 public:
  absl::StatusOr<std::string> Acquire(const std::string&, absl::Duration) override {
    return Down();
  }
  void Release(const std::string&, const std::string&) override {}
};

class NoCredit : public CreditGateway {
 public:
  absl::StatusOr<CreditResult> Credit(const std::string&, const giftcard::money::Money&,
                                      const std::string&, const std::string&, const std::string&,
                                      const std::string&) override {
    return Down();
  }
  absl::StatusOr<ClawbackOutcome> ClawBack(const std::string&, const std::string&) override {
    return Down();
  }
};

// A refusal must not carry the PIN back. Only input that is a PIN (it
// normalizes) is a secret; any other text may well appear in a message by chance.
void CheckNoEcho(const absl::Status& s, const std::string& code) {
  absl::StatusOr<std::string> pin = giftcard::codes::Normalize(code);
  if (!pin.ok()) return;
  const std::string message(s.message());
  if (message.find(*pin) != std::string::npos ||
      message.find(giftcard::codes::Format(*pin)) != std::string::npos ||
      message.find(code) != std::string::npos) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* hasher = new giftcard::codes::CodeHasher(
      *giftcard::codes::CodeHasher::FromSpec("fuzz:" + std::string(64, 'a')));
  static auto* store = new NoStore;
  static auto* guard = new NoGuard;
  static auto* credit = new NoCredit;
  static auto* limiter = new InProcessAttemptLimiter(absl::Minutes(1), 1000);
  static auto* service = new VaultService(*store, *guard, *credit, *limiter, *hasher, {});
  if (size == 0) return 0;
  const uint8_t which = data[0] % 8;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (which) {
    case 0: {
      giftcard::v1::RedeemCodeRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      auto s = service->Redeem({r.code(), r.account_id(), r.request_id(), r.client_ip()});
      if (!s.ok()) CheckNoEcho(s.status(), r.code());
      break;
    }
    case 1: {
      giftcard::v1::CheckCodeRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      auto s = service->CheckCode(r.code(), r.client_ip());
      if (!s.ok()) CheckNoEcho(s.status(), r.code());
      break;
    }
    case 2: {
      giftcard::v1::IssueCodesRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      IssueCommand cmd;
      cmd.count = std::min(r.count(), 50);  // Generating 100,000 PINs per input is not the point.
      cmd.amount = {r.amount().currency_code(), r.amount().amount_minor()};
      cmd.region = r.region();
      cmd.request_id = r.request_id();
      (void)service->IssueCodes(cmd);
      break;
    }
    case 3: {
      giftcard::v1::VoidCodesRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->VoidCodes(
          {r.batch_id(), {r.serials().begin(), r.serials().end()}, r.reason(), r.request_id()});
      break;
    }
    case 4: {
      giftcard::v1::ListCodesRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      ListCodesQuery q;
      q.batch_id = r.batch_id();
      q.page_size = r.page_size();
      q.page_token = r.page_token();
      (void)service->ListCodes(q);
      break;
    }
    case 5: {
      giftcard::v1::ListBatchesRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->ListBatches(r.page_size(), r.page_token());
      break;
    }
    case 6: {
      giftcard::v1::ReverseRedemptionRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      ReverseRedemptionCommand cmd;
      cmd.serial = r.serial();
      cmd.redemption_id = r.redemption_id();
      cmd.reason = r.reason();
      cmd.request_id = r.request_id();
      if (r.then_state() == giftcard::v1::CODE_STATE_BLOCKED) cmd.then_state = CodeState::kBlocked;
      if (r.then_state() == giftcard::v1::CODE_STATE_VOIDED) cmd.then_state = CodeState::kVoided;
      (void)service->ReverseRedemption(cmd);
      break;
    }
    default: {
      giftcard::v1::GetCodeStatusRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      auto s = service->GetCodeStatus({r.serial(), r.code()});
      if (!s.ok()) CheckNoEcho(s.status(), r.code());
    }
  }
  return 0;
}
