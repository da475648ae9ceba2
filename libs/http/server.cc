#include "http/server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <optional>
#include <thread>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace giftcard::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Parser = bhttp::request_parser<bhttp::string_body>;

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

void ConfigureParser(Parser& parser, const ServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
}

// What a failed read is answered with; nullopt: close without an answer (the
// client left, or took too long and is not reading anyway).
std::optional<Refusal> RefusalOf(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) return Refusal::kHeadersTooLarge;
  if (ec == bhttp::error::body_limit) return Refusal::kBodyTooLarge;
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
      ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::connection_reset || ec == net::error::bad_descriptor) {
    return std::nullopt;
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return Refusal::kMalformed;
  }
  return std::nullopt;  // A socket error: nobody to answer.
}

bool TooManyHeaders(const Parser& parser, const ServerOptions& options) {
  size_t count = 0;
  for (auto it = parser.get().begin(); it != parser.get().end(); ++it) {
    if (++count > options.max_header_count) return true;
  }
  return false;
}

Request ToRequest(Parser& parser) {
  bhttp::request<bhttp::string_body>& message = parser.get();
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

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

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions options, Handler handler, RefusalHandler refusal)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        refusal_(std::move(refusal)),
        acceptor_(net::make_strand(io_)),
        workers_(std::max(1, options_.worker_threads)) {}

  ~ServerImpl() override { Stop(absl::ZeroDuration()); }

  absl::Status Listen(const std::string& host, int port) {
    beast::error_code ec;
    const net::ip::address address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("'", host, "' is not an IP address"));
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port, ": ",
                                                 ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      io_threads_.emplace_back([this] { io_.run(); });
    }
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  size_t connections() const override { return connections_.load(); }

  void Stop(absl::Duration grace) override {
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

  const ServerOptions& options() const { return options_; }
  bool stopping() const { return stopping_.load(); }
  net::thread_pool& workers() { return workers_; }

  Response Handle(const Request& request) {
    try {
      return handler_(request);
    } catch (...) {
      Response response;
      response.status = 500;
      response.SetContent("internal error\n", "text/plain");
      return response;
    }
  }

  Response Refused(Refusal refusal) {
    Response response;
    if (refusal_) response = refusal_(refusal);
    response.status = StatusOf(refusal);
    if (response.body.empty()) {
      response.SetContent(absl::StrCat(NameOf(refusal), "\n"), "text/plain");
    }
    response.stream = nullptr;
    return response;
  }

  void Register(Session* session, const std::shared_ptr<Session>& shared) {
    absl::MutexLock lock(&mu_);
    sessions_[session] = shared;
  }
  void Unregister(Session* session) {
    absl::MutexLock lock(&mu_);
    sessions_.erase(session);
  }
  void SetBusy(Session* session, bool busy) {
    absl::MutexLock lock(&mu_);
    if (busy) {
      busy_sessions_[session] = true;
      busy_.fetch_add(1);
    } else if (busy_sessions_.erase(session) > 0) {
      busy_.fetch_sub(1);
    }
  }


 private:
  void Accept() {
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

  void CloseSessions(bool idle_only) {
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

 public:
  std::atomic<size_t> connections_{0};

 private:
  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_{
      net::make_work_guard(io_)};
  tcp::acceptor acceptor_;
  net::thread_pool workers_;
  std::vector<std::thread> io_threads_;
};

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
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             self->OnHeader(ec);
                           });
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
  bhttp::async_read(stream_, buffer_, *parser_,
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
    net::post(self->stream_.get_executor(), [self, response, keep_alive] {
      self->Answer(std::move(*response), keep_alive);
    });
  });
}

bhttp::response<bhttp::string_body> ToMessage(const ServerOptions& options, Response& response) {
  bhttp::response<bhttp::string_body> message;
  message.version(11);
  message.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : options.default_headers) message.set(name, value);
  for (const auto& [name, value] : response.headers) message.set(name, value);
  message.body() = std::move(response.body);
  return message;
}

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
                     [self = shared_from_this(), message, keep_alive](beast::error_code ec, size_t) {
                       self->OnWritten(keep_alive, ec);
                     });
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

}  // namespace

absl::string_view Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

absl::string_view Request::RawPath() const {
  absl::string_view t = target;
  return t.substr(0, t.find('?'));
}

absl::string_view Request::RawQuery() const {
  absl::string_view t = target;
  const size_t mark = t.find('?');
  return mark == absl::string_view::npos ? absl::string_view() : t.substr(mark + 1);
}

void Response::SetContent(std::string content, absl::string_view content_type) {
  body = std::move(content);
  SetHeader("Content-Type", content_type);
}

void Response::SetHeader(absl::string_view name, absl::string_view value) {
  for (auto& [key, old] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) {
      old = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::string(value));
}

int StatusOf(Refusal refusal) {
  switch (refusal) {
    case Refusal::kMalformed:
      return 400;
    case Refusal::kHeadersTooLarge:
      return 431;
    case Refusal::kBodyTooLarge:
      return 413;
    case Refusal::kOverloaded:
      return 503;
  }
  return 400;
}

absl::string_view NameOf(Refusal refusal) {
  switch (refusal) {
    case Refusal::kMalformed:
      return "malformed";
    case Refusal::kHeadersTooLarge:
      return "headers_too_large";
    case Refusal::kBodyTooLarge:
      return "body_too_large";
    case Refusal::kOverloaded:
      return "overloaded";
  }
  return "malformed";
}

ParseResult ParseRequest(absl::string_view bytes, const ServerOptions& options) {
  ParseResult result;
  Parser parser;
  ConfigureParser(parser, options);
  parser.eager(true);
  size_t used = 0;
  beast::error_code ec;
  bool counted = false;
  while (!parser.is_done()) {
    if (used >= bytes.size()) {  // A body still owed: no more bytes to give.
      result.need_more = true;
      return result;
    }
    const size_t n = parser.put(net::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (!counted && parser.is_header_done()) {
      counted = true;
      if (TooManyHeaders(parser, options)) {
        result.refusal = Refusal::kHeadersTooLarge;
        return result;
      }
    }
    if (ec == bhttp::error::need_more) {
      if (used >= bytes.size() || n == 0) {
        result.need_more = true;
        return result;
      }
      ec = {};
      continue;
    }
    if (ec) {
      result.refusal = RefusalOf(ec).value_or(Refusal::kMalformed);
      return result;
    }
    if (n == 0) {  // No progress and no error: the parser wants more.
      result.need_more = true;
      return result;
    }
  }
  result.ok = true;
  result.consumed = used;
  result.request = ToRequest(parser);
  return result;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const std::string& listen_address,
                                                      ServerOptions options, Handler handler,
                                                      RefusalHandler refusal) {
  absl::StatusOr<std::pair<std::string, int>> host_port = SplitHostPort(listen_address);
  if (!host_port.ok()) return host_port.status();
  auto server =
      std::make_unique<ServerImpl>(std::move(options), std::move(handler), std::move(refusal));
  if (absl::Status listening = server->Listen(host_port->first, host_port->second);
      !listening.ok()) {
    return listening;
  }
  return server;
}

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& listen_address) {
  const size_t colon = listen_address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen_address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", listen_address, "' is not host:port"));
  }
  std::string host = listen_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

}  // namespace giftcard::http
