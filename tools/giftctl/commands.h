// giftctl's commands, each a function of the session and its own flags
// (giftctl.cc binds the flags with CLI11). Each returns the exit code.
#ifndef GIFTCARD_TOOLS_GIFTCTL_COMMANDS_H_
#define GIFTCARD_TOOLS_GIFTCTL_COMMANDS_H_

#include <string>
#include <vector>

#include "session.h"

namespace giftcard::giftctl {

struct IssueFlags {
  int count = 0;
  std::string amount;
  std::string currency;
  std::string region;
  std::string out;
  // OpenPGP keys (fingerprints, ideally) the file is encrypted to.
  std::vector<std::string> recipients;
  bool plaintext = false;  // Write the PINs in clear instead: asked for explicitly.
  std::string expire_time;
  bool progress = false;
  std::string request_id;
};
int CodesIssue(const Session& session, const IssueFlags& flags);

// Activate and void: a batch or serials.
struct SelectFlags {
  std::string batch_id;
  std::vector<std::string> serials;
  std::string reason;  // Void, block and unblock.
  std::string request_id;
};
int CodesActivate(const Session& session, const SelectFlags& flags);
int CodesVoid(const Session& session, const SelectFlags& flags);
int CodesBlock(const Session& session, const SelectFlags& flags);
int CodesUnblock(const Session& session, const SelectFlags& flags);

// A clawback of the redemption of SERIAL's code, or of --redemption_id.
struct ClawbackFlags {
  std::vector<std::string> serials;  // At most one.
  std::string redemption_id;
  std::string then;  // "blocked" or "voided".
  std::string reason;
  std::string request_id;
};
int CodesClawback(const Session& session, const ClawbackFlags& flags);

struct StatusFlags {
  std::string serial;  // Or --pin_stdin.
  bool pin_stdin = false;
};
int CodesStatus(const Session& session, const StatusFlags& flags);

struct PageFlags {
  int page_size = 0;
  std::string page_token;
};

struct ListCodesFlags {
  std::string batch_id;
  std::string state;
  PageFlags page;
};
int CodesList(const Session& session, const ListCodesFlags& flags);
int BatchesList(const Session& session, const PageFlags& flags);

struct OneIdFlags {
  std::string id;
  PageFlags page;
};
int AccountShow(const Session& session, const OneIdFlags& flags);
int CodesHistory(const Session& session, const OneIdFlags& flags);
int AccountLedger(const Session& session, const OneIdFlags& flags);
int InvoiceShow(const Session& session, const OneIdFlags& flags);

struct StatementFlags {
  std::string account_id;
  std::string from;  // RFC 3339 or YYYY-MM-DD (UTC midnight); "" unbounded.
  std::string to;    // Exclusive, same forms.
  bool csv = false;
};
int AccountStatement(const Session& session, const StatementFlags& flags);

// Finance's reports: a table, --csv, or (global) --json.
struct ReportFlags {
  bool csv = false;
  int days = 365;  // report dormant.
};
int ReportLiability(const Session& session, const ReportFlags& flags);
int ReportBreakage(const Session& session, const ReportFlags& flags);
int ReportDormant(const Session& session, const ReportFlags& flags);

// events list (a bounded read) and events follow (until interrupted).
struct EventsFlags {
  bool follow = false;
  std::string service;
  int64_t after = 0;
  std::string stream_epoch;  // Of the events read up to --after; "" for none.
  std::vector<std::string> types;
  std::string serial;
  std::string account_id;
  int count = 0;  // Stop after this many; 0: no limit.
};
int Events(const Session& session, const EventsFlags& flags);

struct AuditFlags {
  int chunk_size = 0;
  std::string metrics_file;  // Where to write the outcome for Prometheus; "" for nowhere.
};
int Audit(const Session& session, const AuditFlags& flags);

struct HealthFlags {
  std::vector<std::string> addresses;
  std::string wait;
  std::string service;
};
int Health(const Session& session, const HealthFlags& flags);

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_COMMANDS_H_
