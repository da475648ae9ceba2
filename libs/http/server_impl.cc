#include "http/server_impl.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "http/session.h"

namespace giftcard::http {
namespace internal {

ServerImpl::ServerImpl(ServerOptions options, Handler handler, RefusalHandler refusal)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      refusal_(std::move(refusal)),
      acceptor_(net::make_strand(io_)),
      workers_(std::max(1, options_.worker_threads)) {}

absl::Status ServerImpl::Listen(const std::string& host, int port) {
  beast::error_code ec;
  const net::ip::address address =
      net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("'", host, "' is not an IP address"));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    io_threads_.emplace_back([this] { io_.run(); });
  }
  return absl::OkStatus();
}

void ServerImpl::Stop(absl::Duration grace) {
  if (stopped_.exchange(true)) return;
  stopping_.store(true);
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  // Requests in flight finish and their answers are written; idle
  // kept-alive connections are closed at once.
  CloseSessions(/*idle_only=*/true);
  const absl::Time until = absl::Now() + grace;
  while (busy_.load() > 0 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
  CloseSessions(/*idle_only=*/false);
  workers_.join();
  work_.reset();
  io_.stop();
  for (std::thread& t : io_threads_) t.join();
}

Response ServerImpl::Handle(const Request& request) {
  try {
    return handler_(request);
  } catch (...) {
    Response response;
    response.status = 500;
    response.SetContent("internal error\n", "text/plain");
    return response;
  }
}

Response ServerImpl::Refused(Refusal refusal) {
  Response response;
  if (refusal_) response = refusal_(refusal);
  response.status = StatusOf(refusal);
  if (response.body.empty()) {
    response.SetContent(absl::StrCat(NameOf(refusal), "\n"), "text/plain");
  }
  response.stream = nullptr;
  return response;
}

void ServerImpl::Register(Session* session, const std::shared_ptr<Session>& shared) {
  absl::MutexLock lock(&mu_);
  sessions_[session] = shared;
}

void ServerImpl::Unregister(Session* session) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(session);
}

void ServerImpl::SetBusy(Session* session, bool busy) {
  absl::MutexLock lock(&mu_);
  if (busy) {
    busy_sessions_[session] = true;
    busy_.fetch_add(1);
  } else if (busy_sessions_.erase(session) > 0) {
    busy_.fetch_sub(1);
  }
}

void ServerImpl::Accept() {
  acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      std::optional<Refusal> refuse;
      if (connections_.load() >= options_.max_connections) refuse = Refusal::kOverloaded;
      auto session = std::make_shared<Session>(std::move(socket), *this, refuse);
      Register(session.get(), session);
      session->Run();
    }
    Accept();
  });
}

void ServerImpl::CloseSessions(bool idle_only) {
  std::vector<std::shared_ptr<Session>> to_close;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [raw, weak] : sessions_) {
      if (idle_only && busy_sessions_.count(raw) > 0) continue;
      if (auto session = weak.lock()) to_close.push_back(std::move(session));
    }
  }
  for (auto& session : to_close) session->Close();
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const std::string& listen_address,
                                                      ServerOptions options, Handler handler,
                                                      RefusalHandler refusal) {
  absl::StatusOr<std::pair<std::string, int>> host_port = SplitHostPort(listen_address);
  if (!host_port.ok()) return host_port.status();
  auto server = std::make_unique<internal::ServerImpl>(std::move(options), std::move(handler),
                                                       std::move(refusal));
  if (absl::Status listening = server->Listen(host_port->first, host_port->second);
      !listening.ok()) {
    return listening;
  }
  return server;
}

}  // namespace giftcard::http
