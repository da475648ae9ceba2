// Inside libs/http only: one connection of the server (server_impl.h).
#ifndef GIFTCARD_LIBS_HTTP_SESSION_H_
#define GIFTCARD_LIBS_HTTP_SESSION_H_

#include <atomic>
#include <memory>
#include <optional>

#include "http/beast_request.h"
#include "http/server.h"

namespace giftcard::http::internal {

class ServerImpl;

// One connection: read a request (header, then body, each under its own
// deadline), hand it to a worker, write the answer, repeat while kept alive.
// Everything but the handler runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl& server, std::optional<Refusal> refuse_at_once);
  ~Session();
  void Run();
  // From another thread (Stop): close the socket on the strand.
  void Close();

 private:
  class Sink;
  const ServerOptions& options() const;
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  void Dispatch();
  void Answer(Response response, bool keep_alive);
  void Refuse(Refusal refusal);
  void OnWritten(bool keep_alive, beast::error_code ec);
  void Stream(std::shared_ptr<Response> response);
  void WatchClient();
  void Shutdown();

  beast::tcp_stream stream_;
  ServerImpl& server_;
  std::optional<Refusal> refuse_at_once_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  size_t served_ = 0;
  bool head_ = false;
  std::atomic<bool> client_gone_{false};
  char watch_byte_[64];
};

}  // namespace giftcard::http::internal

#endif  // GIFTCARD_LIBS_HTTP_SESSION_H_
