// giftcard-gateway's front door under hostile input, in raw bytes over a
// socket (a client library would refuse to send most of them): header bytes
// gRPC cannot carry, chunked bodies over the limit, header floods, slow
// clients, an encoded slash, and an upstream's transport error. Every case
// is answered with a JSON error of ours, writes nothing, leaks nothing, and
// the process lives to serve the next request.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using nlohmann::json;

// One TCP connection to the gateway, written and read as bytes.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // False once the peer stopped reading (it answered and closed).
  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Everything the peer sends until it closes or `wait` passes without a
  // byte.
  std::string ReadUntilClosed(absl::Duration wait) {
    std::string out;
    char buffer[65536];
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) <= 0) break;
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }

  // One whole answer (status line, headers, a Content-Length body), reading
  // no further; "" if none came within `wait`.
  std::string ReadAnswer(absl::Duration wait) {
    const absl::Time until = absl::Now() + wait;
    char buffer[65536];
    while (absl::Now() < until) {
      const size_t header_end = pending_.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        size_t length = 0;
        for (absl::string_view line : absl::StrSplit(pending_.substr(0, header_end), "\r\n")) {
          if (absl::StartsWithIgnoreCase(line, "content-length:")) {
            (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &length);
          }
        }
        if (pending_.size() >= header_end + 4 + length) {
          std::string answer = pending_.substr(0, header_end + 4 + length);
          pending_.erase(0, answer.size());
          return answer;
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      pending_.append(buffer, static_cast<size_t>(n));
    }
    return "";
  }

  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string pending_;
};

int StatusOf(const std::string& answer) {
  int status = -1;
  if (answer.size() >= 12 && absl::StartsWith(answer, "HTTP/1.1 ")) {
    (void)absl::SimpleAtoi(answer.substr(9, 3), &status);
  }
  return status;
}

std::string BodyOf(const std::string& answer) {
  const size_t end = answer.find("\r\n\r\n");
  return end == std::string::npos ? "" : answer.substr(end + 4);
}

std::string ReasonOf(const std::string& answer) {
  const json body = json::parse(BodyOf(answer), nullptr, false);
  if (body.is_discarded() || !body.contains("error")) return "";
  for (const json& d : body["error"].value("details", json::array())) {
    if (d.value("@type", "") == "type.googleapis.com/google.rpc.ErrorInfo") {
      return d.value("reason", "");
    }
  }
  return "";
}

// The field a BadRequest of the answer names, or "".
std::string FieldOf(const std::string& answer) {
  const json body = json::parse(BodyOf(answer), nullptr, false);
  if (body.is_discarded() || !body.contains("error")) return "";
  for (const json& d : body["error"].value("details", json::array())) {
    if (d.value("@type", "") == "type.googleapis.com/google.rpc.BadRequest") {
      for (const json& v : d.value("field_violations", json::array())) {
        return v.value("field", "");
      }
    }
  }
  return "";
}

// A whole exchange on a new connection.
std::string Exchange(int port, const std::string& request,
                     absl::Duration wait = absl::Seconds(10)) {
  RawConnection connection(port);
  EXPECT_TRUE(connection.connected());
  connection.Send(request);
  return connection.ReadAnswer(wait);
}

std::string Get(const std::string& target, const std::string& token = "") {
  std::string request = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: gateway\r\n");
  if (!token.empty()) absl::StrAppend(&request, "Authorization: Bearer ", token, "\r\n");
  return request + "\r\n";
}

long RssKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    long kb = 0;
    if (absl::StartsWith(line, "VmRSS:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(
                             absl::StripSuffix(absl::StripAsciiWhitespace(line.substr(6)), "kB")),
                         &kb)) {
      return kb;
    }
  }
  return -1;
}

class GatewayFrontDoorTest : public ::testing::Test {
 protected:
  // Set up in the constructor, not SetUpTestSuite: a gateway that fails to
  // start must fail the test, never skip it.
  GatewayFrontDoorTest() : gateway_(StartGateway(suite_)) {}

  int port() const { return gateway_.http_port; }
  Process& process() const { return *gateway_.process; }

  // The gateway lives and serves the next request.
  void ExpectAlive() {
    EXPECT_TRUE(process().Running()) << process().Log();
    EXPECT_EQ(StatusOf(Exchange(port(), Get("/healthz"))), 200);
  }

  Suite suite_;
  GatewayProcess gateway_;
};

TEST_F(GatewayFrontDoorTest, AuthorizationBytesGrpcCannotCarryAreRefusedNotForwarded) {
  const std::string secret = "s3cr3tFrontDoorToken";
  for (const std::string& value :
       {"Bearer \x01" + secret, "Bearer \xe9" + secret, "Bearer " + secret + "\x7f",
        "Bearer %01" + secret, "Bearer " + std::string(5000, 'a') + secret}) {
    SCOPED_TRACE(absl::CEscape(value.substr(0, 12)));
    const std::string answer =
        Exchange(port(), absl::StrCat("GET /v1/caller HTTP/1.1\r\nHost: gateway\r\nAuthorization: ",
                                      value, "\r\n\r\n"));
    const int status = StatusOf(answer);
    EXPECT_TRUE(status == 400 || status == 401) << answer;
    EXPECT_NE(ReasonOf(answer), "") << answer;  // Our JSON error, with its reason.
    EXPECT_FALSE(absl::StrContains(answer, secret)) << answer;
    if (status == 400 && ReasonOf(answer) == "REQUEST_MALFORMED" && !FieldOf(answer).empty()) {
      EXPECT_EQ(FieldOf(answer), "Authorization");
    }
    ExpectAlive();
  }
  EXPECT_FALSE(absl::StrContains(process().SettledLog(), secret));
}

TEST_F(GatewayFrontDoorTest, ABodyOverTheLimitIs413HoweverFramedAndRedeemsNothing) {
  ASSERT_TRUE(suite_.UpsertAccount("door-chunked", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(1, 1000, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  // A valid redemption, padded with JSON whitespace past 64 KiB.
  const std::string body = absl::StrCat(
      R"({"code":")", codes[0].code(), R"(","account_id":"door-chunked","request_id":"door-1",)",
      R"("client_ip":")", suite_.client_ip, R"(")", std::string(200 * 1024, ' '), "}");
  const std::string head = absl::StrCat("POST /v1/codes:redeem HTTP/1.1\r\nHost: gateway\r\n",
                                        "Authorization: Bearer ", kStorefrontToken,
                                        "\r\nContent-Type: application/json\r\n");
  // Content-Length.
  {
    RawConnection connection(port());
    connection.Send(absl::StrCat(head, "Content-Length: ", body.size(), "\r\n\r\n", body));
    const std::string answer = connection.ReadAnswer(absl::Seconds(10));
    EXPECT_EQ(StatusOf(answer), 413) << answer;
    EXPECT_EQ(ReasonOf(answer), "REQUEST_TOO_LARGE") << answer;
  }
  // Chunked, 4 KiB a chunk.
  {
    RawConnection connection(port());
    std::string chunked = head + "Transfer-Encoding: chunked\r\n\r\n";
    for (size_t at = 0; at < body.size(); at += 4096) {
      const std::string chunk = body.substr(at, 4096);
      absl::StrAppend(&chunked, absl::Hex(chunk.size()), "\r\n", chunk, "\r\n");
    }
    chunked += "0\r\n\r\n";
    connection.Send(chunked);
    const std::string answer = connection.ReadAnswer(absl::Seconds(10));
    EXPECT_EQ(StatusOf(answer), 413) << answer;
    EXPECT_EQ(ReasonOf(answer), "REQUEST_TOO_LARGE") << answer;
  }
  v1::CodeStatus status;
  ASSERT_TRUE(suite_.GetCodeStatus(codes[0].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_ACTIVE);
  // The same body under the limit, chunked, is read whole: the framing is
  // not what is refused.
  const std::string small = absl::StrCat(
      R"({"code":")", codes[0].code(), R"(","account_id":"door-chunked","request_id":"door-2",)",
      R"("client_ip":")", suite_.client_ip, R"("})");
  const std::string answer = Exchange(
      port(), absl::StrCat(head, "Transfer-Encoding: chunked\r\n\r\n", absl::Hex(small.size()),
                           "\r\n", small, "\r\n0\r\n\r\n"));
  EXPECT_EQ(StatusOf(answer), 200) << answer;
  ExpectAlive();
}

TEST_F(GatewayFrontDoorTest, TooManyOrTooLargeHeadersAre431AndMemoryStaysFlat) {
  std::string many = "GET /v1/caller HTTP/1.1\r\nHost: gateway\r\n";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&many, "X-H", i, ": v\r\n");
  std::string answer = Exchange(port(), many + "\r\n");
  EXPECT_EQ(StatusOf(answer), 431) << answer;
  EXPECT_EQ(ReasonOf(answer), "REQUEST_TOO_LARGE") << answer;

  answer = Exchange(port(), absl::StrCat("GET /v1/caller HTTP/1.1\r\nHost: gateway\r\nX-Big: ",
                                         std::string(20 * 1024, 'x'), "\r\n\r\n"));
  EXPECT_EQ(StatusOf(answer), 431) << answer;

  // A million small headers: answered as soon as the limit is passed, the
  // rest is never held.
  const long rss_before = RssKb(process().pid());
  ASSERT_GT(rss_before, 0);
  {
    RawConnection flood(port());
    flood.Send("GET /v1/caller HTTP/1.1\r\nHost: gateway\r\n");
    std::string block;
    for (int i = 0; i < 10000; ++i) block += "X-A: b\r\n";
    for (int round = 0; round < 100; ++round) {
      if (!flood.Send(block)) break;  // The gateway answered and closed.
    }
    answer = flood.ReadAnswer(absl::Seconds(10));
    EXPECT_EQ(StatusOf(answer), 431) << answer.substr(0, 200);
  }
  const long rss_after = RssKb(process().pid());
  EXPECT_LT(rss_after - rss_before, 16 * 1024) << rss_before << " kB → " << rss_after << " kB";
  ExpectAlive();
}

TEST_F(GatewayFrontDoorTest, SlowClientsHoldNoWorkerAndMeetADeadline) {
  // 200 connections, each with half a request line sent.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<RawConnection>(port()));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->Send("GET /v1/openapi.js");
  }
  // A normal request is answered meanwhile (httplib's 16 workers were all
  // held: no answer until the slow ones gave up).
  const std::string answer = Exchange(port(), Get("/v1/openapi.json"), absl::Seconds(5));
  EXPECT_EQ(StatusOf(answer), 200) << answer.substr(0, 200);

  // A client that sends a byte at a time meets the header deadline (2 s
  // here), however steadily it sends: the deadline does not restart per byte.
  GatewayProcess strict = StartGateway(suite_, {"--http_header_timeout=2s"});
  RawConnection trickle(strict.http_port);
  const std::string request = Get("/v1/openapi.json");
  bool cut_off = false;
  for (size_t i = 0; i < request.size() - 2 && !cut_off; ++i) {
    cut_off = !trickle.Send(request.substr(i, 1));
    if (!trickle.ReadUntilClosed(absl::Milliseconds(250)).empty() || trickle.closed()) {
      cut_off = true;
    }
  }
  // 34 bytes at 250 ms each is over 8 s: four times the deadline.
  EXPECT_TRUE(cut_off) << "a trickling client kept its connection past the header deadline";
  ExpectAlive();
}

TEST_F(GatewayFrontDoorTest, ConnectionsPastTheCapAre503) {
  GatewayProcess capped = StartGateway(suite_, {"--http_max_connections=20"});
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 20; ++i) {
    held.push_back(std::make_unique<RawConnection>(capped.http_port));
    ASSERT_TRUE(held.back()->connected());
  }
  // Each held connection has been accepted once it answers a request.
  for (auto& connection : held) {
    connection->Send(Get("/healthz"));
    ASSERT_EQ(StatusOf(connection->ReadAnswer(absl::Seconds(10))), 200);
  }
  const std::string refused = Exchange(capped.http_port, Get("/healthz"));
  EXPECT_EQ(StatusOf(refused), 503) << refused;
  EXPECT_EQ(ReasonOf(refused), "OVERLOADED") << refused;
  held.clear();
  // Closed connections free their places.
  std::string answer;
  for (int attempt = 0; attempt < 50 && StatusOf(answer) != 200; ++attempt) {
    answer = Exchange(capped.http_port, Get("/healthz"));
    if (StatusOf(answer) != 200) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(StatusOf(answer), 200) << answer;
}

TEST_F(GatewayFrontDoorTest, AnEncodedSlashIsDataNotASeparator) {
  EXPECT_EQ(StatusOf(Exchange(port(), Get("/v1/reports/codeLiability",
                                          kAdminToken))),
            200);
  std::string answer =
      Exchange(port(), Get("/v1/reports%2FcodeLiability", kAdminToken));
  EXPECT_EQ(StatusOf(answer), 404) << answer;
  EXPECT_EQ(ReasonOf(answer), "ROUTE_NOT_FOUND") << answer;
  answer = Exchange(port(), Get("/v1%2Freports%2FcodeLiability", kAdminToken));
  EXPECT_EQ(StatusOf(answer), 404) << answer;
  // Inside a variable's segment, "%2F" is part of the value: a serial with
  // a slash (which a serial's spelling forgives) and letters, which the
  // service refuses as a serial.
  answer = Exchange(port(), Get("/v1/codes/GC000001%2F00000x", kSupportToken));
  EXPECT_EQ(StatusOf(answer), 400) << answer;
  EXPECT_EQ(ReasonOf(answer), "INVALID_FIELD") << answer;
  ExpectAlive();
}

TEST_F(GatewayFrontDoorTest, TransportErrorsStayInTheLog) {
  // Billing at an address where nothing listens.
  int dead_port = 0;
  {
    // Any free port: bind one and let it go.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    dead_port = ntohs(addr.sin_port);
    close(fd);
  }
  GatewayProcess gateway =
      StartGateway(suite_, {absl::StrCat("--billing_address=127.0.0.1:", dead_port)});
  const std::string body = R"({"account_id":"nobody","amount_due":{"currency_code":"EUR","amount_minor":"100"}})";
  const std::string answer = Exchange(
      gateway.http_port,
      absl::StrCat("POST /v1/invoices/inv-door-1:applyCredit HTTP/1.1\r\nHost: gateway\r\n",
                   "Authorization: Bearer ", kBillingSystemToken, "\r\nContent-Length: ",
                   body.size(), "\r\n\r\n", body));
  EXPECT_EQ(StatusOf(answer), 503) << answer;
  EXPECT_EQ(ReasonOf(answer), "DEPENDENCY_UNAVAILABLE") << answer;
  for (const std::string& inside : std::vector<std::string>{
           "127.0.0.1", "ipv4", "onnection refused", "backends", std::to_string(dead_port)}) {
    EXPECT_FALSE(absl::StrContains(BodyOf(answer), inside)) << inside << " in " << answer;
  }
  EXPECT_TRUE(absl::StrContains(gateway.process->SettledLog(), "upstream_failed"))
      << gateway.process->Log();
}

}  // namespace
}  // namespace giftcard::testing
