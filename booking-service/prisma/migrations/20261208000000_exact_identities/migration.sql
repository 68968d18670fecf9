-- Identities compare byte for byte: `SEC42` and `sec42` are two users (docs/decisions/exact-identities.md).
-- Every table converts, not only the user id columns: a join between a binary and a case-blind
-- column of one character set is an error ("illegal mix of collations"). Titles, artists and
-- venues are never compared or sorted by the database. Going from a case-blind to a binary
-- collation only makes keys more distinct, so no unique key can collide and nothing needs a
-- backfill: reservations and hold quotas always kept the exact user id of their request.
ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `concerts` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `schedules` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `seats` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `reservations` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `hold_quotas` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `outbox_events` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `processed_events` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
