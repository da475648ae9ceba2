#include "redis/loop_client.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errors/status.h"
#include "log/log.h"

namespace giftcard::redis {

struct LoopClient::Pending {
  LoopClient* client;
  Callback done;
  absl::Time sent;
  // Internal: the answer to ROLE after a connect through the sentinels.
  bool role_check = false;
};

namespace {

absl::Status Unavailable(absl::string_view why) {
  return errors::DependencyUnavailable("redis", why);
}

}  // namespace

LoopClient::LoopClient(engine::Loop& loop, Options options)
    : loop_(loop), options_(std::move(options)) {
  // Connecting from now on: a command issued before the loop runs the
  // connect waits for it too.
  connecting_ = true;
  loop_.Post([this, alive = alive_] {
    if (*alive) StartConnect();
  });
}

LoopClient::~LoopClient() {
  *alive_ = false;
  if (sentinel_lookup_.joinable()) sentinel_lookup_.join();
  if (ctx_ != nullptr) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(ctx);  // Answers what is pending with no reply: UNAVAILABLE.
  }
}

void LoopClient::Connect() {
  if (connecting_ || ctx_ != nullptr) return;
  connecting_ = true;
  StartConnect();
}

void LoopClient::StartConnect() {
  connect_started_ = absl::Now();
  if (options_.sentinels.empty()) {
    ConnectTo({options_.host, options_.port});
    return;
  }
  if (sentinel_lookup_.joinable()) sentinel_lookup_.join();  // The last one, done.
  sentinel_lookups_.fetch_add(1);
  sentinel_lookup_ = std::thread([this, alive = alive_] {
    absl::StatusOr<Address> master = AskSentinelsForMaster(options_);
    loop_.Post([this, alive, master = std::move(master)] {
      if (!*alive) return;
      if (!master.ok()) {
        connecting_ = false;
        ScheduleReconnect();
        return;
      }
      ConnectTo(*master);
    });
  });
}

void LoopClient::ConnectTo(const Address& address) {
  redisAsyncContext* ctx = address.is_unix_socket()
                               ? redisAsyncConnectUnix(address.host.c_str())
                               : redisAsyncConnect(address.host.c_str(), address.port);
  if (ctx == nullptr || ctx->err != 0) {
    if (ctx != nullptr) redisAsyncFree(ctx);
    connecting_ = false;
    ScheduleReconnect();
    return;
  }
  ctx->data = this;
  redisLibeventAttach(ctx, loop_.base());
  redisAsyncSetConnectCallback(ctx, &LoopClient::OnConnect);
  redisAsyncSetDisconnectCallback(ctx, &LoopClient::OnDisconnect);
  ctx_ = ctx;
  CheckLate();  // Gives up on a connect that takes too long.
}

void LoopClient::OnConnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<LoopClient*>(ctx->data);
  if (self == nullptr || ctx != self->ctx_) return;
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback.
    self->ctx_ = nullptr;
    self->connecting_ = false;
    self->ScheduleReconnect();
    return;
  }
  if (self->options_.sentinels.empty()) {
    self->BecomeReady();
    return;
  }
  // A sentinel may name a master that has just been demoted (its view lags
  // a failover): only a server that says it is a master will do.
  auto* pending = new Pending{self, nullptr, absl::Now(), /*role_check=*/true};
  self->Send({"ROLE"}, pending);
}

void LoopClient::OnDisconnect(const redisAsyncContext* ctx, int) {
  auto* self = static_cast<LoopClient*>(ctx->data);
  if (self == nullptr || ctx != self->ctx_) return;  // Dropped by us: handled there.
  // hiredis frees the context after this callback; pending replies were
  // answered with none already.
  self->ctx_ = nullptr;
  self->Lost();
}

void LoopClient::Lost() {
  ready_ = false;
  connecting_ = false;
  ScheduleReconnect();
}

void LoopClient::Drop(absl::string_view why) {
  log::Warning("redis_loop_connection_dropped", {{"reason", std::string(why)}});
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  if (ctx != nullptr) redisAsyncFree(ctx);  // Pending replies: none, UNAVAILABLE.
  Lost();
}

void LoopClient::BecomeReady() {
  connecting_ = false;
  ready_ = true;
  scripts_sent_.clear();  // A new connection, perhaps to a new master.
  // Not from inside hiredis's connect callback.
  loop_.RunSoon([this, alive = alive_] {
    if (*alive) ReleaseHeld();
  });
}

// Every failed connect and every loss ends here: what waited for a
// connection fails now instead of waiting out the backoff.
void LoopClient::ScheduleReconnect() {
  ReleaseHeld();
  loop_.RunAfter(options_.reconnect_backoff, [this, alive = alive_] {
    if (*alive) Connect();
  });
}

// Runs while a connect or a command is outstanding: a connect past
// connect_timeout, or a command past command_timeout, drops the
// connection (the server is stalled or gone).
void LoopClient::CheckLate() {
  if (late_check_scheduled_) return;
  late_check_scheduled_ = true;
  const absl::Duration every = std::max(
      absl::Milliseconds(5), std::min(options_.command_timeout, options_.connect_timeout) / 4);
  loop_.RunAfter(every, [this, alive = alive_] {
    if (!*alive) return;
    late_check_scheduled_ = false;
    const absl::Time now = absl::Now();
    if (ctx_ != nullptr && !ready_ && now - connect_started_ > options_.connect_timeout) {
      Drop("connect timed out");
      return;
    }
    if (ctx_ != nullptr && !pending_.empty() &&
        now - pending_.front()->sent > options_.command_timeout) {
      Drop("a command timed out");
      return;
    }
    if (ctx_ != nullptr && (!ready_ || !pending_.empty())) CheckLate();
  });
}

void LoopClient::Send(const std::vector<std::string>& args, Pending* pending) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (ctx_ == nullptr ||
      redisAsyncCommandArgv(ctx_, &LoopClient::OnReply, pending, static_cast<int>(argv.size()),
                            argv.data(), lens.data()) != REDIS_OK) {
    loop_.RunSoon([pending] {
      if (pending->done) std::move(pending->done)(Unavailable("cannot send"));
      delete pending;
    });
    return;
  }
  pending_.push_back(pending);
  CheckLate();
}

void LoopClient::OnReply(redisAsyncContext* ctx, void* raw, void* privdata) {
  auto* pending = static_cast<Pending*>(privdata);
  auto* self = pending->client;
  auto& queue = self->pending_;
  if (!queue.empty() && queue.front() == pending) {
    queue.pop_front();
  } else {
    queue.erase(std::remove(queue.begin(), queue.end(), pending), queue.end());
  }
  auto* reply = static_cast<redisReply*>(raw);
  absl::StatusOr<Reply> answer = Unavailable("connection lost");
  bool read_only = false;
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
    const absl::string_view text(reply->str, reply->len);
    read_only = absl::StartsWith(text, "READONLY");
    answer = read_only ? Unavailable("the server is a read-only replica")
                       : absl::InternalError(absl::StrCat("redis: ", text));
  } else if (reply != nullptr) {
    answer = ConvertReply(reply);
  }
  if (pending->role_check) {
    const bool master = answer.ok() && answer->type == Reply::Type::kArray &&
                        !answer->elements.empty() && answer->elements[0].str == "master";
    if (ctx == self->ctx_) {
      if (master) {
        self->BecomeReady();
      } else {
        self->loop_.RunSoon([self, alive = self->alive_] {
          if (*alive) self->Drop("the named master is not a master");
        });
      }
    }
    delete pending;
    return;
  }
  if (read_only && ctx == self->ctx_) {
    // A master demoted by a failover: find the master again. Not from
    // inside hiredis's own callback.
    self->loop_.RunSoon([self, alive = self->alive_] {
      if (*alive && self->ctx_ != nullptr) self->Drop("read-only replica");
    });
  }
  Callback done = std::move(pending->done);
  delete pending;
  std::move(done)(std::move(answer));
}

void LoopClient::Command(std::vector<std::string> args, Callback done) {
  if (!ready_ && connecting_) {
    held_.push_back({std::move(args), std::move(done), absl::Now()});
    ExpireHeld();
    return;
  }
  if (!ready_) {
    loop_.RunSoon(
        [done = std::move(done)]() mutable { std::move(done)(Unavailable("not connected")); });
    return;
  }
  Send(args, new Pending{this, std::move(done), absl::Now()});
}

// Runs while commands are held: fails those that waited past a connect's
// own bound (connect_timeout, and command_timeout for the ROLE check).
void LoopClient::ExpireHeld() {
  if (held_expiry_scheduled_ || held_.empty()) return;
  held_expiry_scheduled_ = true;
  const absl::Duration wait = options_.connect_timeout + options_.command_timeout;
  loop_.RunAfter(std::max(absl::Milliseconds(5), wait / 4), [this, wait, alive = alive_] {
    if (!*alive) return;
    held_expiry_scheduled_ = false;
    const absl::Time now = absl::Now();
    while (!held_.empty() && now - held_.front().since >= wait) {
      Callback done = std::move(held_.front().done);
      held_.pop_front();
      std::move(done)(Unavailable("not connected in time"));
    }
    ExpireHeld();
  });
}

// Sends what waited for the connect, or fails it when there is no
// connection.
void LoopClient::ReleaseHeld() {
  std::deque<Held> held = std::move(held_);
  held_.clear();
  for (Held& h : held) {
    if (ready_) {
      Send(h.args, new Pending{this, std::move(h.done), absl::Now()});
    } else {
      std::move(h.done)(Unavailable("cannot connect"));
    }
  }
}

void LoopClient::Eval(const Script& script, std::vector<std::string> keys,
                      std::vector<std::string> args, Callback done) {
  // EVALSHA only for a script this connection has been sent: a first use
  // goes as EVAL (which loads it), so the call runs in its place among the
  // commands issued around it. Waiting for a NOSCRIPT to send EVAL would
  // let the commands issued after it run first.
  const bool loaded = ready_ && scripts_sent_.contains(script.sha1);
  if (ready_) scripts_sent_.insert(script.sha1);
  std::vector<std::string> command = {
      loaded ? "EVALSHA" : "EVAL", loaded ? script.sha1 : script.body, absl::StrCat(keys.size())};
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  if (!loaded) return Command(std::move(command), std::move(done));
  Command(command,
          [this, &script, command, done = std::move(done)](absl::StatusOr<Reply> reply) mutable {
            if (reply.ok() || !absl::StrContains(reply.status().message(), "NOSCRIPT")) {
              std::move(done)(std::move(reply));
              return;
            }
            // Flushed from the server while connected (SCRIPT FLUSH): EVAL loads it
            // again. Only here can a command issued later run before this one.
            scripts_sent_.erase(script.sha1);
            command[0] = "EVAL";
            command[1] = script.body;
            Command(std::move(command), std::move(done));
          });
}

}  // namespace giftcard::redis
