#include "audit/wire.h"

#include <algorithm>

#include "protoconv/protoconv.h"

namespace giftcard::audit {
namespace {

// Hands out the chunk for each next row: at most `size` rows of any kind per
// chunk, and always at least one chunk.
template <typename Chunk>
class Chunker {
 public:
  explicit Chunker(int size) : size_(size), chunks_(1) {}
  Chunk& Next() {
    if (rows_ == size_) {
      chunks_.emplace_back();
      rows_ = 0;
    }
    ++rows_;
    return chunks_.back();
  }
  std::vector<Chunk> Take(absl::Time snapshot_time) {
    for (auto& c : chunks_) protoconv::ToTimestamp(snapshot_time, c.mutable_snapshot_time());
    return std::move(chunks_);
  }
  std::vector<Chunk> Take() { return std::move(chunks_); }

 private:
  const int size_;
  int rows_ = 0;
  std::vector<Chunk> chunks_;
};

}  // namespace

int ChunkSize(int requested) {
  if (requested <= 0) return 1000;
  return std::min(requested, 10000);
}

std::vector<v1::VaultAuditFacts> ToChunks(const VaultFacts& facts, int chunk_size) {
  Chunker<v1::VaultAuditFacts> chunker(chunk_size);
  for (const auto& r : facts.redemptions) {
    auto* out = chunker.Next().add_redemptions();
    out->set_redemption_id(r.redemption_id);
    out->set_account_id(r.account_id);
    out->set_state(r.state);
    out->mutable_amount()->set_currency_code(r.currency_code);
    out->mutable_amount()->set_amount_minor(r.amount_minor);
  }
  for (const auto& r : facts.redeemed_codes) {
    auto* out = chunker.Next().add_redeemed_codes();
    out->set_serial(r.serial);
    out->set_redemption_id(r.redemption_id);
    out->set_account_id(r.account_id);
  }
  for (const auto& c : facts.clawbacks) {
    auto* out = chunker.Next().add_clawbacks();
    out->set_clawback_id(c.clawback_id);
    out->set_redemption_id(c.redemption_id);
    out->set_state(c.state);
    out->set_ledger_request_id(c.ledger_request_id);
    out->mutable_clawed_back()->set_currency_code(c.currency_code);
    out->mutable_clawed_back()->set_amount_minor(c.clawed_back_minor);
    out->set_code_state(c.code_state);
  }
  return chunker.Take(facts.snapshot_time);
}

std::vector<v1::BillingAuditFacts> ToChunks(const BillingFacts& facts, int chunk_size) {
  Chunker<v1::BillingAuditFacts> chunker(chunk_size);
  for (const auto& a : facts.applications) {
    auto* out = chunker.Next().add_applications();
    out->set_invoice_id(a.invoice_id);
    out->set_account_id(a.account_id);
    out->set_state(a.state);
    out->set_debit_transfer_id(a.debit_transfer_id);
    out->set_reversal_transfer_id(a.reversal_transfer_id);
    out->set_applied_minor(a.applied_minor);
  }
  return chunker.Take(facts.snapshot_time);
}

std::vector<v1::LedgerAuditFacts> ToChunks(const LedgerFacts& facts, int chunk_size) {
  Chunker<v1::LedgerAuditFacts> chunker(chunk_size);
  for (const auto& [currency, sum] : facts.currency_sums) {
    (*chunker.Next().mutable_currency_sums())[currency] = sum;
  }
  for (const auto& b : facts.balances) {
    auto* out = chunker.Next().add_balances();
    out->set_account_id(b.account_id);
    out->set_balance_minor(b.balance_minor);
    out->set_entries_sum(b.entries_sum);
    out->set_currency_code(b.currency_code);
    out->set_foreign_currency_entries(b.foreign_currency_entries);
    out->set_owed_minor(b.owed_minor);
    out->set_owed_from_transfers(b.owed_from_transfers);
  }
  for (const auto& t : facts.transfers) {
    auto* out = chunker.Next().add_transfers();
    out->set_transfer_id(t.transfer_id);
    out->set_request_id(t.request_id);
    out->set_kind(t.kind);
    out->set_account_id(t.account_id);
    out->mutable_amount()->set_currency_code(t.currency_code);
    out->mutable_amount()->set_amount_minor(t.amount_minor);
    out->set_reverses_transfer_id(t.reverses_transfer_id);
    protoconv::ToTimestamp(t.create_time, out->mutable_create_time());
    out->set_entries(t.entries);
    out->set_entries_sum(t.entries_sum);
    out->set_customer_side(t.customer_side);
    out->set_owed_added_minor(t.owed_added_minor);
    out->set_owed_repaid_minor(t.owed_repaid_minor);
  }
  return chunker.Take();
}

void Append(const v1::VaultAuditFacts& chunk, VaultFacts* facts) {
  facts->snapshot_time = protoconv::FromTimestamp(chunk.snapshot_time());
  for (const auto& r : chunk.redemptions()) {
    facts->redemptions.push_back({r.redemption_id(), r.account_id(), r.state(),
                                  r.amount().currency_code(), r.amount().amount_minor()});
  }
  for (const auto& c : chunk.redeemed_codes()) {
    facts->redeemed_codes.push_back({c.serial(), c.redemption_id(), c.account_id()});
  }
  for (const auto& c : chunk.clawbacks()) {
    facts->clawbacks.push_back({c.clawback_id(), c.redemption_id(), c.state(),
                                c.ledger_request_id(), c.clawed_back().currency_code(),
                                c.clawed_back().amount_minor(), c.code_state()});
  }
}

void Append(const v1::BillingAuditFacts& chunk, BillingFacts* facts) {
  facts->snapshot_time = protoconv::FromTimestamp(chunk.snapshot_time());
  for (const auto& a : chunk.applications()) {
    facts->applications.push_back({a.invoice_id(), a.account_id(), a.state(), a.debit_transfer_id(),
                                   a.reversal_transfer_id(), a.applied_minor()});
  }
}

void Append(const v1::LedgerAuditFacts& chunk, LedgerFacts* facts) {
  for (const auto& [currency, sum] : chunk.currency_sums()) facts->currency_sums[currency] += sum;
  for (const auto& b : chunk.balances()) {
    facts->balances.push_back({b.account_id(), b.balance_minor(), b.entries_sum(),
                               b.currency_code(), b.foreign_currency_entries(), b.owed_minor(),
                               b.owed_from_transfers()});
  }
  for (const auto& t : chunk.transfers()) {
    LedgerFacts::Transfer out;
    out.transfer_id = t.transfer_id();
    out.request_id = t.request_id();
    out.kind = t.kind();
    out.account_id = t.account_id();
    out.currency_code = t.amount().currency_code();
    out.amount_minor = t.amount().amount_minor();
    out.reverses_transfer_id = t.reverses_transfer_id();
    out.create_time = protoconv::FromTimestamp(t.create_time());
    out.entries = t.entries();
    out.entries_sum = t.entries_sum();
    out.customer_side = t.customer_side();
    out.owed_added_minor = t.owed_added_minor();
    out.owed_repaid_minor = t.owed_repaid_minor();
    facts->transfers.push_back(std::move(out));
  }
}

namespace {

// One service's side of the books, chunk by chunk.
template <typename Chunk, typename Facts>
absl::Status ReadChunks(std::unique_ptr<grpc::ClientReaderInterface<Chunk>> reader, Facts* facts) {
  Chunk chunk;
  while (reader->Read(&chunk)) Append(chunk, facts);
  return errors::FromGrpcStatus(reader->Finish());
}

}  // namespace

absl::StatusOr<AllFacts> ReadOverRpc(const AuditPeers& peers) {
  v1::ExportAuditFactsRequest request;
  request.set_chunk_size(peers.chunk_size);
  AllFacts facts;
  auto vault_call = peers.context();
  absl::Status s =
      ReadChunks(peers.vault->ExportAuditFacts(vault_call.get(), request), &facts.vault);
  if (!s.ok()) return s;
  auto billing_call = peers.context();
  s = ReadChunks(peers.billing->ExportAuditFacts(billing_call.get(), request), &facts.billing);
  if (!s.ok()) return s;
  auto ledger_call = peers.context();
  s = ReadChunks(peers.ledger->ExportAuditFacts(ledger_call.get(), request), &facts.ledger);
  if (!s.ok()) return s;
  return facts;
}

absl::StatusOr<std::vector<Violation>> AuditOverRpc(const AuditPeers& peers) {
  absl::StatusOr<AllFacts> facts = ReadOverRpc(peers);
  if (!facts.ok()) return facts.status();
  return Check(facts->vault, facts->billing, facts->ledger);
}

}  // namespace giftcard::audit
