import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Redis } from 'ioredis'

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis
  }
}

/**
 * Fails fast while Redis is down (no offline queue, one retry per command) so callers can fall
 * back to the database at once instead of hanging; reconnects in the background.
 */
export function createRedis(url: string, keyPrefix: string): Redis {
  return new Redis(url, {
    keyPrefix,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
  })
}

export const redisPlugin = fp(
  async (app: FastifyInstance, opts: { url: string; keyPrefix: string }) => {
    const redis = createRedis(opts.url, opts.keyPrefix)
    redis.on('error', (err) => app.log.debug({ err }, 'redis error'))
    app.decorate('redis', redis)
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect())
    })
  },
  { name: 'redis', fastify: '5.x' },
)

export async function pingRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`)
  await redis.ping()
}
