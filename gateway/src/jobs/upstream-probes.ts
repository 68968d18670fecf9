import { repeat, type BackgroundWork } from '@tickets/shared/background'
import type { FastifyBaseLogger } from 'fastify'
import type { UpstreamPool } from '../domain/upstream-pool.js'

export interface UpstreamProbeOptions {
  pools: readonly UpstreamPool[]
  /** The pause between the end of one round of probes and the next. */
  intervalMs: number
  /** An instance that has not answered its probe by then is ejected. */
  timeoutMs: number
  log: FastifyBaseLogger
  /** Whether the instance answers; by default its `GET /health` (the process alone, no dependency). */
  probe?: (url: string, timeoutMs: number) => Promise<boolean>
}

async function answersHealth(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) })
    await res.body?.cancel()
    return res.ok
  } catch {
    return false
  }
}

/**
 * Asks every instance of every service, all at once, whether it answers: one that does not is
 * ejected from its pool, and one that answers again is taken back. A paused or hung instance is out
 * within `intervalMs + timeoutMs`, before many requests wait on it (a refused or reset one is out at
 * the first request that meets it, without waiting for a probe).
 */
export function startUpstreamProbes(opts: UpstreamProbeOptions): BackgroundWork {
  const probe = opts.probe ?? answersHealth
  return repeat(
    () =>
      Promise.all(
        opts.pools.flatMap((pool) =>
          pool.urls.map(async (url) => {
            const answering = await probe(url, opts.timeoutMs)
            if (!pool.markProbed(url, answering)) return
            if (answering) opts.log.info({ upstream: pool.service, instance: url }, 'upstream instance answers again')
            else opts.log.warn({ upstream: pool.service, instance: url }, 'upstream instance ejected: no answer to its probe')
          }),
        ),
      ),
    { intervalMs: opts.intervalMs, firstDelayMs: 0 },
  )
}
