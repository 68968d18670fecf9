import { newSeed } from '@tickets/contracts/draw'
import type { Clock, DrawComputer, DrawState, DrawStore, FrozenEntry, QueueEvents } from './ports.js'

export interface DrawKeeperDeps {
  store: DrawStore
  computer: DrawComputer
  clock: Clock
  events: QueueEvents
  /** This process's name on the draw's lock (unique among instances). */
  owner: string
  /** How long before the opening the pre-queue opens, unless the concert has its own window. */
  preQueueWindowMs: number
  /** Places applied per script call: one call never holds Redis for long. */
  chunkSize: number
  /** A lock not renewed for this long (its holder died) lets another instance redo the draw. */
  lockTtlMs: number
  /** How long the published draw is kept after it was made. */
  retentionMs: number
  onError?: (err: unknown, concertId: string) => void
}

export type DrawRun = 'DRAWN' | 'BUSY' | 'LOST' | 'NONE'

/**
 * The opening's draw for each concert with an opening ahead: commits a seed (by its hash) before
 * the pre-queue opens, and once the opening froze the pre-queue, draws its order and applies it in
 * chunks, beside the admission loop (a step only starts it, never waits for it). The order is a
 * function of the seed and the entries alone, and each chunk applies once, so any instance can
 * take over a draw whose instance died and finish it the same way.
 */
export function createDrawKeeper(deps: DrawKeeperDeps) {
  const { store, clock } = deps
  const inFlight = new Map<string, Promise<unknown>>()

  function once<T>(key: string, run: () => Promise<T>): Promise<T> {
    const running = inFlight.get(key) as Promise<T> | undefined
    if (running) return running
    const started = run().finally(() => inFlight.delete(key))
    inFlight.set(key, started)
    return started
  }

  /** `windowMs`: the concert's pre-queue window as the caller read it; asked of the store when not given. */
  async function commit(concertId: string, opensAt: number, windowMs?: number): Promise<void> {
    const window = windowMs ?? (await store.preQueueWindowMs(concertId)) ?? deps.preQueueWindowMs
    const { seed, seedHash } = newSeed()
    await store.commit({ concertId, now: clock.now(), opensAt, preQueueFrom: opensAt - window, seed, seedHash })
  }

  async function draw(concertId: string): Promise<DrawRun> {
    const started = performance.now()
    const lock = await store.lock({ concertId, owner: deps.owner, ttlMs: deps.lockTtlMs })
    if (!lock.locked) return 'BUSY'
    const entries: FrozenEntry[] = []
    async function* kept() {
      for await (const batch of store.frozenEntries(concertId)) {
        for (const entry of batch) entries.push(entry)
        yield batch
      }
    }
    const drawn = await deps.computer.order(lock.seed, kept())
    if (drawn.entries !== lock.entries) throw new Error(`the frozen pre-queue holds ${drawn.entries} entries, the draw counted ${lock.entries}`)
    let placed = 0
    for (let start = lock.applied; start < drawn.entries; start += deps.chunkSize) {
      const fans = Array.from(drawn.fans.subarray(start, start + deps.chunkSize), (i) => entries[i]!)
      const outcome = await store.applyChunk({ concertId, owner: deps.owner, start, now: clock.now(), ttlMs: deps.lockTtlMs, draw: drawn, fans })
      if (outcome !== 'OK') return outcome === 'DONE' ? 'NONE' : 'LOST'
      placed += fans.length
    }
    const finished = await store.finish({ concertId, owner: deps.owner, now: clock.now(), retentionMs: deps.retentionMs, digest: drawn.digest })
    if (finished !== 'DRAWN') return 'LOST'
    deps.events.drew(concertId, { entries: drawn.entries, placed, seconds: (performance.now() - started) / 1000 })
    return 'DRAWN'
  }

  function report<T>(concertId: string, work: Promise<T>): void {
    work.catch((err: unknown) => deps.onError?.(err, concertId))
  }

  return {
    /**
     * Called by each admission step with what it found: commits a draw for an opening ahead (or
     * moves a committed one), and draws a frozen pre-queue. Starts the work, never waits for it.
     */
    checkDue(concertId: string, state: DrawState, opensAt: number | null, now: number): void {
      if (state.state === 'frozen')
        return report(
          concertId,
          once(`draw:${concertId}`, () => draw(concertId)),
        )
      if (opensAt === null || state.state === 'drawn') return
      const committable = state.state === null && opensAt > now
      const window = state.preQueueWindowMs ?? deps.preQueueWindowMs
      const moved = state.state === 'open' && (state.opensAt !== opensAt || state.preQueueFrom !== opensAt - window)
      if (committable || moved)
        report(
          concertId,
          once(`commit:${concertId}`, () => commit(concertId, opensAt, window)),
        )
    },

    /** Draws a frozen pre-queue now (or joins the run under way); tests and the benchmark await it. */
    draw: (concertId: string): Promise<DrawRun> => once(`draw:${concertId}`, () => draw(concertId)),

    /** Commits the draw for an opening ahead now. */
    commit: (concertId: string, opensAt: number): Promise<void> => once(`commit:${concertId}`, () => commit(concertId, opensAt)),
  }
}

export type DrawKeeper = ReturnType<typeof createDrawKeeper>
