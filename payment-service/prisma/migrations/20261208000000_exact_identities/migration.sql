-- Identities compare byte for byte: `SEC42` and `sec42` are two users, and two Idempotency-Keys
-- that differ in case are two keys (docs/decisions/exact-identities.md). Every string in this
-- database is an id, a key, a hash or a code, so every table compares in binary. Going from a
-- case-blind to a binary collation only makes keys more distinct: no unique key can collide.
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `wallets` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `ledger_entries` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `payments` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `idempotency_keys` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `processed_events` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `outbox_events` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- Backfill. The ledger always kept each entry under the exact user id of its request; only the
-- wallet row was shared between spellings. A spelling with ledger entries and no wallet of its own
-- gets one, and a wallet whose balance is not its own ledger's sum is set to that sum. Each row is
-- locked as it is set, as a charge or a payment locks it, so one running meanwhile is not lost.
INSERT INTO `wallets` (`user_id`, `balance`)
  SELECT DISTINCT l.`user_id`, 0 FROM `ledger_entries` l
  WHERE NOT EXISTS (SELECT 1 FROM `wallets` w WHERE w.`user_id` = l.`user_id`);
UPDATE `wallets` w
  SET w.`balance` = (SELECT COALESCE(SUM(l.`amount`), 0) FROM `ledger_entries` l WHERE l.`user_id` = w.`user_id`), w.`updated_at` = NOW(3)
  WHERE w.`balance` <> (SELECT COALESCE(SUM(l.`amount`), 0) FROM `ledger_entries` l WHERE l.`user_id` = w.`user_id`);
