// giftctl batches list: the batches of codes as issued, newest first.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "calls.h"
#include "output.h"

namespace giftcard::giftctl {
namespace {

int BatchesList(const Session& session, const PageFlags& flags) {
  v1::ListBatchesRequest request;
  SetPage(flags, request);
  v1::ListBatchesResponse response;
  grpc::Status status = Vault(session)->ListBatches(session.Call().get(), request, &response);
  return Answer(session, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : response.batches()) {
      rows.push_back({b.batch_id(), absl::StrCat(b.code_count()), Money(b.amount()), b.region(),
                      Time(b.create_time()), Time(b.expire_time()), b.request_id()});
    }
    PrintTable({"BATCH_ID", "CODES", "AMOUNT", "REGION", "CREATED", "EXPIRES", "REQUEST_ID"}, rows);
    PrintMore("batches list", response.next_page_token());
  });
}

}  // namespace

void AddBatchesCommands(CommandLine& cli) {
  CLI::App* batches = cli.Group("batches", "batches of codes as issued");
  PageFlags& page = cli.NewFlags<PageFlags>();
  const Session& session = cli.session();
  CLI::App* c = cli.Command(batches, "list", "list batches, newest first",
                            [&] { return BatchesList(session, page); });
  AddPageFlags(c, page);
}

}  // namespace giftcard::giftctl
