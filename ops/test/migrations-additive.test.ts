import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { nonAdditiveChanges } from '../src/migration-rules.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

function newestMigration(service: string): { name: string; sql: string } {
  const dir = join(root, service, 'prisma', 'migrations')
  const name = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .at(-1)!
  return { name, sql: readFileSync(join(dir, name, 'migration.sql'), 'utf8') }
}

describe('the newest migration of each service', () => {
  for (const service of ['booking-service', 'payment-service']) {
    it(`when ${service}'s newest migration is applied, then the previous release still runs on it (only additive changes)`, () => {
      const { name, sql } = newestMigration(service)
      expect({ migration: name, nonAdditive: nonAdditiveChanges(sql) }).toEqual({ migration: name, nonAdditive: [] })
    })
  }
})

describe('nonAdditiveChanges', () => {
  it('when a migration only adds, drops an index or changes a utf8mb4 collation, then nothing is reported', () => {
    const sql = [
      'CREATE TABLE `t` (`id` INT NOT NULL, PRIMARY KEY (`id`));',
      "ALTER TABLE `t` ADD COLUMN `note` VARCHAR(20) NOT NULL DEFAULT 'drop table rename';",
      '-- DROP TABLE in a comment is fine',
      'CREATE INDEX `t_note_idx` ON `t`(`note`);',
      'ALTER TABLE `t` DROP INDEX `old_idx`;',
      'DROP INDEX `older_idx` ON `t`;',
      'ALTER TABLE `t` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;',
    ].join('\n')
    expect(nonAdditiveChanges(sql)).toEqual([])
  })

  it('when a migration drops, renames or narrows, then each kind is named', () => {
    expect(nonAdditiveChanges('DROP TABLE `seats`;')).toEqual(['DROP TABLE'])
    expect(nonAdditiveChanges('ALTER TABLE `seats` DROP COLUMN `grade`;')).toEqual(['DROP COLUMN'])
    expect(nonAdditiveChanges('ALTER TABLE `seats` DROP `grade`;')).toEqual(['DROP COLUMN'])
    expect(nonAdditiveChanges('ALTER TABLE `seats` RENAME COLUMN `grade` TO `tier`;')).toEqual(['RENAME'])
    expect(nonAdditiveChanges('RENAME TABLE `a` TO `b`;')).toEqual(['RENAME'])
    expect(nonAdditiveChanges('ALTER TABLE `seats` MODIFY `grade` VARCHAR(2) NOT NULL;')).toEqual(['MODIFY COLUMN'])
    expect(nonAdditiveChanges('ALTER TABLE `seats` CHANGE COLUMN `grade` `grade` VARCHAR(2);')).toEqual(['CHANGE COLUMN'])
    expect(nonAdditiveChanges('ALTER TABLE `seats` CONVERT TO CHARACTER SET latin1;')).toEqual(['CONVERT CHARACTER SET'])
  })
})
