-- 0008: one deliverer per subscription across nodes. The node delivering a subscription holds its
-- lease: lease_owner until lease_expires, renewed while it works. Another node takes the lease only
-- once it has expired; the cursor advances only for the holder.
ALTER TABLE subscriptions ADD COLUMN lease_owner text;
ALTER TABLE subscriptions ADD COLUMN lease_expires bigint;
