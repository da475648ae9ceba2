// Inside libs/http only: the server behind http::Server: its acceptor, I/O
// threads and handler workers, and the connections (session.h) it tracks
// so that Stop() can let requests in flight finish and close the rest.
#ifndef GIFTCARD_LIBS_HTTP_SERVER_IMPL_H_
#define GIFTCARD_LIBS_HTTP_SERVER_IMPL_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "http/beast_request.h"
#include "http/server.h"

namespace giftcard::http::internal {

class Session;

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions options, Handler handler, RefusalHandler refusal);
  ~ServerImpl() override { Stop(absl::ZeroDuration()); }

  absl::Status Listen(const std::string& host, int port);

  int port() const override { return port_; }
  size_t connections() const override { return connections_.load(); }
  void Stop(absl::Duration grace) override;

  // For the sessions.
  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }
  net::thread_pool& workers() { return workers_; }
  // The handler's answer (500 when it throws).
  Response Handle(const Request& request);
  // The answer to a request refused before any handler ran.
  Response Refused(Refusal refusal);
  void Register(Session* session, const std::shared_ptr<Session>& shared);
  void Unregister(Session* session);
  // Busy: a request is being handled or its answer written.
  void SetBusy(Session* session, bool busy);

  std::atomic<size_t> connections_{0};

 private:
  void Accept();
  void CloseSessions(bool idle_only);

  const ServerOptions options_;
  const Handler handler_;
  const RefusalHandler refusal_;
  // Declared before the I/O objects: a session destroyed with the
  // io_context's pending handlers still unregisters itself here.
  absl::Mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<Session*, bool> busy_sessions_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int> busy_{0};
  int port_ = 0;

  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{
      net::make_work_guard(io_)};
  tcp::acceptor acceptor_;
  net::thread_pool workers_;
  std::vector<std::thread> io_threads_;
};

}  // namespace giftcard::http::internal

#endif  // GIFTCARD_LIBS_HTTP_SERVER_IMPL_H_
