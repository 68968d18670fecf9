-- CreateTable
CREATE TABLE `payments` (
    `id` VARCHAR(36) NOT NULL,
    `reservation_id` VARCHAR(64) NOT NULL,
    `standing_reservation_id` VARCHAR(64) NULL,
    `user_id` VARCHAR(64) NOT NULL,
    `concert_id` VARCHAR(64) NOT NULL,
    `amount` BIGINT NOT NULL,
    `status` VARCHAR(16) NOT NULL,
    `confirmation` VARCHAR(16) NOT NULL DEFAULT 'PENDING',
    `refund_reason` VARCHAR(255) NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updated_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `refunded_at` DATETIME(3) NULL,

    UNIQUE INDEX `payments_standing_reservation_id_key`(`standing_reservation_id`),
    INDEX `payments_reservation_id_idx`(`reservation_id`),
    INDEX `payments_user_id_created_at_idx`(`user_id`, `created_at`),
    INDEX `payments_status_confirmation_created_at_idx`(`status`, `confirmation`, `created_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `idempotency_keys` (
    `user_id` VARCHAR(64) NOT NULL,
    `idem_key` VARCHAR(64) NOT NULL,
    `request_hash` CHAR(64) NOT NULL,
    `request_id` CHAR(36) NOT NULL,
    `state` VARCHAR(16) NOT NULL,
    `owner` VARCHAR(64) NOT NULL,
    `locked_until` DATETIME(3) NOT NULL,
    `response_status` INTEGER NULL,
    `response_type` VARCHAR(128) NULL,
    `response_body` TEXT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `expires_at` DATETIME(3) NOT NULL,

    INDEX `idempotency_keys_expires_at_idx`(`expires_at`),
    PRIMARY KEY (`user_id`, `idem_key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `processed_events` (
    `consumer` VARCHAR(64) NOT NULL,
    `event_id` VARCHAR(64) NOT NULL,
    `processed_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`consumer`, `event_id`)
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
