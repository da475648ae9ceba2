-- Who redeemed: the principal that called RedeemCode (the storefront), kept
-- with its redemption. A code's history names it, with the redemption's
-- request id, for the steps a redemption made (REDEEMING, REDEEMED, back to
-- ACTIVE), which carry no admin's name of their own. Null for redemptions
-- made before this column; nullable, so adding it rewrites nothing.
ALTER TABLE redemptions ADD COLUMN principal text;
