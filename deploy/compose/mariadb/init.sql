-- Runs once, on an empty data volume: the two databases and the rights of the services' user
-- (MARIADB_USER). `ops migrate` creates the tables.
CREATE DATABASE IF NOT EXISTS tickets_booking CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS tickets_payment CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
GRANT ALL PRIVILEGES ON tickets_booking.* TO 'tickets'@'%';
GRANT ALL PRIVILEGES ON tickets_payment.* TO 'tickets'@'%';
