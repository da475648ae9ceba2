// Keeps a service's threads on the CPUs it is given (--cpus). A service is
// one engine thread and a few of gRPC's, handing each call from one to the
// other; on one CPU those hand-offs are switches on that CPU, without the
// inter-processor interrupt (on a virtual machine, an exit to the
// hypervisor) that waking a thread on another CPU costs. Measured in
// docs/decisions.md; in Kubernetes a Guaranteed pod under the static CPU
// manager gets the same from its cpuset.
#ifndef GIFTCARD_LIBS_SERVER_CPU_AFFINITY_H_
#define GIFTCARD_LIBS_SERVER_CPU_AFFINITY_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace giftcard::server {

// "0", "0,2", "1-3", "0,2-3" → the CPUs named; INVALID_ARGUMENT, naming
// --cpus and what is wrong, for anything else or an empty list.
absl::StatusOr<std::set<int>> ParseCpuList(const std::string& spec);

// Moves every thread of this process onto `spec`'s CPUs (empty: leaves them
// where they are). INVALID_ARGUMENT when the list is malformed or names a CPU
// this process may not use, saying which ones it may.
absl::Status PinProcessToCpus(const std::string& spec);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CPU_AFFINITY_H_
