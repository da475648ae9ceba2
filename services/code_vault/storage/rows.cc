#include "services/code_vault/storage/rows.h"

namespace giftcard::code_vault {

BatchParams ParamsOf(const std::vector<ReserveRequest>& batch) {
  std::vector<std::string> accounts, requests, items, hashes, principals;
  for (size_t i = 0; i < batch.size(); ++i) {
    accounts.push_back(batch[i].account_id);
    requests.push_back(batch[i].request_id);
    principals.push_back(batch[i].principal);
    for (const std::string& h : batch[i].code_hashes) {
      items.push_back(std::to_string(i + 1));
      hashes.push_back(h);
    }
  }
  return {pg::TextArray(accounts), pg::TextArray(requests), pg::TextArray(items),
          pg::ByteaArray(hashes), pg::TextArray(principals)};
}

}  // namespace giftcard::code_vault
