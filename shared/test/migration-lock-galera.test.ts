// The migration lock on a real two-node Galera cluster: a named lock (GET_LOCK) is granted on each
// node at once, so it cannot keep two migrators apart; the lock row is certified cluster-wide.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGaleraCluster } from '@tickets/testkit/clusters'
import { afterAll, describe, expect, it } from 'vitest'
import { applyMigrations } from '../src/migrate.js'

const galera = await startGaleraCluster({ size: 2 })
afterAll(() => galera.dispose())
const [one, two] = galera.nodes as [(typeof galera.nodes)[0], (typeof galera.nodes)[0]]

describe('the migration lock on Galera', () => {
  it('when GET_LOCK is taken on one node, then the other node grants it too: a named lock spans no cluster', async () => {
    const holding = one.sql("SELECT GET_LOCK('migrate:x', 1), SLEEP(2)")
    await new Promise((r) => setTimeout(r, 500))
    expect((await two.sql("SELECT GET_LOCK('migrate:x', 1)")).trim()).toBe('1')
    await holding
  })

  it('when two migrators run at once through different nodes, then the lock row lets one apply each migration', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migrations-'))
    const files = { '20260501000000_slow': 'CREATE TABLE slow (id INT PRIMARY KEY);\nDO SLEEP(1.5);', '20260502000000_next': 'INSERT INTO slow VALUES (1);' }
    for (const [name, sql] of Object.entries(files)) {
      await mkdir(join(dir, name))
      await writeFile(join(dir, name, 'migration.sql'), sql)
    }
    const results = await Promise.all([one, two].map((node) => applyMigrations(`${node.url}/tickets_galera`, dir, { leaseMs: 3_000, waitMs: 30_000 })))
    const [did, waited] = results.sort((x, y) => y.applied.length - x.applied.length)
    expect(did!.applied).toEqual(Object.keys(files))
    expect(waited).toEqual({ applied: [], alreadyApplied: Object.keys(files) })
    for (const node of [one, two]) {
      expect((await node.sql('SELECT COUNT(*) FROM tickets_galera._prisma_migrations WHERE finished_at IS NOT NULL')).trim()).toBe('2')
      expect((await node.sql('SELECT COUNT(*) FROM tickets_galera.slow')).trim()).toBe('1')
    }
  })
})
