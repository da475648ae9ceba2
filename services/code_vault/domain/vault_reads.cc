// VaultService's reads: codes and batches a page at a time (opaque page
// tokens tied to their query), a code's status and its history.
#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "codes/codes.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "services/code_vault/domain/vault_service.h"
#include "validate/page_token.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

constexpr int kDefaultPageSize = 100;

constexpr int kMaxPageSize = 1000;

// A page of codes continues after a serial, in its batch and state.
std::string EncodePageToken(const ListCodesQuery& q, const std::string& last_serial) {
  return page_token::Encode("codes", {q.batch_id, q.state ? CodeStateName(*q.state) : ""},
                            last_serial);
}

// Fills the query's empty batch_id and state from its token and returns the
// serial to continue after; a token from another query is refused.
absl::StatusOr<std::string> ResolvePageToken(ListCodesQuery& q) {
  if (q.page_token.empty()) return std::string();
  GIFTCARD_ASSIGN_OR_RETURN(page_token::Token token, page_token::Decode(q.page_token, "codes", 2));
  const std::string& batch_id = token.filter[0];
  const std::string& state = token.filter[1];
  const std::optional<CodeState> token_state =
      state.empty() ? std::nullopt : CodeStateFromName(state);
  if ((!state.empty() && !token_state) || !validate::Id("page_token", token.position).ok()) {
    return errors::InvalidField("page_token", "is not a token this API returned");
  }
  if ((!q.batch_id.empty() && q.batch_id != batch_id) || (q.state && q.state != token_state)) {
    return errors::InvalidField("page_token", "belongs to another query or was altered");
  }
  q.batch_id = batch_id;
  q.state = token_state;
  return token.position;
}

absl::Status ValidatePageSize(int page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return errors::InvalidField("page_size", absl::StrCat("must be 0 to ", kMaxPageSize));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ListCodesResult> VaultService::ListCodes(const ListCodesQuery& request) {
  ListCodesQuery query = request;
  GIFTCARD_RETURN_IF_ERROR(ValidatePageSize(query.page_size));
  GIFTCARD_ASSIGN_OR_RETURN(std::string after, ResolvePageToken(query));
  if (!query.batch_id.empty()) GIFTCARD_RETURN_IF_ERROR(validate::Id("batch_id", query.batch_id));
  const int limit = query.page_size == 0 ? kDefaultPageSize : query.page_size;
  GIFTCARD_ASSIGN_OR_RETURN(CodePage page,
                            store_.ListCodes(query.batch_id, query.state, after, limit));
  ListCodesResult out;
  const absl::Time now = options_.now();
  for (Code& c : page.codes) {
    c.state = EffectiveState(c, now);
    out.codes.push_back(std::move(c));
  }
  if (page.more && !out.codes.empty()) {
    out.next_page_token = EncodePageToken(query, out.codes.back().serial);
  }
  return out;
}

absl::StatusOr<ListBatchesResult> VaultService::ListBatches(int page_size,
                                                            const std::string& page_token) {
  GIFTCARD_RETURN_IF_ERROR(ValidatePageSize(page_size));
  int64_t before = 0;
  if (!page_token.empty()) {
    GIFTCARD_ASSIGN_OR_RETURN(const std::string position,
                              page_token::PositionFor(page_token, "batches", {}, ""));
    if (!absl::SimpleAtoi(position, &before) || before <= 0) {
      return errors::InvalidField("page_token", "is not a token this API returned");
    }
  }
  const int limit = page_size == 0 ? kDefaultPageSize : page_size;
  GIFTCARD_ASSIGN_OR_RETURN(BatchPage page, store_.ListBatches(before, limit));
  ListBatchesResult out;
  out.batches = std::move(page.batches);
  if (page.more && !out.batches.empty()) {
    out.next_page_token =
        page_token::Encode("batches", {}, absl::StrCat(out.batches.back().batch_no));
  }
  return out;
}

namespace {

// A GetCodeStatus key, checked: the serial, or the PIN's normalized form.
struct CheckedCodeKey {
  std::string serial;
  std::string normalized_code;
};
absl::StatusOr<CheckedCodeKey> CheckCodeKey(const CodeKey& key) {
  if (key.serial.empty() == key.code.empty()) {
    return errors::InvalidField("key", "give exactly one of serial or code");
  }
  if (!key.serial.empty()) {
    GIFTCARD_RETURN_IF_ERROR(validate::Serial("serial", key.serial));
    return CheckedCodeKey{key.serial, ""};
  }
  GIFTCARD_ASSIGN_OR_RETURN(std::string normalized, codes::Normalize(key.code));
  return CheckedCodeKey{"", std::move(normalized)};
}

}  // namespace

absl::StatusOr<Code> VaultService::GetCodeStatus(const CodeKey& key) {
  GIFTCARD_ASSIGN_OR_RETURN(CheckedCodeKey checked, CheckCodeKey(key));
  absl::StatusOr<Code> code =
      checked.serial.empty()
          ? store_.GetCodeByHashes(codes::DigestsOf(hasher_.AllHashes(checked.normalized_code)))
          : store_.GetCodeBySerial(checked.serial);
  if (!code.ok()) return code.status();
  code->state = EffectiveState(*code, options_.now());
  GIFTCARD_ASSIGN_OR_RETURN(code->last_change, store_.LastCodeChange(code->serial));
  return code;
}

void VaultService::StartGetCodeStatus(AsyncCodeReads& reads, const CodeKey& key,
                                      Callback<absl::StatusOr<Code>> done) {
  absl::StatusOr<CheckedCodeKey> checked = CheckCodeKey(key);
  if (!checked.ok()) return std::move(done)(checked.status());
  auto answer = [this, done = std::move(done)](absl::StatusOr<Code> code) mutable {
    if (code.ok()) code->state = EffectiveState(*code, options_.now());
    std::move(done)(std::move(code));
  };
  if (checked->serial.empty()) {
    reads.StatusByHashes(codes::DigestsOf(hasher_.AllHashes(checked->normalized_code)),
                         std::move(answer));
  } else {
    reads.StatusBySerial(checked->serial, std::move(answer));
  }
}

absl::StatusOr<ListCodeChangesResult> VaultService::ListCodeChanges(
    const ListCodeChangesQuery& query) {
  GIFTCARD_RETURN_IF_ERROR(validate::Serial("serial", query.serial));
  if (query.page_size < 0 || query.page_size > kMaxPageSize) {
    return errors::InvalidField("page_size", absl::StrCat("must be 0 to ", kMaxPageSize));
  }
  int64_t after = 0;
  if (!query.page_token.empty()) {
    GIFTCARD_ASSIGN_OR_RETURN(
        const std::string position,
        page_token::PositionFor(query.page_token, "code_changes", {query.serial}, "serial"));
    if (!absl::SimpleAtoi(position, &after) || after <= 0) {
      return errors::InvalidField("page_token", "is not a token this API returned");
    }
  }
  const int limit = query.page_size == 0 ? kDefaultPageSize : query.page_size;
  GIFTCARD_ASSIGN_OR_RETURN(CodeChangePage page,
                            store_.ListCodeChanges(query.serial, after, limit));
  ListCodeChangesResult out;
  out.changes = std::move(page.changes);
  if (page.more && !out.changes.empty()) {
    out.next_page_token = page_token::Encode("code_changes", {query.serial},
                                             absl::StrCat(out.changes.back().change_id));
  }
  return out;
}

}  // namespace giftcard::code_vault
