import type { RedisClient, RedisGuard } from '@tickets/shared/redis'
import type { RankingStore } from '../domain/ports.js'

export const RANKING_KEY = 'ranking:sellout'

/** Sell-out ranking as a sorted set: member = concert id, score = seconds it took to sell out. Reads give up within the guard's deadline (the database answers then). */
export function createRedisRankingStore(redis: RedisClient, guard?: RedisGuard): RankingStore {
  return {
    async top(limit) {
      const read = () => redis.zrange(RANKING_KEY, 0, limit - 1, 'WITHSCORES')
      const flat = guard ? await guard.run(read) : await read()
      const out = []
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ concertId: flat[i]!, seconds: Number(flat[i + 1]) })
      return out
    },
    async put({ concertId, seconds }) {
      await redis.zadd(RANKING_KEY, seconds, concertId)
    },
    async remove(concertId) {
      await redis.zrem(RANKING_KEY, concertId)
    },
  }
}
