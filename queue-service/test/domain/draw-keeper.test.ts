import { verifyDraw } from '@tickets/contracts/draw'
import { lineKeys } from '@tickets/contracts/line-keys'
import { isolation, fromGateway } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { createRedisDrawStore } from '../../src/adapters/redis-draw-store.js'
import { createWorkerDrawComputer } from '../../src/adapters/worker-draw-order.js'
import { createDrawKeeper, type DrawKeeperDeps } from '../../src/domain/draw-keeper.js'
import type { DrawStore } from '../../src/domain/ports.js'
import { aConcertId, buildTestApp, join, manualClock, poll } from '../helpers/build-test-app.js'
import { serveInventory } from '../helpers/booking-stand-in.js'

const iso = isolation(import.meta.url)
const clock = manualClock(Date.now())
const app = await buildTestApp(iso, { ADMISSION_RATE_PER_SECOND: '0' }, { clock })
const opensAt = clock.now() + 600_000
serveInventory(app, () => ({ exists: true, asOf: clock.now(), total: 1_000, sold: 0, opensAt, holds: [] }))

const store = createRedisDrawStore(app.redis, { timeoutMs: 2_000 })
const quiet = { stepped: () => undefined, joined: () => undefined, resynced: () => undefined, activeEnded: () => undefined }
function aKeeper(owner: string, overrides: Partial<DrawKeeperDeps> = {}) {
  return createDrawKeeper({
    store,
    computer: createWorkerDrawComputer(),
    clock,
    events: { ...quiet, drew: () => undefined },
    owner,
    preQueueWindowMs: 1_800_000,
    chunkSize: 10,
    // Long enough for a starved machine to compute the order and apply a chunk within one lock.
    lockTtlMs: 3_000,
    retentionMs: 60_000,
    ...overrides,
  })
}

/** A store whose instance dies after applying its first chunk: nothing after it reaches Redis. */
function dyingAfterOneChunk(): DrawStore {
  let chunks = 0
  return {
    ...store,
    async applyChunk(input) {
      if (chunks++ > 0) throw new Error('the instance died')
      return store.applyChunk(input)
    },
  }
}

describe('the draw keeper', () => {
  it('when the instance applying a draw dies, then another finishes it in the same order, each fan placed once', async () => {
    const concertId = aConcertId()
    await app.queueInventory.resync(concertId)
    await aKeeper('setup').commit(concertId, opensAt)
    const fans = Array.from({ length: 25 }, (_, i) => `fan-${i}`)
    const tokens = Object.fromEntries(await Promise.all(fans.map(async (u) => [u, (await join(app, u, concertId)).json().token as string])))
    clock.set(opensAt + 1)
    const late = (await join(app, 'late', concertId)).json()

    await expect(aKeeper('A', { store: dyingAfterOneChunk() }).draw(concertId)).rejects.toThrow('the instance died')
    expect(await aKeeper('B').draw(concertId)).toBe('BUSY')
    await new Promise((resolve) => setTimeout(resolve, 3_100))
    expect(await aKeeper('B').draw(concertId)).toBe('DRAWN')

    const info = (await app.inject(fromGateway({ method: 'GET', url: `/api/queue/draws/${concertId}` }))).json()
    const { order } = (await app.inject(fromGateway({ method: 'GET', url: `/api/queue/draws/${concertId}/entries` }))).json()
    expect(verifyDraw({ seedHash: info.seedHash, seed: info.seed, digest: info.digest, order })).toMatchObject({ ok: true, entries: 25 })
    const positions = await Promise.all(fans.map(async (u) => (await poll(app, u, tokens[u]!)).json().position as number))
    expect(positions.sort((a, b) => a - b)).toEqual(fans.map((_, i) => i + 1))
    expect((await poll(app, 'late', late.token)).json().position).toBe(26)
    expect(await app.redis.zcard(lineKeys(concertId).waiting)).toBe(26)
  })
})
