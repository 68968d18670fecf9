-- CreateTable
CREATE TABLE `wallets` (
    `user_id` VARCHAR(64) NOT NULL,
    `balance` BIGINT NOT NULL DEFAULT 0,
    `updated_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`user_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `ledger_entries` (
    `id` VARCHAR(36) NOT NULL,
    `user_id` VARCHAR(64) NOT NULL,
    `kind` VARCHAR(16) NOT NULL,
    `amount` BIGINT NOT NULL,
    `reference` VARCHAR(64) NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `ledger_entries_user_id_created_at_idx`(`user_id`, `created_at`),
    UNIQUE INDEX `ledger_entries_kind_reference_key`(`kind`, `reference`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
