import type { Redis } from 'ioredis'
import { CONCERTS_KEY, lineKeys } from '@tickets/contracts/line-keys'
import type { EmergencyMode } from './domain/ports.js'

/**
 * Operator controls for one concert's line. They write the line's settings hash in Redis, which
 * every instance's admission step reads each tick: the change reaches all instances at once.
 */
export function lineControls(redis: Redis) {
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
    /** Back to the environment's defaults and normal mode. */
    reset: (concertId: string) => redis.del(settings(concertId)),
    async status(concertId: string) {
      const k = lineKeys(concertId)
      const [cfg, waiting, active, sold, stats, inventory, onHold] = await Promise.all([
        redis.hgetall(k.settings),
        redis.zcard(k.waiting),
        redis.zcard(k.active),
        redis.hget(k.soldOut, 'soldOut'),
        redis.hgetall(k.stats),
        redis.hgetall(k.inventory),
        redis.zcard(k.holds),
      ])
      const rounded = (v: string | undefined) => (v === undefined || v === '' ? null : Number(Number(v).toFixed(2)))
      return {
        concertId,
        waiting,
        active,
        soldOut: sold === '1',
        paused: cfg.paused === '1',
        emergency: (cfg.mode as EmergencyMode | undefined) ?? 'off',
        ratePerSecond: cfg.rate === undefined ? 'default' : Number(cfg.rate),
        activeCap: cfg.cap === undefined ? 'default' : Number(cfg.cap),
        measuredRatePerSecond: rounded(stats.rate),
        effectiveRatePerSecond: rounded(stats.eff),
        /** What limited the last admission step, and why the rate is backed off (if it is). */
        limitedBy: stats.why ?? null,
        backoff: stats.health ?? null,
        waitReason: stats.reason || null,
        inventory:
          inventory.known === '1'
            ? {
                total: Number(inventory.total),
                sold: Number(inventory.sold),
                onHold,
                free: Math.max(0, Number(inventory.total) - Number(inventory.sold) - onHold),
                syncedAt: new Date(Number(inventory.syncedAt)).toISOString(),
              }
            : 'unknown (not yet taken from booking)',
      }
    },
    concerts: () => redis.smembers(CONCERTS_KEY),
  }
}
