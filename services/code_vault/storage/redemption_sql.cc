#include "services/code_vault/storage/redemption_sql.h"

#include "absl/strings/str_cat.h"

namespace giftcard::code_vault {

using pg::Micros;

// The columns CodeFromRow reads, of the table aliased `t` ("" for none).
std::string CodeColumns(const std::string& t) {
  const std::string p = t.empty() ? "" : t + ".";
  return absl::StrCat(
      p, "serial, ", p, "state, ", p, "currency_code, ", p, "amount_minor, ", p, "region, ", p,
      "batch_id::text, ", p, "pin_last4, ", Micros(p + "create_time"), ", ",
      Micros(p + "activate_time"), ", ", Micros(p + "redeem_time"), ", ", Micros(p + "void_time"),
      ", ", Micros(p + "expire_time"), ", coalesce(", p, "redeemed_by_account_id, ''), coalesce(",
      p, "redemption_id::text, ''), ", "coalesce(", p, "void_reason, ''), coalesce(", p,
      "block_reason, ''), ", Micros(p + "block_time"));
}

// The columns RedemptionFromRow reads, of the table aliased `t` ("" for none).
std::string RedemptionColumns(const std::string& t) {
  const std::string p = t.empty() ? "" : t + ".";
  return absl::StrCat(p, "account_id, ", p, "request_id, ", p, "redemption_id::text, encode(", p,
                      "code_hash, 'hex'), ", p, "serial, ", p, "currency_code, ", p,
                      "amount_minor, ", p, "region, ", p, "state, coalesce(", p,
                      "transfer_id, ''), ", p, "balance_after_minor, ", p, "reject_code, coalesce(",
                      p, "reject_reason, ''), coalesce(", p, "reject_message, ''), ",
                      Micros(p + "create_time"));
}

std::string ChangeColumns() {
  return absl::StrCat(
      "e.event_id, coalesce(e.from_state, ''), e.to_state, ", Micros("e.event_time"),
      ", coalesce(e.principal, rd.principal, ''), coalesce(e.reason, ''),"
      " coalesce(e.request_id, rd.request_id, ''), coalesce(e.redemption_id::text, '')");
}

std::string ChangeRedemptionJoin() {
  return " LEFT JOIN redemptions rd ON rd.redemption_id = e.redemption_id";
}

const pg::Statement kFindRedemption{
    "cv_find_redemption", "SELECT " + RedemptionColumns() +
                              " FROM redemptions WHERE account_id = $1 AND request_id = $2"};
// The code and the caller's earlier redemption, in one round trip
// (either side's columns are null when it is absent).
const pg::Statement kLookup{
    "cv_lookup", "SELECT " + CodeColumns("c") + ", " + RedemptionColumns("r") +
                     " FROM (SELECT 1) one"
                     " LEFT JOIN codes c ON c.code_hash = ANY($1::bytea[])"
                     " LEFT JOIN redemptions r ON r.account_id = $2 AND r.request_id = $3"};
// The heart of exactly-once: only a code still ACTIVE (and not expired)
// moves to REDEEMING, and the PENDING redemption is written with it —
// unless the caller's (account_id, request_id) already has a redemption:
// then nothing changes, and that earlier redemption is returned (a replay).
// When it reserves nothing, the same statement returns the code as its
// snapshot saw it, and that is the answer: its new-redemption columns are
// null then. (Seen ACTIVE yet not reserved: a concurrent call took it while
// this one waited on the row.) One row: the new redemption, the code seen,
// the earlier redemption, each null when absent.
const pg::Statement kReserve{
    "cv_reserve",
    "WITH reserved AS ("
    " UPDATE codes SET state = 'REDEEMING', redemption_id = gen_random_uuid()"
    " WHERE code_hash = ANY($1::bytea[]) AND state = 'ACTIVE'"
    "   AND (expire_time IS NULL OR expire_time > now())"
    "   AND NOT EXISTS (SELECT 1 FROM redemptions WHERE account_id = $2 AND request_id = $3)"
    " RETURNING code_hash, serial, currency_code, amount_minor, region, redemption_id), "
    "ins AS ("
    " INSERT INTO redemptions (account_id, request_id, redemption_id, code_hash, serial,"
    "  currency_code, amount_minor, region, state, principal)"
    " SELECT $2, $3, redemption_id, code_hash, serial, currency_code, amount_minor, region,"
    "  'PENDING', nullif($4, '') FROM reserved RETURNING *) "
    "SELECT " +
        RedemptionColumns("ins") + ", " + CodeColumns("seen") + ", " + RedemptionColumns("prior") +
        " FROM (SELECT 1) one"
        " LEFT JOIN codes seen ON seen.code_hash = ANY($1::bytea[])"
        " LEFT JOIN ins ON true"
        " LEFT JOIN redemptions prior ON prior.account_id = $2 AND prior.request_id = $3"};
// cv_lookup for a batch: $1/$2 each item's account and request id, $3/$4
// each item's index (1-based) and one of its hashes. One row per item, in
// order: its index, the code, the caller's earlier redemption.
const pg::Statement kLookupMany{
    "cv_lookup_many",
    "WITH q AS (SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY"
    "   AS q(account_id, request_id, i)), "
    "h AS (SELECT * FROM unnest($3::bigint[], $4::bytea[]) AS h(i, code_hash)) "
    "SELECT q.i, " +
        CodeColumns("c") + ", " + RedemptionColumns("r") +
        " FROM q"
        " LEFT JOIN LATERAL (SELECT codes.* FROM h JOIN codes ON codes.code_hash = h.code_hash"
        "   WHERE h.i = q.i LIMIT 1) c ON true"
        " LEFT JOIN redemptions r ON r.account_id = q.account_id AND r.request_id = q.request_id"
        " ORDER BY q.i"};
// cv_reserve for a batch, with the parameters of cv_lookup_many and $5 each
// item's principal ("" for none). Two items
// for one code: the UPDATE takes the code once, for one of them; the other
// sees it ACTIVE yet not reserved, as a concurrent loser does. An item whose
// request id has a redemption already reserves nothing and gets that one. A
// request id taken by a concurrent call fails the statement (unique
// violation): the batch is then reserved item by item. One row per item, in
// order, joined by the item's ordinal (never by its request id): its index,
// the new redemption, the code as the statement's snapshot saw it, the
// earlier redemption (each null when none). The caller never puts one
// (account, request id) in a batch twice.
const pg::Statement kReserveMany{
    "cv_reserve_many",
    "WITH q AS (SELECT * FROM unnest($1::text[], $2::text[], $5::text[]) WITH ORDINALITY"
    "   AS q(account_id, request_id, principal, i)), "
    "h AS (SELECT * FROM unnest($3::bigint[], $4::bytea[]) AS h(i, code_hash)), "
    "reserved AS ("
    " UPDATE codes c SET state = 'REDEEMING', redemption_id = gen_random_uuid() FROM h"
    " WHERE c.code_hash = h.code_hash AND c.state = 'ACTIVE'"
    "   AND (c.expire_time IS NULL OR c.expire_time > now())"
    "   AND NOT EXISTS (SELECT 1 FROM q JOIN redemptions p ON p.account_id = q.account_id"
    "     AND p.request_id = q.request_id WHERE q.i = h.i)"
    " RETURNING h.i, c.code_hash, c.serial, c.currency_code, c.amount_minor, c.region,"
    "   c.redemption_id), "
    "ins AS ("
    " INSERT INTO redemptions (account_id, request_id, redemption_id, code_hash, serial,"
    "  currency_code, amount_minor, region, state, principal)"
    " SELECT q.account_id, q.request_id, r.redemption_id, r.code_hash, r.serial,"
    "  r.currency_code, r.amount_minor, r.region, 'PENDING', nullif(q.principal, '')"
    "  FROM reserved r JOIN q ON q.i = r.i"
    " RETURNING *) "
    "SELECT q.i, " +
        RedemptionColumns("ins") + ", " + CodeColumns("seen") + ", " + RedemptionColumns("prior") +
        " FROM q"
        " LEFT JOIN reserved r ON r.i = q.i"
        " LEFT JOIN ins ON ins.redemption_id = r.redemption_id"
        " LEFT JOIN LATERAL (SELECT codes.* FROM h JOIN codes ON codes.code_hash = h.code_hash"
        "   WHERE h.i = q.i LIMIT 1) seen ON true"
        " LEFT JOIN redemptions prior ON prior.account_id = q.account_id"
        "   AND prior.request_id = q.request_id"
        " ORDER BY q.i"};
// Completion and rejection are one statement each (both tables, or
// neither), so they run without BEGIN/COMMIT; they return the
// redemption as it now is, or nothing when it was no longer PENDING.
// Completion settles many redemptions at once (a batch of concurrent
// calls): each input row its own redemption, with its code.
const pg::Statement kCompleteMany{
    "cv_complete_many",
    "WITH input AS ("
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])"
    "   AS i(account_id, request_id, transfer_id, balance_after_minor)), "
    "done AS ("
    " UPDATE redemptions r SET state = 'COMPLETED', transfer_id = i.transfer_id,"
    "   balance_after_minor = i.balance_after_minor, update_time = now()"
    " FROM input i WHERE r.account_id = i.account_id AND r.request_id = i.request_id"
    "   AND r.state = 'PENDING' RETURNING r.*), "
    "code AS ("
    " UPDATE codes c SET state = 'REDEEMED', redeem_time = now(),"
    "   redeemed_by_account_id = done.account_id "
    " FROM done WHERE c.code_hash = done.code_hash AND c.redemption_id = done.redemption_id "
    "   AND c.state = 'REDEEMING' RETURNING 1) "
    "SELECT " +
        RedemptionColumns() + " FROM done"};
const pg::Statement kReject{
    "cv_reject",
    "WITH rejected AS ("
    " UPDATE redemptions SET state = 'REJECTED', reject_code = $3, reject_reason = $4,"
    "   reject_message = $5, update_time = now()"
    " WHERE account_id = $1 AND request_id = $2 AND state = 'PENDING' RETURNING *), "
    "code AS ("
    " UPDATE codes c SET state = 'ACTIVE', redemption_id = NULL "
    " FROM rejected WHERE c.code_hash = rejected.code_hash "
    "   AND c.redemption_id = rejected.redemption_id AND c.state = 'REDEEMING' RETURNING 1) "
    "SELECT " +
        RedemptionColumns() + " FROM rejected"};

// A code's last change, for the code aliased `c`.
const std::string kLastChangeJoin =
    " LEFT JOIN LATERAL (SELECT * FROM code_events WHERE code_events.code_hash = c.code_hash"
    " ORDER BY event_id DESC LIMIT 1) e ON true" +
    ChangeRedemptionJoin();
// Each serial's code after its 1-based index (an unknown serial has no row).
const pg::Statement kStatusBySerials{"cv_status_by_serials",
                                     "SELECT q.i, " + CodeColumns("c") + ", " + ChangeColumns() +
                                         " FROM unnest($1::text[]) WITH ORDINALITY AS q(serial, i)"
                                         " JOIN codes c ON c.serial = q.serial" +
                                         kLastChangeJoin};
// The code with one of the hashes (a PIN's, under each pepper).
const pg::Statement kStatusByHashes{
    "cv_status_by_hashes", "SELECT " + CodeColumns("c") + ", " + ChangeColumns() + " FROM codes c" +
                               kLastChangeJoin + " WHERE c.code_hash = ANY($1::bytea[]) LIMIT 1"};

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
