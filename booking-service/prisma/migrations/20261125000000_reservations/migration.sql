-- CreateTable
CREATE TABLE `reservations` (
    `id` VARCHAR(36) NOT NULL,
    `user_id` VARCHAR(64) NOT NULL,
    `concert_id` VARCHAR(36) NOT NULL,
    `schedule_id` VARCHAR(36) NOT NULL,
    `seat_number` INTEGER NOT NULL,
    `price` INTEGER NOT NULL,
    `status` VARCHAR(16) NOT NULL,
    `expires_at` DATETIME(3) NOT NULL,
    `payment_id` VARCHAR(64) NULL,
    `paying_until` DATETIME(3) NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `confirmed_at` DATETIME(3) NULL,
    `ended_at` DATETIME(3) NULL,

    INDEX `reservations_user_id_schedule_id_status_idx`(`user_id`, `schedule_id`, `status`),
    INDEX `reservations_schedule_id_seat_number_status_idx`(`schedule_id`, `seat_number`, `status`),
    INDEX `reservations_payment_id_idx`(`payment_id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `hold_quotas` (
    `schedule_id` VARCHAR(36) NOT NULL,
    `user_id` VARCHAR(64) NOT NULL,
    `updated_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`schedule_id`, `user_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `outbox_events` (
    `id` VARCHAR(36) NOT NULL,
    `subject` VARCHAR(128) NOT NULL,
    `payload` LONGTEXT NOT NULL,
    `trace_context` VARCHAR(512) NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `published_at` DATETIME(3) NULL,
    `attempts` INTEGER NOT NULL DEFAULT 0,
    `last_error` VARCHAR(512) NULL,

    INDEX `outbox_events_published_at_created_at_idx`(`published_at`, `created_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `processed_events` (
    `consumer` VARCHAR(64) NOT NULL,
    `event_id` VARCHAR(64) NOT NULL,
    `processed_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`consumer`, `event_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
