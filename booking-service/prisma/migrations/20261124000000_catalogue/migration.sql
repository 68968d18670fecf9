-- CreateTable
CREATE TABLE `concerts` (
    `id` VARCHAR(36) NOT NULL,
    `title` VARCHAR(200) NOT NULL,
    `artist` VARCHAR(200) NOT NULL,
    `venue` VARCHAR(200) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `schedules` (
    `id` VARCHAR(36) NOT NULL,
    `concert_id` VARCHAR(36) NOT NULL,
    `starts_at` DATETIME(3) NOT NULL,
    `booking_opens_at` DATETIME(3) NOT NULL,
    `total_seats` INTEGER NOT NULL,

    INDEX `schedules_concert_id_starts_at_idx`(`concert_id`, `starts_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `seats` (
    `schedule_id` VARCHAR(36) NOT NULL,
    `seat_number` INTEGER NOT NULL,
    `grade` VARCHAR(16) NOT NULL,
    `price` INTEGER NOT NULL,
    `status` VARCHAR(16) NOT NULL DEFAULT 'AVAILABLE',
    `reservation_id` VARCHAR(36) NULL,
    `hold_until` DATETIME(3) NULL,

    INDEX `seats_status_hold_until_idx`(`status`, `hold_until`),
    PRIMARY KEY (`schedule_id`, `seat_number`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
