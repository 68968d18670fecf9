import { CONCERTS_KEY, lineKeys } from './line-keys.js'
import { estimateWait, LINE_SUMMARY_FIELDS, parseLineSummary } from './queue-line.js'

export type EmergencyMode = 'queue-all' | 'let-all'
export const EMERGENCY_MODES = ['queue-all', 'let-all', 'off'] as const

/** The part of an ioredis client (or Cluster) the controls use. */
export interface ControlsHost {
  hset(key: string, field: string, value: string): Promise<unknown>
  hdel(key: string, field: string): Promise<unknown>
  del(key: string): Promise<unknown>
  hgetall(key: string): Promise<Record<string, string>>
  hget(key: string, field: string): Promise<string | null>
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>
  zcard(key: string): Promise<number>
  smembers(key: string): Promise<string[]>
}

const rounded = (v: string | undefined) => (v === undefined || v === '' ? null : Number(Number(v).toFixed(2)))

/**
 * Operator controls for one concert's line. They write the line's settings hash in Redis, which
 * every queue instance's admission step reads each tick: the change reaches all instances at once.
 * `npm run ops -- queue:*` and the gateway's operator console both use these.
 */
export function lineControls(redis: ControlsHost) {
  const settings = (concertId: string) => lineKeys(concertId).settings
  return {
    pause: (concertId: string) => redis.hset(settings(concertId), 'paused', '1'),
    resume: (concertId: string) => redis.hdel(settings(concertId), 'paused'),
    async emergency(concertId: string, mode: EmergencyMode | 'off') {
      if (mode === 'off') await redis.hdel(settings(concertId), 'mode')
      else await redis.hset(settings(concertId), 'mode', mode)
    },
    setRate: (concertId: string, perSecond: number) => redis.hset(settings(concertId), 'rate', String(perSecond)),
    setCap: (concertId: string, cap: number) => redis.hset(settings(concertId), 'cap', String(cap)),
    /** The concert's own pre-queue window before its opening; null: back to PRE_QUEUE_WINDOW_SECONDS. */
    async setPreQueueWindow(concertId: string, seconds: number | null) {
      if (seconds === null) await redis.hdel(settings(concertId), 'pqw')
      else await redis.hset(settings(concertId), 'pqw', String(seconds))
    },
    /** Back to the environment's defaults and normal mode. */
    reset: (concertId: string) => redis.del(settings(concertId)),
    async status(concertId: string) {
      const k = lineKeys(concertId)
      const [cfg, waiting, active, sold, stats, inventory, onHold, summaryValues] = await Promise.all([
        redis.hgetall(k.settings),
        redis.zcard(k.waiting),
        redis.zcard(k.active),
        redis.hget(k.soldOut, 'soldOut'),
        redis.hgetall(k.stats),
        redis.hgetall(k.inventory),
        redis.zcard(k.holds),
        redis.hmget(k.summary, ...LINE_SUMMARY_FIELDS),
      ])
      const measured = rounded(stats.rate)
      const effective = rounded(stats.eff)
      const summary = parseLineSummary(summaryValues)
      // The wait the last fan in line is told, from the same estimate polls answer with.
      const back =
        waiting > 0
          ? estimateWait(waiting, { measuredRate: measured, deviation: rounded(stats.dev), effectiveRate: effective }, summary?.settings?.fallbackRate ?? effective ?? 0)
          : null
      return {
        concertId,
        waiting,
        active,
        soldOut: sold === '1',
        paused: cfg.paused === '1',
        emergency: (cfg.mode as EmergencyMode | undefined) ?? 'off',
        ratePerSecond: cfg.rate === undefined ? ('default' as const) : Number(cfg.rate),
        activeCap: cfg.cap === undefined ? ('default' as const) : Number(cfg.cap),
        preQueueWindowSeconds: cfg.pqw === undefined ? ('default' as const) : Number(cfg.pqw),
        measuredRatePerSecond: measured,
        effectiveRatePerSecond: effective,
        /** What limited the last admission step, and why the rate is backed off (if it is). */
        limitedBy: stats.why ?? null,
        backoff: stats.health ?? null,
        waitReason: stats.reason || null,
        estimatedWaitAtBack: back ? { seconds: back.seconds, range: back.range } : null,
        inventory:
          inventory.known === '1'
            ? {
                total: Number(inventory.total),
                sold: Number(inventory.sold),
                onHold,
                free: Math.max(0, Number(inventory.total) - Number(inventory.sold) - onHold),
                syncedAt: new Date(Number(inventory.syncedAt)).toISOString(),
              }
            : ('unknown (not yet taken from booking)' as const),
      }
    },
    concerts: () => redis.smembers(CONCERTS_KEY),
  }
}

export type LineControls = ReturnType<typeof lineControls>
export type LineStatus = Awaited<ReturnType<LineControls['status']>>
