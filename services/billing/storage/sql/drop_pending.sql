-- The ledger refused the debit for good: the application never was.
DELETE FROM credit_applications WHERE invoice_id = $1 AND state = 'PENDING'
