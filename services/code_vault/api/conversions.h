// code-vault's proto ⇄ domain conversions, for its handler (api/).
#ifndef GIFTCARD_SERVICES_CODE_VAULT_API_CONVERSIONS_H_
#define GIFTCARD_SERVICES_CODE_VAULT_API_CONVERSIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "giftcard/v1/code_vault.pb.h"
#include "services/code_vault/domain/vault_service.h"

namespace giftcard::code_vault {

namespace v1 = ::giftcard::v1;

// The serials as typed, each in its one spelling (validate::CanonicalSerial).
std::vector<std::string> CanonicalSerials(
    const google::protobuf::RepeatedPtrField<std::string>& typed);
v1::CodeState ToProto(CodeState s);
v1::RedemptionState ToProto(RedemptionState s);
// Nothing for an unspecified or unknown state.
std::optional<CodeState> FromProto(v1::CodeState s);
v1::ClawbackState ToProto(ClawbackState s);
void ToProto(const Clawback& c, v1::Clawback* out);
void ToProto(const CodeChange& c, v1::CodeChange* out);
void ToProto(const Code& code, v1::CodeStatus* out);
void ToProto(const BatchInfo& batch, v1::Batch* out);
void ToProto(const Redemption& r, v1::Redemption* response);

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_API_CONVERSIONS_H_
