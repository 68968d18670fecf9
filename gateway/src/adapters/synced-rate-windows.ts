import { isCluster, type RedisClient } from '@tickets/shared/redis'
import { ADD_HITS } from './rate-scripts.js'

const BATCH_MAX = 500
const SWEEP_EVERY_MS = 1_000

interface Window {
  resetAt: number
  windowMs: number
  /** Hits in this window across every instance, as of the last sync (this instance's synced hits included). */
  shared: number
  /** This instance's hits not yet in `shared`: taken since the last sync, or on their way to Redis now. */
  pending: number
  inFlight: number
}

export interface SyncedWindowsOptions {
  syncMs: number
  /** False while Redis is known to be failing: hits are then counted here only. */
  redisUsable: () => boolean
  onSyncError: (err: unknown) => void
  now?: () => number
}

type RedisWithAddHits = RedisClient & {
  addRateHits?: (...args: (string | number)[]) => Promise<number[]>
  addRateHitsOfKey?: (key: string, windowMs: number, hits: number) => Promise<number[]>
}

/**
 * Fixed windows decided in this instance's memory and shared through Redis every `syncMs`: a request
 * costs no round trip, and each instance learns the others' hits at its next sync. Within one
 * instance the count is exact; across N instances a client can get past the limit by at most what
 * the other instances let it do in one sync interval. Made for the join flood, where a round trip
 * per request is what the limit is there to spare.
 */
export class SyncedWindows {
  private readonly windows = new Map<string, Window>()
  private dirty: string[] = []
  private timer: NodeJS.Timeout | null = null
  private syncing: Promise<void> | null = null
  private lastSweep = 0
  private closed = false
  private readonly redis: RedisWithAddHits
  private readonly now: () => number

  constructor(
    redis: RedisClient,
    private readonly opts: SyncedWindowsOptions,
  ) {
    this.redis = redis as RedisWithAddHits
    if (!this.redis.addRateHits) this.redis.defineCommand('addRateHits', { lua: ADD_HITS.lua })
    // The same script with its one key declared: a cluster client (and its auto-pipelining) routes
    // a command by its first key, which for a variable key count would be the count.
    if (!this.redis.addRateHitsOfKey) this.redis.defineCommand(ADD_HITS.command, { numberOfKeys: ADD_HITS.keys.length, lua: ADD_HITS.lua })
    this.now = opts.now ?? Date.now
  }

  incr(key: string, windowMs: number): { current: number; ttl: number } {
    const now = this.now()
    let w = this.windows.get(key)
    if (!w || w.resetAt <= now) {
      w = { resetAt: now + windowMs, windowMs, shared: 0, pending: 0, inFlight: 0 }
      this.windows.set(key, w)
    }
    if (w.pending === 0) this.dirty.push(key)
    w.pending++
    this.schedule()
    return { current: w.shared + w.inFlight + w.pending, ttl: w.resetAt - now }
  }

  /** Sends the hits taken since the last sync and takes in the other instances' counts. */
  async sync(): Promise<void> {
    while (this.syncing) await this.syncing
    if (this.dirty.length === 0) return
    this.syncing = this.syncBatches().finally(() => {
      this.syncing = null
    })
    await this.syncing
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.syncing
  }

  private schedule() {
    if (this.timer || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      // A sync still waiting on Redis (up to its command timeout): try again after it, instead of
      // queueing one sync per interval behind it.
      if (this.syncing) return this.schedule()
      this.sync().catch(this.opts.onSyncError)
    }, this.opts.syncMs)
    this.timer.unref()
  }

  private async syncBatches() {
    const keys = this.dirty
    this.dirty = []
    for (let i = 0; i < keys.length; i += BATCH_MAX) await this.syncBatch(keys.slice(i, i + BATCH_MAX))
    this.sweep()
  }

  private async syncBatch(keys: string[]) {
    const byWindowMs = new Map<number, [string, Window][]>()
    for (const key of keys) {
      const w = this.windows.get(key)
      if (!w || w.pending === 0) continue
      w.inFlight = w.pending
      w.pending = 0
      const group = byWindowMs.get(w.windowMs)
      if (group) group.push([key, w])
      else byWindowMs.set(w.windowMs, [[key, w]])
    }
    for (const [windowMs, sent] of byWindowMs) await this.send(windowMs, sent)
  }

  /** One script call for the batch; on a cluster one per key (keys of different clients live in different slots), sent together. */
  private async addHits(windowMs: number, sent: [string, Window][]): Promise<number[]> {
    if (!isCluster(this.redis)) return this.redis.addRateHits!(sent.length, ...sent.map(([key]) => key), windowMs, ...sent.map(([, w]) => w.inFlight))
    return (await Promise.all(sent.map(([key, w]) => this.redis.addRateHitsOfKey!(key, windowMs, w.inFlight)))).flat()
  }

  private async send(windowMs: number, sent: [string, Window][]) {
    if (!this.opts.redisUsable()) return this.keepLocal(sent)
    try {
      const reply = await this.addHits(windowMs, sent)
      const at = this.now()
      sent.forEach(([key, w], i) => {
        w.inFlight = 0
        // A window that rolled over here meanwhile starts afresh: the old window's total is not its.
        if (this.windows.get(key) !== w) return
        w.shared = Number(reply[2 * i])
        // Every instance keeps the window Redis keeps, whoever opened it.
        w.resetAt = at + Number(reply[2 * i + 1])
      })
    } catch (err) {
      this.keepLocal(sent)
      this.opts.onSyncError(err)
    }
  }

  /** Redis could not take the hits: they still count here, so this instance's limit stays exact. */
  private keepLocal(sent: [string, Window][]) {
    for (const [, w] of sent) {
      w.shared += w.inFlight
      w.inFlight = 0
    }
  }

  private sweep() {
    const now = this.now()
    if (now - this.lastSweep < SWEEP_EVERY_MS) return
    this.lastSweep = now
    for (const [key, w] of this.windows) if (w.resetAt <= now && w.pending === 0 && w.inFlight === 0) this.windows.delete(key)
  }
}
