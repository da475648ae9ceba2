// The deadline of the work a thread is doing now, so that storage can bound
// every SQL call by the gRPC call it serves without the domain passing it
// through: the API layer opens a Scope with the call's deadline, and the
// Postgres pool reads Current(). Nested scopes keep the earliest deadline.
#ifndef GIFTCARD_LIBS_DEADLINE_DEADLINE_H_
#define GIFTCARD_LIBS_DEADLINE_DEADLINE_H_

#include "absl/time/time.h"

namespace giftcard::deadline {

// The innermost scope's deadline on this thread; InfiniteFuture when none.
absl::Time Current();

class Scope {
 public:
  explicit Scope(absl::Time deadline);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const absl::Time previous_;
};

// Sets this thread's deadline outright for its lifetime, later or earlier
// than the enclosing one: for work one thread does for many callers (a batch
// runs until the latest of its callers' deadlines).
class OverrideScope {
 public:
  explicit OverrideScope(absl::Time deadline);
  ~OverrideScope();
  OverrideScope(const OverrideScope&) = delete;
  OverrideScope& operator=(const OverrideScope&) = delete;

 private:
  const absl::Time previous_;
};

}  // namespace giftcard::deadline

#endif  // GIFTCARD_LIBS_DEADLINE_DEADLINE_H_
