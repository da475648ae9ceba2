SELECT 1 AS found
FROM codes
WHERE serial = $1
