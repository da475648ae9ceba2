// The audit's facts on the wire: each service streams its side of the books
// (ExportAuditFacts) in chunks, and a tool puts the chunks back together
// before audit::Check.
#ifndef GIFTCARD_LIBS_AUDIT_WIRE_H_
#define GIFTCARD_LIBS_AUDIT_WIRE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"

namespace giftcard::audit {

// Rows per chunk for a request's chunk_size (0 → 1,000; capped at 10,000).
int ChunkSize(int requested);

// Facts → chunks; always at least one chunk, so an empty side still
// carries its snapshot time.
std::vector<v1::VaultAuditFacts> ToChunks(const VaultFacts& facts, int chunk_size);
std::vector<v1::BillingAuditFacts> ToChunks(const BillingFacts& facts, int chunk_size);
std::vector<v1::LedgerAuditFacts> ToChunks(const LedgerFacts& facts, int chunk_size);

// Adds one chunk to the facts read so far.
void Append(const v1::VaultAuditFacts& chunk, VaultFacts* facts);
void Append(const v1::BillingAuditFacts& chunk, BillingFacts* facts);
void Append(const v1::LedgerAuditFacts& chunk, LedgerFacts* facts);

// What a service's ExportAuditFacts hands out: its facts, read in one snapshot.
template <typename Facts>
using FactsReader = std::function<absl::StatusOr<Facts>()>;

// The body of every ExportAuditFacts handler: reads, chunks and streams.
template <typename Facts, typename Chunk>
grpc::Status WriteChunks(const FactsReader<Facts>& read, int requested_chunk_size,
                         grpc::ServerWriter<Chunk>* writer) {
  if (requested_chunk_size < 0) {
    return errors::ToGrpcStatus(errors::InvalidField("chunk_size", "must not be negative"));
  }
  absl::StatusOr<Facts> facts = read();
  if (!facts.ok()) return errors::ToGrpcStatus(facts.status());
  for (const Chunk& chunk : ToChunks(*facts, ChunkSize(requested_chunk_size))) {
    if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  return grpc::Status::OK;
}

// The services to audit, and a fresh client context (deadline, caller
// identity) for each of their ExportAuditFacts calls.
struct AuditPeers {
  v1::CodeVault::StubInterface* vault = nullptr;
  v1::Billing::StubInterface* billing = nullptr;
  v1::AccountCredit::StubInterface* ledger = nullptr;
  std::function<std::unique_ptr<grpc::ClientContext>()> context;
  int chunk_size = 0;  // 0: the services' default.
};

// The three sides of the books.
struct AllFacts {
  VaultFacts vault;
  BillingFacts billing;
  LedgerFacts ledger;
};

// Reads vault, billing, ledger over ExportAuditFacts, in that order (the
// order audit.h's reasoning needs). A failed call is its status.
absl::StatusOr<AllFacts> ReadOverRpc(const AuditPeers& peers);

// ReadOverRpc, then Check.
absl::StatusOr<std::vector<Violation>> AuditOverRpc(const AuditPeers& peers);

}  // namespace giftcard::audit

#endif  // GIFTCARD_LIBS_AUDIT_WIRE_H_
