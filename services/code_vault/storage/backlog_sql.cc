#include "services/code_vault/storage/backlog_sql.h"

namespace giftcard::code_vault {

// Over the partial indexes the recovery worker claims from (state PENDING).
std::vector<pg::Statement> BacklogStatements() {
  return {{"cv_backlog_redemptions",
           "SELECT count(*), coalesce(extract(epoch FROM now() - min(create_time))::float8, 0)"
           " FROM redemptions WHERE state = 'PENDING'"},
          {"cv_backlog_clawbacks",
           "SELECT count(*), coalesce(extract(epoch FROM now() - min(create_time))::float8, 0)"
           " FROM clawbacks WHERE state = 'PENDING'"}};
}

}  // namespace giftcard::code_vault
