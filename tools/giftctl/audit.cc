// giftctl audit: every invariant of the books across the three services.
#include "audit/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "audit/wire.h"
#include "calls.h"
#include "errors/grpc_status.h"
#include "output.h"

namespace giftcard::giftctl {
namespace {

struct AuditFlags {
  int chunk_size = 0;
  std::string metrics_file;  // Where to write the outcome for Prometheus; "" for nowhere.
};

// The audit's outcome for Prometheus, in the text format node_exporter's
// textfile collector reads (deploy/observability: GiftcardAuditViolations,
// GiftcardAuditNotRunning). Written to a temporary file and renamed over
// the old one, so a scrape never reads half of it.
absl::Status WriteAuditMetrics(const std::string& path, size_t violations) {
  const std::string text = absl::StrCat(
      "# HELP giftcard_audit_violations Violations of the books' invariants the last completed "
      "audit found.\n# TYPE giftcard_audit_violations gauge\ngiftcard_audit_violations ",
      violations,
      "\n# HELP giftcard_audit_completed_timestamp_seconds Unix time the last audit completed."
      "\n# TYPE giftcard_audit_completed_timestamp_seconds gauge\n"
      "giftcard_audit_completed_timestamp_seconds ",
      absl::ToUnixSeconds(absl::Now()), "\n");
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--metrics_file: cannot write ", temporary, ": ", std::strerror(errno)));
  }
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int write_errno = errno;
  close(fd);
  if (!written || rename(temporary.c_str(), path.c_str()) != 0) {
    const int e = written ? errno : write_errno;
    unlink(temporary.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("--metrics_file: cannot write ", path, ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

void PrintAudit(const Session& session, const audit::AllFacts& facts,
                const std::vector<audit::Violation>& violations) {
  const audit::VaultFacts& vault = facts.vault;
  const audit::BillingFacts& billing = facts.billing;
  const audit::LedgerFacts& ledger = facts.ledger;
  if (session.json()) {
    nlohmann::ordered_json out;
    out["clean"] = violations.empty();
    out["redemptions"] = vault.redemptions.size();
    out["redeemed_codes"] = vault.redeemed_codes.size();
    out["applications"] = billing.applications.size();
    out["accounts"] = ledger.balances.size();
    out["transfers"] = ledger.transfers.size();
    out["violations"] = nlohmann::ordered_json::array();
    for (const auto& v : violations) {
      out["violations"].push_back({{"invariant", v.invariant}, {"detail", v.detail}});
    }
    std::printf("%s\n", DumpJson(out).c_str());
    return;
  }
  std::printf(
      "checked %zu redemptions, %zu redeemed codes, %zu credit applications, %zu "
      "accounts, %zu transfers\n",
      vault.redemptions.size(), vault.redeemed_codes.size(), billing.applications.size(),
      ledger.balances.size(), ledger.transfers.size());
  std::printf("%s", audit::Format(violations).c_str());
  std::printf(violations.empty() ? "audit: clean\n" : "audit: %zu violations\n", violations.size());
}

int Audit(const Session& session, const AuditFlags& flags) {
  auto vault_stub = Vault(session);
  auto billing_stub = Billing(session);
  auto ledger_stub = Credit(session);
  absl::StatusOr<audit::AllFacts> facts =
      audit::ReadOverRpc({vault_stub.get(), billing_stub.get(), ledger_stub.get(),
                          [&session] { return session.Call(absl::Minutes(5)); }, flags.chunk_size});
  if (!facts.ok()) return session.CallFailed(errors::ToGrpcStatus(facts.status()));
  const std::vector<audit::Violation> violations =
      audit::Check(facts->vault, facts->billing, facts->ledger);
  PrintAudit(session, *facts, violations);
  if (!flags.metrics_file.empty()) {
    if (absl::Status s = WriteAuditMetrics(flags.metrics_file, violations.size()); !s.ok()) {
      return session.Failed(std::string(s.message()));
    }
  }
  return violations.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void AddAuditCommand(CommandLine& cli) {
  AuditFlags& audit = cli.NewFlags<AuditFlags>();
  const Session& session = cli.session();
  CLI::App* c = cli.Command(cli.root(), "audit",
                            "check every invariant of the books across the three services (admin "
                            "only)",
                            [&] { return Audit(session, audit); });
  c->add_option("--chunk_size", audit.chunk_size, "rows per streamed message (default 1,000)");
  c->add_option(
      "--metrics_file", audit.metrics_file,
      "also write the outcome for Prometheus to this file (node_exporter's textfile "
      "collector): giftcard_audit_violations, giftcard_audit_completed_timestamp_seconds");
  Explain(c,
          "Exit code 0 when the books are clean, 1 on any violation (each printed).\n"
          "Run it on a schedule with --metrics_file so a violation, or an audit that stopped\n"
          "running, pages someone (deploy/observability/README.md).");
}

}  // namespace giftcard::giftctl
