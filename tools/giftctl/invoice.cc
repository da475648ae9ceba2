// giftctl invoice show: the credit applied to an invoice.
#include <string>

#include "calls.h"
#include "output.h"

namespace giftcard::giftctl {
namespace {

int InvoiceShow(const Session& session, const std::string& invoice_id) {
  v1::GetCreditApplicationRequest request;
  request.set_invoice_id(invoice_id);
  v1::CreditApplication app;
  grpc::Status status = Billing(session)->GetCreditApplication(session.Call().get(), request, &app);
  return Answer(session, status, app, [&] {
    PrintFields({{"invoice_id", app.invoice_id()},
                 {"account_id", app.account_id()},
                 {"state",
                  Short(v1::CreditApplicationState_Name(app.state()), "CREDIT_APPLICATION_STATE_")},
                 {"amount_due", Money(app.amount_due())},
                 {"applied", Money(app.applied())},
                 {"amount_to_charge", Money(app.amount_to_charge())},
                 {"remaining_credit", Money(app.remaining_credit())},
                 {"next_invoice_covered", app.next_invoice_covered() ? "yes" : "no"},
                 {"create_time", Time(app.create_time())},
                 {"update_time", Time(app.update_time())}});
  });
}

}  // namespace

void AddInvoiceCommands(CommandLine& cli) {
  CLI::App* invoice = cli.Group("invoice", "credit applied to invoices");
  std::string& invoice_id = cli.NewFlags<std::string>();
  const Session& session = cli.session();
  CLI::App* c =
      cli.Command(invoice, "show", "the credit applied to an invoice and what is left to charge",
                  [&] { return InvoiceShow(session, invoice_id); });
  c->add_option("invoice_id", invoice_id, "the invoice")->required();
}

}  // namespace giftcard::giftctl
