import { warmCatalogueCache } from '@tickets/booking-service/ops'

type Env = Record<string, string | undefined>
type Action = { describe: string; run: (args: string[], env: Env) => Promise<number> }

export const bookingActions: Record<string, Action> = {
  'warm-cache': {
    describe: 'fill the catalogue cache in Redis before an opening [--ttl-hours 24]',
    async run(args, env) {
      const i = args.indexOf('--ttl-hours')
      const hours = i >= 0 ? Number(args[i + 1]) : 24
      if (!Number.isFinite(hours) || hours <= 0) {
        console.error('--ttl-hours takes a positive number')
        return 2
      }
      const result = await warmCatalogueCache({
        mysqlUrl: env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking',
        redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        redisPrefix: env.REDIS_PREFIX ?? 'tickets:',
        ttlSeconds: Math.round(hours * 3600),
      })
      console.log(`catalogue cache warmed: ${result.concerts} concerts, ${result.keys} keys (kept ${hours} h)`)
      return 0
    },
  },
}
