// giftctl against real services: every command, as a table and as --json,
// its exit codes, and the mode of the PIN file it writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class GiftctlTest : public ::testing::Test {
 protected:
  GiftctlTest() : dir_(MakeDir()) {}
  ~GiftctlTest() override { std::system(("rm -rf " + dir_).c_str()); }

  // giftctl with the suite's addresses and `token` in GIFTCTL_TOKEN.
  ShellRun Giftctl(const std::string& args, const std::string& token = kAdminToken) {
    return RunCommand(absl::StrCat(AddressesEnv(suite_), "GIFTCTL_TOKEN=", token,
                                   " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL, " ", args));
  }

  static std::string MakeDir() {
    char dir[] = "/tmp/giftctl-test-XXXXXX";
    return mkdtemp(dir);
  }

  Suite suite_;
  const std::string dir_;
};

std::string Describe(const ShellRun& run) {
  return absl::StrCat("exit ", run.exit_code, "\nstdout:\n", run.out, "\nstderr:\n", run.err);
}

// The value after `key` on its line of a key/value table.
std::string Field(const std::string& table, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (parts.size() >= 2 && parts[0] == key) {
      return std::string(line.substr(line.find(parts[1])));
    }
  }
  return "";
}

std::string JsonString(const std::string& json, const std::string& key) {
  const std::string marker = "\"" + key + "\":\"";
  size_t at = json.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  return json.substr(at, json.find('"', at) - at);
}

TEST_F(GiftctlTest, EveryCommandAnswersAsATableAndAsJson) {
  // codes issue: a 0600 CSV, never overwritten.
  const std::string csv = dir_ + "/codes.csv";
  ShellRun run = Giftctl(
      "codes issue --plaintext --count=4 --amount=25.00 --currency=EUR --region=DE --out=" + csv +
      " --json");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  const std::string batch = JsonString(run.out, "batch_id");
  ASSERT_FALSE(batch.empty()) << run.out;
  EXPECT_THAT(run.out, HasSubstr("\"issued\":4"));
  struct stat st;
  ASSERT_EQ(stat(csv.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream file(csv);
  std::string header;
  std::getline(file, header);
  EXPECT_EQ(header, "serial,pin");
  std::vector<std::pair<std::string, std::string>> cards;  // serial, PIN
  for (std::string line; std::getline(file, line);) {
    std::vector<std::string> parts = absl::StrSplit(line, ',');
    ASSERT_EQ(parts.size(), 2u) << line;
    EXPECT_THAT(parts[1], MatchesRegex("[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"));
    cards.emplace_back(parts[0], parts[1]);
  }
  ASSERT_EQ(cards.size(), 4u);

  run = Giftctl("codes issue --plaintext --count=1 --amount=5 --currency=EUR --region=DE --out=" +
                csv);
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("refusing to overwrite"));
  ASSERT_EQ(stat(csv.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(11 + 4 * (cards[0].first.size() + 21)));

  // A big batch: no progress frames when stderr is no terminal (a pipe, a
  // log), and the table form.
  run = Giftctl(
      "codes issue --plaintext --count=1000 --amount=1 --currency=EUR --region=DE --out=" + dir_ +
      "/big.csv");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.err, Not(HasSubstr("\r"))) << run.err;
  EXPECT_THAT(run.err, Not(HasSubstr("issuing [")));
  // On a terminal (script(1) gives it one), the bar is drawn.
  run = RunCommand(
      absl::StrCat("script -qec '", AddressesEnv(suite_), "GIFTCTL_TOKEN=", kAdminToken,
                   " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL,
                   " codes issue --plaintext --count=1000 --amount=1 --currency=EUR --region=DE "
                   "--out=",
                   dir_, "/big-tty.csv' /dev/null"));
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("100% 1000/1000"));
  EXPECT_THAT(Field(run.out, "issued"), HasSubstr("1000 codes of 1.00 EUR, DE"));
  EXPECT_THAT(Field(run.out, "file"), HasSubstr("mode 0600"));

  // codes activate, by batch.
  run = Giftctl("codes activate --batch_id=" + batch);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.out, "activated 4 codes\n");
  run = Giftctl("codes activate --json " + cards[0].first);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("\"activated_count\":\"0\""));  // Already active,
  EXPECT_THAT(run.out, HasSubstr("\"unchanged_count\":\"1\""));  // and said so.
  run = Giftctl("codes activate " + cards[0].first);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.out, "activated 0 codes; 1 was ACTIVE already\n");

  // A redemption and an invoice through the storefront and billing system.
  const std::string account = UniqueName("giftctl");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite_.Redeem(cards[0].second, account, "redeem-1").ok());
  v1::CreditApplication app;
  ASSERT_TRUE(suite_.ApplyCredit("INV-1", account, 1000, "EUR", &app).ok());

  // codes status, by serial and by PIN on stdin (which is never printed).
  run = Giftctl("codes status " + cards[0].first);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(Field(run.out, "state"), "REDEEMED");
  EXPECT_EQ(Field(run.out, "amount"), "25.00 EUR");
  EXPECT_EQ(Field(run.out, "redeemed_by_account_id"), account);
  EXPECT_THAT(Field(run.out, "redeem_time"), MatchesRegex("20[0-9-]+T[0-9:]+Z"));
  EXPECT_EQ(Field(run.out, "void_time"), "-");
  const std::string pin_file = dir_ + "/pin";
  std::ofstream(pin_file) << cards[0].second << "\n";
  run = Giftctl("codes status --pin_stdin --json < " + pin_file);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(JsonString(run.out, "state"), "CODE_STATE_REDEEMED");
  EXPECT_EQ(JsonString(run.out, "serial"), cards[0].first);
  EXPECT_THAT(run.out, Not(HasSubstr("\"void_time\"")));  // Unset times are absent.
  EXPECT_THAT(run.out + run.err, Not(HasSubstr(cards[0].second)));

  // codes void, then list.
  run = Giftctl("codes void --reason=lost " + cards[3].first);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.out, "voided 1 code\n");
  run = Giftctl("codes void --json --reason=lost --batch_id=" + batch);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  // Only the two unredeemed, unvoided codes change; the voided one is
  // counted as done, the redeemed one as skipped.
  EXPECT_THAT(run.out, HasSubstr("\"voided_count\":\"2\",\"unchanged_count\":\"1\","
                                 "\"skipped_count\":\"1\""));
  run = Giftctl("codes list --batch_id=" + batch);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out,
              MatchesRegex("SERIAL +STATE +AMOUNT +REGION +LAST4 +REDEEMED_BY\n(.*\n){4}"));
  EXPECT_THAT(run.out, HasSubstr(cards[0].first + "  REDEEMED"));
  EXPECT_THAT(run.out, HasSubstr(cards[3].first + "  VOIDED"));
  run = Giftctl("codes list --state=voided --batch_id=" + batch + " --json");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("\"serial\":\"" + cards[1].first + "\""));
  EXPECT_THAT(run.out, HasSubstr("\"serial\":\"" + cards[3].first + "\""));
  EXPECT_THAT(run.out, Not(HasSubstr("\"serial\":\"" + cards[0].first + "\"")));
  run = Giftctl("codes list --page_size=2 --batch_id=" + batch);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("more: giftctl codes list --page_token="));

  // account show and ledger.
  run = Giftctl("account show " + account);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(Field(run.out, "balance"), "15.00 EUR");
  EXPECT_EQ(Field(run.out, "billing_channel"), "DIRECT");
  run = Giftctl("account show --json " + account);
  EXPECT_THAT(run.out,
              HasSubstr("\"balance\":{\"currency_code\":\"EUR\",\"amount_minor\":\"1500\"}"));
  run = Giftctl("account ledger " + account);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, MatchesRegex("ENTRY +TIME +KIND +REFERENCE +AMOUNT +BALANCE +TRANSFER\n"
                                    ".* INVOICE +INV-1 +-10.00 EUR +15.00 EUR .*\n"
                                    ".* REDEMPTION +GC[0-9]+ +25.00 EUR +25.00 EUR .*\n"));
  run = Giftctl("account ledger --json --page_size=1 " + account);
  EXPECT_THAT(run.out, HasSubstr("\"amount_minor\":\"-1000\""));
  EXPECT_FALSE(JsonString(run.out, "next_page_token").empty()) << run.out;

  // invoice show.
  run = Giftctl("invoice show INV-1");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(Field(run.out, "applied"), "10.00 EUR");
  EXPECT_EQ(Field(run.out, "amount_to_charge"), "0.00 EUR");
  EXPECT_EQ(Field(run.out, "state"), "APPLIED");
  run = Giftctl("invoice show --json INV-1");
  EXPECT_EQ(JsonString(run.out, "state"), "CREDIT_APPLICATION_STATE_APPLIED");

  // audit.
  run = Giftctl("audit");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("checked 1 redemptions, 1 redeemed codes, 1 credit applications"));
  EXPECT_THAT(run.out, HasSubstr("audit: clean"));
  run = Giftctl("audit --json --chunk_size=1");  // Many chunks, same answer.
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("\"clean\":true,\"redemptions\":1,\"redeemed_codes\":1"));

  // health.
  run = Giftctl("health " + suite_.code_vault_addr + " " + suite_.billing_addr);
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  // Each address is named by the service that answers there.
  EXPECT_THAT(run.out, HasSubstr(suite_.code_vault_addr + ": SERVING (code-vault)\n"));
  EXPECT_THAT(run.out, HasSubstr(suite_.billing_addr + ": SERVING (billing)\n"));
  run = Giftctl("health --json --service=giftcard.liveness " + suite_.account_credit_addr);
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.out,
            "{\"" + suite_.account_credit_addr +
                "\":{\"status\":\"SERVING\",\"service\":\"giftcard.v1.AccountCredit\"}}\n");
  run = Giftctl("health 127.0.0.1:1");
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
}

// The issuance file travels to the card printer encrypted to its OpenPGP
// key: the issuing machine holds only the printer's public key, the file
// holds no PIN in clear, and the printer's secret key opens it to cards
// that every one redeem. Without --recipient or --plaintext nothing is
// issued; a key named by email that this keyring has not certified is
// refused before anything is issued.
TEST_F(GiftctlTest, TheIssuanceFileIsEncryptedToThePrintersKeyAndEveryPinRedeems) {
  const std::string printer = dir_ + "/printer-gnupg", issuer = dir_ + "/issuer-gnupg";
  auto gpg = [](const std::string& home, const std::string& args) {
    return RunCommand("GNUPGHOME=" + home + " gpg --batch --quiet " + args);
  };
  ASSERT_EQ(RunCommand("mkdir -m 0700 " + printer + " " + issuer).exit_code, 0);
  ShellRun run = gpg(printer,
                     "--passphrase '' --quick-gen-key 'Card Printer <printer@example.test>' "
                     "future-default default never");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  run = gpg(printer, "--with-colons --list-keys printer@example.test");
  std::string fingerprint;
  for (absl::string_view line : absl::StrSplit(run.out, '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, ':');
    if (f.size() > 9 && f[0] == "fpr") {
      fingerprint = f[9];
      break;
    }
  }
  ASSERT_EQ(fingerprint.size(), 40u) << run.out;
  ASSERT_EQ(RunCommand("GNUPGHOME=" + printer + " gpg --batch --export " + fingerprint +
                       " | GNUPGHOME=" + issuer + " gpg --batch --quiet --import")
                .exit_code,
            0);
  auto issue = [&](const std::string& flags, const std::string& file) {
    return RunCommand(
        absl::StrCat("GNUPGHOME=", issuer, " ", AddressesEnv(suite_), "GIFTCTL_TOKEN=", kAdminToken,
                     " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL,
                     " --json codes issue --count=5 --amount=25.00 --currency=EUR --region=DE ",
                     flags, " --out=", dir_, "/", file));
  };
  const std::string batches = "SELECT count(*) FROM batches";
  const std::string before = QueryValue(suite_.code_vault_dsn, batches);

  // Neither flag, a key by email that is not certified here, an unknown
  // key: a usage error each, nothing issued, no file.
  run = issue("", "none.csv");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("give --recipient=<the printer's OpenPGP key fingerprint>"));
  run = issue("--recipient=printer@example.test", "email.csv.gpg");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("is not certified in this keyring"));
  run = issue("--recipient=0000000000000000000000000000000000000000", "unknown.csv.gpg");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("no such public key"));
  EXPECT_EQ(QueryValue(suite_.code_vault_dsn, batches), before);
  EXPECT_EQ(RunCommand("ls " + dir_ + "/*.csv*").out, "");

  // By fingerprint: sealed.
  run = issue("--recipient=" + fingerprint, "batch.csv.gpg");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("\"encrypted_to\":[\"" + fingerprint + "\"]"));
  const std::string batch = JsonString(run.out, "batch_id");
  const std::string sealed = dir_ + "/batch.csv.gpg";
  struct stat st;
  ASSERT_EQ(stat(sealed.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(sealed, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(bytes, Not(HasSubstr("serial,pin")));
  EXPECT_THAT(bytes, Not(HasSubstr("GC0")));
  // The issuer cannot read it back; the printer can.
  EXPECT_NE(gpg(issuer, "--decrypt " + sealed).exit_code, 0);
  run = gpg(printer, "--decrypt " + sealed);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 6u) << run.out;
  EXPECT_EQ(lines[0], "serial,pin");
  ASSERT_EQ(Giftctl("codes activate --batch_id=" + batch).exit_code, 0);
  const std::string account = UniqueName("sealed");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> card = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(card.size(), 2u) << lines[i];
    EXPECT_THAT(bytes, Not(HasSubstr(card[1])));
    v1::Redemption redemption;
    grpc::Status s = suite_.Redeem(card[1], account, absl::StrCat("r", i), &redemption);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(redemption.serial(), card[0]);
  }
  v1::Account credited;
  ASSERT_TRUE(suite_.GetAccount(account, &credited).ok());
  EXPECT_EQ(credited.balance().amount_minor(), 5 * 2500);
  RunCommand("gpgconf --homedir " + printer + " --kill all");
  RunCommand("gpgconf --homedir " + issuer + " --kill all");
}

TEST_F(GiftctlTest, FailuresAreOneLineWithTheReasonAndTheirExitCode) {
  ShellRun run = Giftctl("account show nobody");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "giftctl: NOT_FOUND ACCOUNT_NOT_FOUND: no such account\n");
  run = Giftctl("codes void --reason=x GC1", kSupportToken);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("PERMISSION_DENIED METHOD_NOT_ALLOWED"));
  run = Giftctl("audit", kSupportToken);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("PERMISSION_DENIED"));
  run = Giftctl("invoice show INV-1", "");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("UNAUTHENTICATED CALLER_UNKNOWN"));
  run = Giftctl("codes status");
  EXPECT_EQ(run.exit_code, 2);
  // A PIN typed where the serial belongs never leaves giftctl.
  const std::string pin = UnknownPin();
  for (const std::string& command :
       {"codes status " + pin, "codes void --reason=x " + pin, "codes activate " + pin}) {
    run = Giftctl(command);
    EXPECT_EQ(run.exit_code, 2) << command;
    EXPECT_THAT(run.err, HasSubstr("that looks like a PIN, not a serial: use --pin_stdin"));
    EXPECT_THAT(run.err, Not(HasSubstr(pin)));
  }
  // Nor does giftctl's own usage error repeat one typed where no argument
  // belongs, as an unknown command, or as a flag's value.
  for (const std::string& command :
       {"codes list " + pin, "codes " + pin, pin, "codes issue --plaintext --count=" + pin,
        "account show acct " + pin}) {
    run = Giftctl(command);
    EXPECT_EQ(run.exit_code, 2) << command;
    EXPECT_THAT(run.err, Not(HasSubstr(pin))) << command;
    EXPECT_THAT(run.err, HasSubstr("looks like a PIN")) << command;
  }
  EXPECT_THAT(suite_.code_vault->SettledLog(), Not(HasSubstr(pin)));
  run = Giftctl("codes list --colour=red");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("unknown flag --colour"));
  run = Giftctl(
      "codes issue --plaintext --count=1 --amount=1.001 --currency=EUR --region=DE --out=" + dir_ +
      "/x.csv");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("more decimals than EUR"));
  // The server's INVALID_ARGUMENT is a usage mistake too: exit 2.
  run = Giftctl("codes issue --plaintext --count=0 --amount=1 --currency=EUR --region=DE --out=" +
                dir_ + "/y.csv");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("INVALID_ARGUMENT"));
  run = Giftctl("codes void --reason=x");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("give --batch_id or serials ("));
  EXPECT_NE(access((dir_ + "/y.csv").c_str(), F_OK), 0) << "an empty PIN file was left behind";
  run = Giftctl("frobnicate");
  EXPECT_EQ(run.exit_code, 2);
}

TEST_F(GiftctlTest, EveryCommandHasHelp) {
  ShellRun overview = Giftctl("--help");
  ASSERT_EQ(overview.exit_code, 0);
  // The overview lists the groups, the environment giftctl reads (TLS
  // included) and the exit codes; each group's help lists its commands.
  for (const char* word :
       {"codes", "batches", "account", "invoice", "audit", "health", "GIFTCTL_TOKEN_FILE",
        "CODE_VAULT_ADDR", "GIFTCARD_TLS_CA", "GIFTCARD_TLS_CERT", "Exit codes"}) {
    EXPECT_THAT(overview.out, HasSubstr(word));
  }
  ShellRun group = Giftctl("codes --help");
  EXPECT_EQ(group.exit_code, 0) << Describe(group);
  for (const char* command : {"issue", "activate", "void", "status", "list"}) {
    EXPECT_THAT(group.out, HasSubstr(absl::StrCat("\n  ", command, " "))) << command;
  }
  for (const char* command :
       {"codes issue", "codes activate", "codes void", "codes status", "codes list", "batches list",
        "account show", "account ledger", "invoice show", "audit", "health"}) {
    ShellRun run = Giftctl(absl::StrCat(command, " --help"));
    EXPECT_EQ(run.exit_code, 0) << command;
    EXPECT_THAT(run.out, HasSubstr(absl::StrCat("Usage: giftctl ", command))) << command;
    // Each command's help says where the global flags are.
    EXPECT_THAT(run.out, HasSubstr("Global flags, before or after the command")) << command;
  }
}

TEST_F(GiftctlTest, AuditExitsOneOnABrokenBook) {
  const std::string account = UniqueName("broken");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite_.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_TRUE(suite_.Redeem(codes[0].code(), account, "r").ok());
  ASSERT_EQ(Giftctl("audit").exit_code, 0);
  {
    // Tamper behind the services' back: a balance that its entries do not explain.
    pqxx::connection conn(suite_.account_credit_dsn);
    pqxx::work tx(conn);
    tx.exec_params("UPDATE accounts SET balance_minor = balance_minor + 1 WHERE account_id = $1",
                   account);
    tx.commit();
  }
  ShellRun run = Giftctl("audit");
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("balance_equals_entries: " + account));
  EXPECT_THAT(run.out, HasSubstr("audit: 1 violations"));
  run = Giftctl("audit --json");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.out, HasSubstr("\"clean\":false"));
  EXPECT_THAT(run.out, HasSubstr("\"invariant\":\"balance_equals_entries\""));
}

// Runs `command` under /bin/sh on a new pseudo-terminal; once `prompt` shows,
// types `input`. Returns everything the terminal showed (stdout and stderr,
// and any echo) and the exit code.
struct TerminalRun {
  int exit_code = -1;
  std::string screen;
  bool prompted = false;
};
TerminalRun RunOnTerminal(const std::string& command, const std::string& prompt,
                          const std::string& input) {
  TerminalRun out;
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) return out;
  char buffer[4096];
  while (true) {
    pollfd fd{master, POLLIN, 0};
    // A bound, not a timing assertion: a hung child fails the test.
    if (poll(&fd, 1, 60000) <= 0) break;
    const ssize_t n = read(master, buffer, sizeof(buffer));
    if (n <= 0) break;  // EIO once the child has exited.
    out.screen.append(buffer, static_cast<size_t>(n));
    if (!out.prompted && out.screen.find(prompt) != std::string::npos) {
      out.prompted = true;
      // The prompt is printed once echo is off, so what is typed now is not echoed.
      (void)write(master, input.data(), input.size());
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// A serial read off a card or pasted from a mail: lower case, spaces,
// hyphens. Every command that takes one forgives it as the PIN is forgiven.
TEST_F(GiftctlTest, SerialsAreForgivenTheirSpellingAsPinsAre) {
  auto codes = suite_.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  const std::string serial = codes[0].serial();  // GC + 12 or more digits.
  std::string spelled = absl::StrCat("gc-", serial.substr(2, 6), " ", serial.substr(8));
  for (const std::string& typed :
       {spelled, absl::StrCat(" ", serial), absl::StrCat("GC-", serial.substr(2))}) {
    ShellRun run = Giftctl("--json codes status '" + typed + "'");
    EXPECT_EQ(run.exit_code, 0) << typed << "\n" << Describe(run);
    EXPECT_EQ(JsonString(run.out, "serial"), serial) << typed;
    run = Giftctl("codes history '" + typed + "'");
    EXPECT_EQ(run.exit_code, 0) << typed << "\n" << Describe(run);
    EXPECT_THAT(run.out, HasSubstr("ISSUED → ACTIVE")) << typed;
  }
  ShellRun run = Giftctl("codes block --reason='card reported stolen' '" + spelled + "'");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  run = Giftctl("--json codes status " + serial);
  EXPECT_THAT(run.out, HasSubstr("CODE_STATE_BLOCKED")) << run.out;
  run = Giftctl("events list --service=code-vault --serial='" + spelled + "'");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("code.blocked")) << run.out;
  // What is no serial in any spelling is still refused, and not echoed.
  run = Giftctl("codes status gc-0000-01");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("serial: must be GC followed by 12 to 19 digits"));
  EXPECT_THAT(run.err, Not(HasSubstr("0000-01")));
}

// What help and errors say agrees with what the commands do.
TEST_F(GiftctlTest, HelpTextAgreesWithBehaviour) {
  ShellRun run = Giftctl("codes list --state=BOGUS");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("VOIDED, EXPIRED, BLOCKED"));
  run = Giftctl("codes list --help");
  EXPECT_THAT(run.out, HasSubstr("EXPIRED or BLOCKED")) << run.out;
  run = Giftctl("--help");
  EXPECT_THAT(run.out, HasSubstr("finance's reports (admin and support)")) << run.out;
  run = Giftctl("codes --help");
  for (const char* verb : {"block", "unblock", "claw back", "history"}) {
    EXPECT_THAT(run.out, HasSubstr(verb)) << run.out;
  }
  run = Giftctl("codes status --help");
  EXPECT_THAT(run.out, HasSubstr("[serial]")) << run.out;
  EXPECT_THAT(run.out, Not(HasSubstr("serial..."))) << run.out;
  run = Giftctl("codes status GC000001000001 GC000001000002");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  // Unblocking a card that is not blocked: nothing to do, said plainly.
  auto codes = suite_.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  run = Giftctl("codes unblock --reason=checked " + codes[0].serial());
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(run.out, "unblocked 0 codes; 1 was not blocked\n");
}

// Each failure says what to do next, in the words the user typed.
TEST_F(GiftctlTest, ErrorsSayWhatToDoInTheFlagsWords) {
  // No token at all: which of the three ways to give one.
  ShellRun run = RunCommand(absl::StrCat(AddressesEnv(suite_),
                                         "GIFTCTL_TOKEN= GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL,
                                         " batches list"));
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("--token_file=FILE, GIFTCTL_TOKEN_FILE=FILE or GIFTCTL_TOKEN"));
  // A token file that cannot be read: why, in the OS's words.
  run = Giftctl("--token_file=/nonexistent/token batches list");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("/nonexistent/token: No such file or directory"));
  run = Giftctl("--token_file=" + dir_ + " batches list");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr(dir_ + ": Is a directory"));
  // Nothing listening: the stack may have moved.
  run = RunCommand(absl::StrCat("CODE_VAULT_ADDR=127.0.0.1:1 GIFTCTL_TOKEN=", kAdminToken,
                                " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL,
                                " --timeout=5s batches list"));
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("the stack may be down, or have moved to new ports"));
  EXPECT_THAT(run.err, HasSubstr("source its env file again"));
  // The flags' names, not the fields'.
  run = Giftctl("account statement nobody --from=2026-12-02 --to=2026-12-01");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("--to must be after --from"));
  EXPECT_THAT(run.err, Not(HasSubstr("end_time")));
  // Codes of currencies and countries in either case, alike.
  run = Giftctl(
      "--json codes issue --plaintext --count=1 --amount=1 --currency=eur --region=de"
      " --out=" +
      dir_ + "/lower.csv");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  run = Giftctl("batches list --page_size=1");
  EXPECT_THAT(run.out, HasSubstr("1.00 EUR  DE")) << run.out;
  run = Giftctl("codes issue --plaintext --count=1 --amount=1 --currency=euro --region=DE --out=" +
                dir_ + "/x.csv");
  EXPECT_THAT(run.err, HasSubstr("--currency must be an ISO 4217 code such as EUR"));
  run = Giftctl(
      "codes issue --plaintext --count=1 --amount=1 --currency=EUR --region=germany"
      " --out=" +
      dir_ + "/y.csv");
  EXPECT_THAT(run.err, HasSubstr("--region must be an ISO 3166 country code such as DE"));
  // A follower says, once, on stderr, that it waits and from where (an
  // activation gives it an event to end on).
  ASSERT_EQ(suite_.IssueActiveCodes(1, 500, "EUR", "DE").size(), 1u);
  run = Giftctl("events follow --service=code-vault --after=0 --count=1 --timeout=20s");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.err,
              HasSubstr("following code-vault's events after id 0 (from the oldest kept)"));
  EXPECT_THAT(run.out, Not(HasSubstr("following")));
}

// What a newcomer hit, README in hand, each now answered.
TEST_F(GiftctlTest, ANewcomersMistakesGetAnswersThatSayWhatToDo) {
  // Groups: alone, their help; an unknown command lists the group's own.
  ShellRun run = Giftctl("codes");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("Usage: giftctl codes"));
  EXPECT_THAT(run.err, HasSubstr("activate"));
  run = Giftctl("codes frobnicate");
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err,
              HasSubstr("giftctl codes: unknown command 'frobnicate'; giftctl codes has: "
                        "issue, activate, void, block, unblock, clawback, status, history, list"));
  // Global flags before or after the command.
  const std::string account = UniqueName("newcomer");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  for (const std::string& command :
       {"--json account show " + account, "account --json show " + account,
        "account show " + account + " --json"}) {
    run = Giftctl(command);
    EXPECT_EQ(run.exit_code, 0) << command << "\n" << Describe(run);
    EXPECT_EQ(JsonString(run.out, "account_id"), account) << command;
  }

  // Errors under --json are JSON too, on stderr.
  run = Giftctl("--json account show nobody");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("{\"error\":{\"code\":\"NOT_FOUND\",\"reason\":"
                                 "\"ACCOUNT_NOT_FOUND\",\"message\":\"no such account\""));
  run = Giftctl("--json codes void");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("{\"error\":{\"code\":\"USAGE\""));

  // --out names a directory.
  run = Giftctl("codes issue --plaintext --count=1 --amount=1 --currency=EUR --region=DE --out=" +
                dir_);
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("is a directory: give the path of a new file, e.g. " + dir_ +
                                 "/batch.csv"));

  // Batches are listed; codes by state without a batch; a page's hint runs alone.
  auto codes = suite_.IssueActiveCodes(3, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 3u);
  const std::string batch = codes[0].batch_id();
  ASSERT_TRUE(suite_.Redeem(codes[0].code(), account, "r1").ok());
  run = Giftctl("codes list --state=REDEEMED --page_size=1000");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr(codes[0].serial() + "  REDEEMED"));
  EXPECT_THAT(run.out, Not(HasSubstr(codes[1].serial())));
  run = Giftctl("codes list --page_size=1 --batch_id=" + batch);
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  const size_t more = run.out.find("more: giftctl ");
  ASSERT_NE(more, std::string::npos) << run.out;
  const std::string next = run.out.substr(more + 14, run.out.find('\n', more) - more - 14);
  run = Giftctl(next);
  ASSERT_EQ(run.exit_code, 0) << next << "\n" << Describe(run);
  EXPECT_THAT(run.out, HasSubstr(codes[1].serial() + "  ACTIVE"));

  // No-ops are not successes: a voided code is not activated, and says why.
  run = Giftctl("codes void --reason=\"lost in transit\" " + codes[2].serial());
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  run = Giftctl("codes activate " + codes[1].serial() + " " + codes[2].serial());
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("FAILED_PRECONDITION CODE_VOIDED: " + codes[2].serial() +
                                 " is VOIDED: a voided code cannot be activated"));
  // An unknown serial among several is named.
  run = Giftctl("codes activate " + codes[1].serial() + " GC999999000001");
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("no such code: GC999999000001"));
  // A batch where nothing can be activated exits 1.
  run = Giftctl(
      "--json codes issue --plaintext --count=2 --amount=1 --currency=EUR --region=DE --out=" +
      dir_ + "/voided.csv");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  const std::string voided_batch = JsonString(run.out, "batch_id");
  ASSERT_EQ(Giftctl("codes void --reason=test --batch_id=" + voided_batch).exit_code, 0);
  // Batches, newest first, a page at a time.
  run = Giftctl("batches list --page_size=1");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr(voided_batch + "  2      1.00 EUR  DE"));
  EXPECT_THAT(run.out, Not(HasSubstr(batch)));
  const size_t more_batches = run.out.find("more: giftctl ");
  ASSERT_NE(more_batches, std::string::npos) << run.out;
  run = Giftctl(
      run.out.substr(more_batches + 14, run.out.find('\n', more_batches) - more_batches - 14));
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr(batch + "  3      5.00 EUR  DE"));
  run = Giftctl("codes activate --batch_id=" + voided_batch);
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("activated 0 codes; 2 cannot be activated"));
  EXPECT_THAT(run.err, HasSubstr("no code was activated and none is ACTIVE"));
  // The void reason is shown.
  run = Giftctl("codes status " + codes[2].serial());
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(Field(run.out, "void_reason"), "lost in transit");

  // Who may call what.
  run = Giftctl("audit", kSupportToken);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("support may not call /giftcard.v1.CodeVault/ExportAuditFacts; "
                                 "it is for: admin"));
}

TEST_F(GiftctlTest, APinIsPromptedForWithoutEchoOnATerminal) {
  auto codes = suite_.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  const std::string pin = codes[0].code();
  TerminalRun run = RunOnTerminal(
      absl::StrCat(AddressesEnv(suite_), "GIFTCTL_TOKEN=", kAdminToken,
                   " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL, " codes status --pin_stdin"),
      "PIN: ", pin + "\n");
  EXPECT_TRUE(run.prompted) << run.screen;
  EXPECT_EQ(run.exit_code, 0) << run.screen;
  EXPECT_THAT(run.screen, HasSubstr(codes[0].serial()));
  EXPECT_THAT(run.screen, Not(HasSubstr(pin))) << "the PIN was echoed";
  // Nothing typed: a usage error, not a lookup of "".
  ShellRun empty = Giftctl("codes status --pin_stdin < /dev/null");
  EXPECT_EQ(empty.exit_code, 2) << Describe(empty);
  EXPECT_THAT(empty.err, HasSubstr("no PIN read"));
}

TEST(GiftctlTlsTest, ATlsStackReachedWithoutOrWithWrongTlsSettingsSaysWhichVariableToSet) {
  const std::string certs = MakeCerts("giftcard-test-ca");
  const std::string foreign = MakeCerts("some-other-ca");
  Suite suite({.tls_dir = certs});
  const std::string giftctl = absl::StrCat(AddressesEnv(suite), "GIFTCTL_TOKEN=", kAdminToken,
                                           " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL);
  const std::string tls = absl::StrCat("GIFTCARD_TLS_CERT=", certs,
                                       "/admin.crt GIFTCARD_TLS_KEY=", certs, "/admin.key ");
  // With the right material: works.
  ShellRun run = RunCommand(
      absl::StrCat(tls, "GIFTCARD_TLS_CA=", certs, "/ca.crt ", giftctl, " account show nobody"));
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("NOT_FOUND ACCOUNT_NOT_FOUND"));
  // No TLS settings: not just "Socket closed".
  run = RunCommand(giftctl + " account show nobody");
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("hint: the service closed a plaintext connection: it probably "
                                 "serves TLS. Set GIFTCARD_TLS_CA"));
  // A CA file that is no certificate, or cannot be read: named before any call.
  run = RunCommand(
      absl::StrCat(tls, "GIFTCARD_TLS_CA=", certs, "/admin.key ", giftctl, " account show nobody"));
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err,
              HasSubstr("GIFTCARD_TLS_CA=" + certs + "/admin.key: holds no PEM CERTIFICATE"));
  run = RunCommand(
      absl::StrCat(tls, "GIFTCARD_TLS_CA=/nonexistent/ca.crt ", giftctl, " account show nobody"));
  EXPECT_EQ(run.exit_code, 2) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("GIFTCARD_TLS_CA=/nonexistent/ca.crt: cannot read it"));
  // Another CA: the handshake fails, said in giftctl's words, not gRPC's log line.
  run = RunCommand(
      absl::StrCat(tls, "GIFTCARD_TLS_CA=", foreign, "/ca.crt ", giftctl, " account show nobody"));
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("hint: the service's certificate is not signed by the CA in "
                                 "GIFTCARD_TLS_CA=" +
                                 foreign + "/ca.crt"));
  EXPECT_THAT(run.err, Not(HasSubstr("ssl_transport_security.cc"))) << run.err;
  // Mutual TLS without a client certificate.
  run = RunCommand(
      absl::StrCat("GIFTCARD_TLS_CA=", certs, "/ca.crt ", giftctl, " account show nobody"));
  EXPECT_EQ(run.exit_code, 1) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("set GIFTCARD_TLS_CERT and GIFTCARD_TLS_KEY"));
}

// Each service's --help lists its own flags, grouped, each with the
// environment variable that sets it — not absl's "No flags matched".
TEST(ServiceHelpTest, EachServiceListsItsFlagsWithTheirEnvironmentNames) {
  struct Binary {
    std::string path;
    const char* own_flag;
  };
  for (const Binary& b : {Binary{BinaryOf("code-vault"), "code-vault:\n  --account_credit_address"},
                          Binary{BinaryOf("account-credit"), "--pg_dsn (GIFTCARD_PG_DSN)"},
                          Binary{BinaryOf("billing"), "billing:\n  --account_credit_address"}}) {
    ShellRun run = RunCommand(absl::StrCat(b.path, " --help"));
    EXPECT_EQ(run.exit_code, 0) << b.path << "\n" << Describe(run);
    EXPECT_THAT(run.out, HasSubstr(b.own_flag)) << b.path;
    EXPECT_THAT(run.out, HasSubstr("every service:\n")) << b.path;
    EXPECT_THAT(run.out, HasSubstr("--tokens_file (GIFTCARD_TOKENS_FILE)")) << b.path;
    EXPECT_THAT(run.out, HasSubstr("--pg_dsn (GIFTCARD_PG_DSN)")) << b.path;
    EXPECT_THAT(run.out + run.err, Not(HasSubstr("No flags matched"))) << b.path;
    EXPECT_THAT(run.out, Not(HasSubstr("--flagfile"))) << "absl's internals";
    EXPECT_THAT(run.out, Not(HasSubstr(".cc"))) << "source paths";
    ShellRun full = RunCommand(absl::StrCat(b.path, " --helpfull"));
    EXPECT_EQ(full.out, run.out) << b.path;
  }
}

}  // namespace
}  // namespace giftcard::testing
