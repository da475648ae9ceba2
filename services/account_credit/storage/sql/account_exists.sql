SELECT 1 AS found FROM accounts WHERE account_id = $1
