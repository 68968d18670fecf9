import { signUserToken } from '@tickets/contracts/auth'
import type { Scenario } from '../scenarios.js'
import { createClient } from './client.js'
import { runJourney, type JourneyContext } from './journeys.js'
import { createConcert } from './ops-commands.js'
import { Stats } from './stats.js'

export interface RehearsalResult {
  fans: number
  sold: number
  seconds: number
}

/**
 * Before the measured run, a few fans buy on a concert of their own, the way an operator runs the
 * purchase end to end before the doors open: connection pools, caches and the services' JIT meet
 * the buying path before the crowd does. V8 optimises a function after some hundreds of calls: with
 * 20 rehearsal purchases the first run after a start still paid twice as long at p95 as later runs,
 * with 200 it did not (docs/benchmarks.md). Nothing of it is counted in the report; `reconcile`
 * afterwards still checks its sales.
 */
export async function rehearse(opts: { baseUrl: string; secret: string; scenario: Scenario; fans: number; run: string }): Promise<RehearsalResult> {
  const startedAt = Date.now()
  const concertId = createConcert(`Rehearsal ${opts.run}`, { dates: 1, seatsPerDate: Math.max(10, 2 * opts.fans) })
  const stats = new Stats()
  const client = createClient(opts.baseUrl, stats, { connections: 64 })
  // Everyone buys, without thinking: the rehearsal exercises every step, quickly.
  const scenario: Scenario = { ...opts.scenario, journey: 'buy', thinkMs: { min: 0, max: 0 }, holdAttempts: 3, mix: { ...opts.scenario.mix, abandonInLine: 0, abandonHold: 0 } }
  const ctx: JourneyContext = { scenario, client, stats, concertId, deadline: Date.now() + 60_000, random: Math.random }
  try {
    await Promise.all(
      Array.from({ length: opts.fans }, async (_, i) => {
        const userId = `rehearsal-${opts.run}-${i + 1}`
        const token = await signUserToken({ secret: opts.secret, userId, ttlSeconds: 600 })
        await runJourney(ctx, { userId, token, ip: `10.255.${(i >> 8) & 255}.${i & 255}` }).catch(() => undefined)
      }),
    )
  } finally {
    await client.close()
  }
  return { fans: opts.fans, sold: stats.sold, seconds: (Date.now() - startedAt) / 1000 }
}
