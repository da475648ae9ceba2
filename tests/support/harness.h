// Integration-test harness: real service processes on ephemeral loopback
// ports, each test with its own databases in the fixture's Postgres (or a
// private cluster for tests that stop Postgres), clients with bearer tokens.
#ifndef GIFTCARD_TESTS_SUPPORT_HARNESS_H_
#define GIFTCARD_TESTS_SUPPORT_HARNESS_H_

// One header per part; a test includes this one or the parts it uses.

#include "support/probes.h"
#include "support/process.h"
#include "support/servers.h"
#include "support/sql.h"
#include "support/suite.h"

#endif  // GIFTCARD_TESTS_SUPPORT_HARNESS_H_
