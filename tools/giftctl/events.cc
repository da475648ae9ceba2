// giftctl events list and follow: what happened, as each service tells it
// (WatchEvents), resumable by event id.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "calls.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "output.h"

namespace giftcard::giftctl {
namespace {

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

// "17 2026-12-04T12:00:00Z code.redeemed serial=GC… account=… amount=25.00 EUR":
// the fields an event carries, those it leaves empty left out.
std::string EventLine(const v1::Event& e) {
  std::string out = absl::StrCat(e.event_id(), " ", Time(e.event_time()), " ", e.type());
  for (const auto& [key, value] : std::vector<std::pair<const char*, std::string>>{
           {"serial", e.serial()},
           {"batch", e.batch_id()},
           {"account", e.account_id()},
           {"amount", e.has_amount() ? Money(e.amount()) : ""},
           {"balance", e.has_balance() ? Money(e.balance()) : ""},
           {"invoice", e.invoice_id()},
           {"redemption", e.redemption_id()},
           {"transfer", e.transfer_id()},
           {"request", e.request_id()}}) {
    if (!value.empty()) absl::StrAppend(&out, " ", key, "=", value);
  }
  return out;
}

std::optional<Service> ServiceNamed(const std::string& name) {
  if (name == "code-vault") return Service::kCodeVault;
  if (name == "account-credit") return Service::kAccountCredit;
  if (name == "billing") return Service::kBilling;
  return std::nullopt;
}

// One WatchEvents stream of the chosen service.
std::unique_ptr<grpc::ClientReader<v1::Event>> OpenWatch(const Session& session, Service service,
                                                         grpc::ClientContext* context,
                                                         const v1::WatchEventsRequest& request) {
  switch (service) {
    case Service::kCodeVault:
      return Vault(session)->WatchEvents(context, request);
    case Service::kAccountCredit:
      return Credit(session)->WatchEvents(context, request);
    case Service::kBilling:
      break;
  }
  return Billing(session)->WatchEvents(context, request);
}

// One reading of the service's events: streams, each resuming after the
// last event printed, until the list is read, --count is reached, or a
// failure ends it.
class EventReader {
 public:
  EventReader(const Session& session, const EventsFlags& flags, Service service)
      : session_(session),
        flags_(flags),
        service_(service),
        cmd_(flags.follow ? "events follow" : "events list") {
    request_.set_after_event_id(flags.after);
    request_.set_stream_epoch(flags.stream_epoch);
    for (const auto& t : flags.types) request_.add_types(t);
    request_.set_serial(flags.serial);
    request_.set_account_id(flags.account_id);
    request_.set_stop_when_caught_up(!flags.follow);
  }

  int Run() {
    absl::Duration backoff = absl::Milliseconds(200);
    while (true) {
      // A follower reconnects for as long as it runs; each stream lasts a day.
      auto context = session_.Call(flags_.follow ? absl::Hours(24) : absl::Minutes(1));
      auto reader = OpenWatch(session_, service_, context.get(), request_);
      v1::Event e;
      while (reader->Read(&e)) {
        backoff = absl::Milliseconds(200);
        if (Print(e)) {
          context->TryCancel();
          reader->Finish();
          return kExitOk;
        }
      }
      const grpc::Status status = reader->Finish();
      if (std::optional<int> done = End(status)) return *done;
      // A follower outlives restarts and failovers: it resumes after the
      // last event it printed.
      std::fprintf(stderr, "giftctl: %s; resuming after event %lld\n",
                   status.error_message().c_str(),
                   static_cast<long long>(request_.after_event_id()));
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
  }

 private:
  // Prints (or, listing under --json, keeps) one event; true once --count
  // events were.
  bool Print(const v1::Event& e) {
    request_.set_after_event_id(e.event_id());  // Resume after it, in its stream.
    request_.set_stream_epoch(e.stream_epoch());
    if (session_.json() && !flags_.follow) {
      listed_.push_back(nlohmann::ordered_json::parse(ToJson(e)));
    } else {
      std::printf("%s\n", session_.json() ? ToJson(e).c_str() : EventLine(e).c_str());
      std::fflush(stdout);
    }
    return flags_.count > 0 && ++printed_ == flags_.count;
  }

  // What a stream's end means: the exit code, or nothing when a follower
  // should resume.
  std::optional<int> End(const grpc::Status& status) {
    const absl::Status ended = errors::FromGrpcStatus(status);
    if (errors::ReasonOf(ended) == errors::reason::kEventsPruned) return Pruned(ended);
    if (errors::ReasonOf(ended) == errors::reason::kEventStreamRestored) return Restored(ended);
    if (!flags_.follow) {
      if (!status.ok()) return session_.CallFailed(status);
      if (session_.json()) std::printf("%s\n", DumpJson(listed_).c_str());
      return kExitOk;
    }
    // What a retry cannot mend ends a follower.
    const grpc::StatusCode code = status.error_code();
    if (code != grpc::StatusCode::UNAVAILABLE && code != grpc::StatusCode::DEADLINE_EXCEEDED &&
        code != grpc::StatusCode::RESOURCE_EXHAUSTED) {
      return session_.CallFailed(status);
    }
    return std::nullopt;
  }

  // Said in plain words: what is lost, and where reading can go on.
  int Pruned(const absl::Status& pruned) {
    int64_t oldest = 0;
    (void)absl::SimpleAtoi(errors::MetadataOf(pruned, "oldest_event_id").value_or(""), &oldest);
    return session_.Failed(absl::StrCat(
        "events after ", request_.after_event_id(),
        " are gone: the service prunes events older than its --event_retention, and the "
        "oldest it still keeps is ",
        oldest, "; the ones between were never read here. To read on from what is kept: giftctl ",
        cmd_, " --service=", flags_.service, " --after=", std::max<int64_t>(oldest - 1, 0)));
  }

  int Restored(const absl::Status& restored) {
    const std::string last = errors::MetadataOf(restored, "last_event_id").value_or("0");
    return session_.Failed(absl::StrCat(
        "the service's database was restored to an earlier point: events read here after id ", last,
        " did not survive it (new events reuse their ids). To read on in the restored "
        "stream: giftctl ",
        cmd_, " --service=", flags_.service, " --after=", last,
        " --stream_epoch=", errors::MetadataOf(restored, "stream_epoch").value_or("")));
  }

  const Session& session_;
  const EventsFlags& flags_;
  const Service service_;
  const std::string cmd_;
  v1::WatchEventsRequest request_;
  nlohmann::ordered_json listed_ = nlohmann::ordered_json::array();
  int printed_ = 0;
};

int Events(const Session& session, const EventsFlags& flags) {
  const std::string cmd = flags.follow ? "events follow" : "events list";
  const std::optional<Service> service = ServiceNamed(flags.service);
  if (!service) {
    return session.UsageError(cmd, "--service is code-vault, account-credit or billing");
  }
  if (AnyLooksLikeAPin({flags.serial, flags.account_id})) {
    return session.UsageError(cmd, kLooksLikeAPin);
  }
  if (flags.follow) {
    // Said once, on stderr (stdout stays the events): a follower prints
    // nothing until an event comes, which reads as hanging otherwise.
    std::fprintf(stderr,
                 "giftctl: following %s's events after id %lld%s; each is printed as it "
                 "comes (Ctrl-C stops)\n",
                 flags.service.c_str(), static_cast<long long>(flags.after),
                 flags.after == 0 ? " (from the oldest kept)" : "");
  }
  return EventReader(session, flags, *service).Run();
}

}  // namespace

void AddEventsCommands(CommandLine& cli) {
  CLI::App* events =
      cli.Group("events", "what happened, as each service tells it (admin, support)");
  const Session& session = cli.session();
  for (bool follow : {false, true}) {
    EventsFlags& flags = cli.NewFlags<EventsFlags>();
    flags.follow = follow;
    CLI::App* c = follow
                      ? cli.Command(events, "follow",
                                    "print a service's events as they happen; resumes by id",
                                    [&session, &flags] { return Events(session, flags); })
                      : cli.Command(events, "list", "print a service's events so far, oldest first",
                                    [&session, &flags] { return Events(session, flags); });
    c->add_option("--service", flags.service, "code-vault, account-credit or billing")->required();
    c->add_option("--after", flags.after, "events after this id (0: from the oldest kept)");
    c->add_option("--stream_epoch", flags.stream_epoch,
                  "the stream_epoch of the events read up to --after (in --json output): a "
                  "service restored to an earlier point since then says so instead of reusing ids");
    c->add_option("--type", flags.types, "only this type (repeatable), e.g. code.redeemed");
    c->add_option("--serial", flags.serial, "only this card's events");
    c->add_option("--account", flags.account_id, "only this account's events");
    c->add_option("--count", flags.count, "stop after this many events");
    Explain(c,
            "One line per event: id, time, type, then the ids and amounts it carries (never a\n"
            "PIN). --json prints each event as protobuf JSON (follow: one object per line).\n"
            "Types: code.activated, code.redeemed, code.blocked, code.unblocked, code.voided\n"
            "(code-vault); credit.added, credit.applied, credit.reversed, credit.clawed_back,\n"
            "credit.depleted (account-credit); credit.low (billing). Delivery is at least\n"
            "once: a consumer resumes with --after=<the last id it processed> and\n"
            "--stream_epoch=<its stream_epoch>.");
  }
}

}  // namespace giftcard::giftctl
