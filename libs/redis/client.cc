#include "redis/client.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "errors/status.h"

namespace giftcard::redis {

Reply ConvertReply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(ConvertReply(r->element[i]));
      }
      break;
    default:
      out.type = Reply::Type::kNil;
  }
  return out;
}

std::string ScriptSha1(const std::string& s) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

namespace {

absl::StatusOr<Address> ParseHostPort(absl::string_view text) {
  std::pair<std::string, std::string> hp = absl::StrSplit(text, absl::MaxSplits(':', 1));
  Address address;
  if (hp.first.empty() || !absl::SimpleAtoi(hp.second, &address.port) || address.port <= 0 ||
      address.port > 65535) {
    return absl::InvalidArgumentError("redis address must be host:port");
  }
  address.host = hp.first;
  return address;
}

}  // namespace

absl::StatusOr<Options> ParseAddress(const std::string& address) {
  if (absl::StartsWith(address, "unix:")) {
    Options options;
    options.host = address.substr(5);
    options.port = 0;
    if (!Address{options.host, 0}.is_unix_socket()) {
      return absl::InvalidArgumentError("redis unix socket must be unix:/absolute/path");
    }
    return options;
  }
  absl::StatusOr<Address> parsed = ParseHostPort(address);
  if (!parsed.ok()) return parsed.status();
  Options options;
  options.host = parsed->host;
  options.port = parsed->port;
  return options;
}

absl::StatusOr<Options> ParseSentinels(const std::string& sentinels,
                                       const std::string& master_name) {
  Options options;
  for (absl::string_view part : absl::StrSplit(sentinels, ',', absl::SkipWhitespace())) {
    absl::StatusOr<Address> parsed = ParseHostPort(absl::StripAsciiWhitespace(part));
    if (!parsed.ok()) {
      return absl::InvalidArgumentError("redis sentinels must be host:port,host:port,...");
    }
    options.sentinels.push_back(*parsed);
  }
  if (options.sentinels.empty()) return absl::InvalidArgumentError("no redis sentinel given");
  if (master_name.empty()) {
    return absl::InvalidArgumentError("redis sentinels need the master's name");
  }
  options.master_name = master_name;
  return options;
}

Client::Client(Options options) : options_(std::move(options)) {
  for (int i = 0; i < options_.connections; ++i) {
    conns_.push_back(std::make_unique<Conn>());
    free_.push_back(conns_.back().get());
  }
}

Client::~Client() {
  for (auto& c : conns_) {
    if (c->ctx != nullptr) redisFree(c->ctx);
  }
}

namespace {

redisContext* Connect(const Address& address, absl::Duration connect_timeout,
                      absl::Duration command_timeout) {
  timeval tv = absl::ToTimeval(connect_timeout);
  redisContext* ctx = address.is_unix_socket()
                          ? redisConnectUnixWithTimeout(address.host.c_str(), tv)
                          : redisConnectWithTimeout(address.host.c_str(), address.port, tv);
  if (ctx == nullptr || ctx->err != 0) {
    if (ctx != nullptr) redisFree(ctx);
    return nullptr;
  }
  timeval cmd_tv = absl::ToTimeval(command_timeout);
  redisSetTimeout(ctx, cmd_tv);
  return ctx;
}

// One command on a bare context; nullopt on an I/O error or an error reply.
std::optional<Reply> RunOn(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (reply == nullptr) return std::nullopt;
  std::optional<Reply> out;
  if (reply->type != REDIS_REPLY_ERROR) out = ConvertReply(reply);
  freeReplyObject(reply);
  return out;
}

}  // namespace

std::optional<Address> Client::CurrentServer() {
  if (options_.sentinels.empty()) return Address{options_.host, options_.port};
  absl::MutexLock lock(&master_mu_);
  return master_;
}

absl::StatusOr<Address> Client::AskSentinels() {
  sentinel_lookups_.fetch_add(1);
  return AskSentinelsForMaster(options_);
}

absl::StatusOr<Address> AskSentinelsForMaster(const Options& options) {
  for (const Address& sentinel : options.sentinels) {
    redisContext* ctx = Connect(sentinel, options.connect_timeout, options.command_timeout);
    if (ctx == nullptr) continue;
    std::optional<Reply> reply =
        RunOn(ctx, {"SENTINEL", "get-master-addr-by-name", options.master_name});
    redisFree(ctx);
    Address master;
    if (reply && reply->type == Reply::Type::kArray && reply->elements.size() == 2 &&
        absl::SimpleAtoi(reply->elements[1].str, &master.port)) {
      master.host = reply->elements[0].str;
      return master;
    }
  }
  return errors::DependencyUnavailable("redis", "no sentinel names a master");
}

absl::StatusOr<Address> Client::Target() {
  if (options_.sentinels.empty()) return Address{options_.host, options_.port};
  {
    absl::MutexLock lock(&master_mu_);
    if (master_) return *master_;
  }
  absl::StatusOr<Address> master = AskSentinels();
  if (!master.ok()) return master.status();
  absl::MutexLock lock(&master_mu_);
  master_ = *master;
  return *master;
}

void Client::Drop(Conn& conn) {
  if (conn.ctx != nullptr) {
    redisFree(conn.ctx);
    conn.ctx = nullptr;
  }
  if (!options_.sentinels.empty()) {
    // The master may have moved: the next connect asks the sentinels.
    absl::MutexLock lock(&master_mu_);
    master_.reset();
  }
}

absl::Status Client::EnsureConnected(Conn& conn) {
  if (conn.ctx != nullptr) return absl::OkStatus();
  const absl::Time now = absl::Now();
  if (now < conn.next_connect_attempt) {
    return errors::DependencyUnavailable("redis", "reconnect backing off");
  }
  conn.next_connect_attempt = now + options_.reconnect_backoff;
  absl::StatusOr<Address> target = Target();
  if (!target.ok()) return target.status();
  conn.ctx = Connect(*target, options_.connect_timeout, options_.command_timeout);
  if (conn.ctx == nullptr) {
    Drop(conn);
    return errors::DependencyUnavailable("redis", "cannot connect");
  }
  if (!options_.sentinels.empty()) {
    // A sentinel may name a master that has just been demoted (its view
    // lags a failover): only a server that says it is a master will do.
    std::optional<Reply> role = RunOn(conn.ctx, {"ROLE"});
    if (!role || role->type != Reply::Type::kArray || role->elements.empty() ||
        role->elements[0].str != "master") {
      Drop(conn);
      return errors::DependencyUnavailable("redis", "the named master is not a master");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Client::Conn*> Client::Acquire() {
  absl::MutexLock lock(&mu_);
  auto has_free = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
  if (!mu_.AwaitWithTimeout(absl::Condition(&has_free), options_.command_timeout)) {
    return errors::DependencyUnavailable("redis", "no free connection");
  }
  Conn* c = free_.back();
  free_.pop_back();
  return c;
}

void Client::Release(Conn* conn) {
  absl::MutexLock lock(&mu_);
  free_.push_back(conn);
}

absl::StatusOr<Reply> Client::Command(const std::vector<std::string>& args) {
  return Pipeline({args})[0];
}

std::vector<absl::StatusOr<Reply>> Client::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  auto conn = Acquire();
  if (!conn.ok()) return std::vector<absl::StatusOr<Reply>>(commands.size(), conn.status());
  Conn& c = **conn;
  std::vector<absl::StatusOr<Reply>> results;
  absl::Status failed = EnsureConnected(c);
  for (size_t i = 0; failed.ok() && i < commands.size(); ++i) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : commands[i]) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(c.ctx, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      failed = errors::DependencyUnavailable("redis", "connection lost");
    }
  }
  for (size_t i = 0; failed.ok() && i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c.ctx, &raw) != REDIS_OK || raw == nullptr) {
      failed = errors::DependencyUnavailable("redis", "connection lost");
      break;
    }
    auto* reply = static_cast<redisReply*>(raw);
    if (reply->type == REDIS_REPLY_ERROR &&
        absl::StrContains(absl::string_view(reply->str, reply->len), "READONLY")) {
      // A master demoted by a failover (or a replica named by mistake):
      // the write did nothing; find the master again.
      freeReplyObject(reply);
      failed = errors::DependencyUnavailable("redis", "the server is a read-only replica");
      break;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      results.push_back(
          absl::InternalError(absl::StrCat("redis: ", std::string(reply->str, reply->len))));
    } else {
      results.push_back(ConvertReply(reply));
    }
    freeReplyObject(reply);
  }
  if (!failed.ok()) {
    // I/O error, timeout or a replica: the connection's state is unknown, drop it.
    Drop(c);
    results.assign(commands.size(), failed);
  }
  Release(&c);
  return results;
}

absl::StatusOr<bool> Client::SetIfAbsent(const std::string& key, const std::string& value,
                                         absl::Duration ttl) {
  auto reply =
      Command({"SET", key, value, "NX", "PX", absl::StrCat(absl::ToInt64Milliseconds(ttl))});
  if (!reply.ok()) return reply.status();
  return reply->type == Reply::Type::kStatus;  // "OK"; nil when the key exists.
}

absl::StatusOr<Reply> Client::Eval(const std::string& script, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
  return EvalEach(script, {keys}, args)[0];
}

std::vector<absl::StatusOr<Reply>> Client::EvalEach(
    const std::string& script, const std::vector<std::vector<std::string>>& keys,
    const std::vector<std::string>& args) {
  std::vector<ScriptCall> calls;
  calls.reserve(keys.size());
  for (const auto& k : keys) calls.push_back({k, args});
  return EvalEach(script, calls);
}

namespace {

std::vector<std::string> ScriptCommand(const std::string& verb, const std::string& body,
                                       const Client::ScriptCall& call) {
  std::vector<std::string> cmd = {verb, body, absl::StrCat(call.keys.size())};
  cmd.insert(cmd.end(), call.keys.begin(), call.keys.end());
  cmd.insert(cmd.end(), call.args.begin(), call.args.end());
  return cmd;
}

}  // namespace

std::vector<std::string> Client::EvalShaCommand(const std::string& script, const ScriptCall& call) {
  return ScriptCommand("EVALSHA", ScriptSha1(script), call);
}

bool Client::IsNoScript(const absl::StatusOr<Reply>& reply) {
  return !reply.ok() && absl::StrContains(reply.status().message(), "NOSCRIPT");
}

std::vector<absl::StatusOr<Reply>> Client::EvalEach(const std::string& script,
                                                    const std::vector<ScriptCall>& calls) {
  std::vector<std::vector<std::string>> by_sha;
  for (const auto& call : calls) by_sha.push_back(EvalShaCommand(script, call));
  std::vector<absl::StatusOr<Reply>> replies = Pipeline(by_sha);
  // Those the server did not run because it has not loaded the script yet
  // (or restarted): EVAL runs and loads it.
  std::vector<size_t> missing;
  std::vector<std::vector<std::string>> by_body;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (IsNoScript(replies[i])) {
      missing.push_back(i);
      by_body.push_back(ScriptCommand("EVAL", script, calls[i]));
    }
  }
  if (missing.empty()) return replies;
  std::vector<absl::StatusOr<Reply>> retried = Pipeline(by_body);
  for (size_t j = 0; j < missing.size(); ++j) replies[missing[j]] = std::move(retried[j]);
  return replies;
}

absl::Status Client::Ping() {
  auto reply = Command({"PING"});
  return reply.ok() ? absl::OkStatus() : reply.status();
}

}  // namespace giftcard::redis
