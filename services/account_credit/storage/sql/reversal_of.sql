-- Whether transfer $1 was reversed already.
SELECT 1 AS reversed FROM transfers WHERE reverses_transfer_id = $1::uuid
