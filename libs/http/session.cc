#include "http/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "http/server_impl.h"

namespace giftcard::http::internal {

Session::Session(tcp::socket socket, ServerImpl& server, std::optional<Refusal> refuse_at_once)
    : stream_(std::move(socket)), server_(server), refuse_at_once_(refuse_at_once) {
  if (!refuse_at_once_) server_.connections_.fetch_add(1);
}

Session::~Session() {
  if (!refuse_at_once_) server_.connections_.fetch_sub(1);
  server_.SetBusy(this, false);
  server_.Unregister(this);
}

const ServerOptions& Session::options() const { return server_.options(); }

void Session::Run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    // Answers are written as a header and a body: without this the body
    // waits for the client's delayed ACK (40 ms).
    self->stream_.socket().set_option(tcp::no_delay(true), ignored);
    if (self->refuse_at_once_) {
      self->Refuse(*self->refuse_at_once_);
    } else {
      self->ReadHeader();
    }
  });
}

void Session::Close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    self->stream_.close();
  });
}

void Session::ReadHeader() {
  if (server_.stopping()) return Shutdown();
  parser_.emplace();
  ConfigureParser(*parser_, options());
  // One deadline for waiting and for the whole header: it does not restart
  // with each byte, so a client sending a byte at a time is cut off.
  stream_.expires_after(Chrono(served_ == 0 ? options().header_timeout : options().idle_timeout));
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Session::OnHeader(beast::error_code ec) {
  if (ec) {
    if (std::optional<Refusal> refusal = RefusalOf(ec)) return Refuse(*refusal);
    return Shutdown();
  }
  if (TooManyHeaders(*parser_, options())) return Refuse(Refusal::kHeadersTooLarge);
  head_ = parser_->get().method() == bhttp::verb::head;
  server_.SetBusy(this, true);
  if (!parser_->is_done() &&
      absl::EqualsIgnoreCase(std::string(parser_->get()[bhttp::field::expect]), "100-continue")) {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(Chrono(options().write_timeout));
    net::async_write(stream_, net::buffer(kContinue),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Shutdown();
                       self->ReadBody();
                     });
    return;
  }
  ReadBody();
}

void Session::ReadBody() {
  if (parser_->is_done()) return Dispatch();
  stream_.expires_after(Chrono(options().body_timeout));
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Session::OnBody(beast::error_code ec) {
  if (ec) {
    if (std::optional<Refusal> refusal = RefusalOf(ec)) return Refuse(*refusal);
    return Shutdown();
  }
  Dispatch();
}

void Session::Dispatch() {
  stream_.expires_never();
  const bool keep_alive = parser_->get().keep_alive();
  auto request = std::make_shared<Request>(ToRequest(*parser_));
  net::post(server_.workers(), [self = shared_from_this(), request, keep_alive] {
    auto response = std::make_shared<Response>(self->server_.Handle(*request));
    if (response->stream) {
      self->Stream(std::move(response));
      return;
    }
    net::post(self->stream_.get_executor(),
              [self, response, keep_alive] { self->Answer(std::move(*response), keep_alive); });
  });
}

namespace {

bhttp::response<bhttp::string_body> ToMessage(const ServerOptions& options, Response& response) {
  bhttp::response<bhttp::string_body> message;
  message.version(11);
  message.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : options.default_headers) message.set(name, value);
  for (const auto& [name, value] : response.headers) message.set(name, value);
  message.body() = std::move(response.body);
  return message;
}

}  // namespace

void Session::Answer(Response response, bool keep_alive) {
  ++served_;
  keep_alive = keep_alive && !server_.stopping() && served_ < options().max_requests_per_connection;
  auto message =
      std::make_shared<bhttp::response<bhttp::string_body>>(ToMessage(options(), response));
  message->keep_alive(keep_alive);
  message->prepare_payload();
  if (head_) message->body().clear();  // Content-Length stays the GET's.
  stream_.expires_after(Chrono(options().write_timeout));
  bhttp::async_write(stream_, *message,
                     [self = shared_from_this(), message, keep_alive](
                         beast::error_code ec, size_t) { self->OnWritten(keep_alive, ec); });
}

void Session::Refuse(Refusal refusal) {
  // The rest of the request is not read: the connection closes after the
  // answer.
  server_.SetBusy(this, true);
  head_ = false;
  Answer(server_.Refused(refusal), /*keep_alive=*/false);
}

void Session::OnWritten(bool keep_alive, beast::error_code ec) {
  server_.SetBusy(this, false);
  if (ec || !keep_alive) return Shutdown();
  ReadHeader();
}

void Session::Shutdown() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.close();
}

// Writes chunks from a worker thread: each is handed to the strand and
// waited for, so the worker never touches the socket itself.
class Session::Sink final : public ChunkSink {
 public:
  explicit Sink(std::shared_ptr<Session> session) : session_(std::move(session)) {}

  bool Write(absl::string_view data) override {
    if (!Connected() || data.empty()) return Connected();
    std::promise<bool> written;
    std::future<bool> result = written.get_future();
    net::post(session_->stream_.get_executor(), [this, data, &written] {
      session_->stream_.expires_after(Chrono(session_->options().write_timeout));
      net::async_write(session_->stream_, bhttp::make_chunk(net::buffer(data.data(), data.size())),
                       [&written](beast::error_code ec, size_t) { written.set_value(!ec); });
    });
    if (!result.get()) session_->client_gone_.store(true);
    return Connected();
  }

  bool Connected() const override {
    return !session_->client_gone_.load() && !session_->server_.stopping();
  }

  bool Finish() {
    if (session_->client_gone_.load()) return false;
    std::promise<bool> written;
    std::future<bool> result = written.get_future();
    net::post(session_->stream_.get_executor(), [this, &written] {
      session_->stream_.expires_after(Chrono(session_->options().write_timeout));
      net::async_write(session_->stream_, bhttp::make_chunk_last(),
                       [&written](beast::error_code ec, size_t) { written.set_value(!ec); });
    });
    return result.get();
  }

 private:
  std::shared_ptr<Session> session_;
};

void Session::Stream(std::shared_ptr<Response> response) {
  // On a worker thread. The status line and headers first.
  std::promise<bool> sent;
  std::future<bool> header_sent = sent.get_future();
  net::post(stream_.get_executor(), [self = shared_from_this(), response, &sent] {
    auto message = std::make_shared<bhttp::response<bhttp::empty_body>>();
    message->version(11);
    message->result(static_cast<unsigned>(response->status));
    for (const auto& [name, value] : self->options().default_headers) message->set(name, value);
    for (const auto& [name, value] : response->headers) message->set(name, value);
    message->keep_alive(false);  // A stream is a connection's last answer.
    message->chunked(true);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*message);
    self->stream_.expires_after(Chrono(self->options().write_timeout));
    bhttp::async_write_header(self->stream_, *serializer,
                              [self, message, serializer, &sent](beast::error_code ec, size_t) {
                                if (!ec) self->WatchClient();
                                sent.set_value(!ec);
                              });
  });
  Sink sink(shared_from_this());
  // The stream runs even when its header could not be sent (it sees a
  // client that is gone), so whatever it holds is released in one place.
  const bool started = header_sent.get();
  if (!started) client_gone_.store(true);
  response->stream(sink);
  if (started) sink.Finish();
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->server_.SetBusy(self.get(), false);
    self->Shutdown();
  });
}

void Session::WatchClient() {
  // Whatever the client sends after its request, or its closing, ends the
  // stream: nothing more is read from a streamed connection.
  stream_.socket().async_read_some(net::buffer(watch_byte_),
                                   [self = shared_from_this()](beast::error_code ec, size_t) {
                                     if (ec) {
                                       self->client_gone_.store(true);
                                     } else {
                                       self->WatchClient();
                                     }
                                   });
}

}  // namespace giftcard::http::internal
