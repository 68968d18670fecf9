import { createConcert, warmCatalogueCache } from '@tickets/booking-service/ops'

type Env = Record<string, string | undefined>
type Action = { describe: string; run: (args: string[], env: Env) => Promise<number> }

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

export const bookingActions: Record<string, Action> = {
  'concert:create': {
    describe: 'put a new concert on sale now [--title T --dates 2 --seats 50]; prints its id (for load runs and rehearsals)',
    async run(args, env) {
      const dates = Number(option(args, '--dates') ?? 2)
      const seats = Number(option(args, '--seats') ?? 50)
      if (!Number.isInteger(dates) || dates < 1 || dates > 20 || !Number.isInteger(seats) || seats < 1 || seats > 5_000) {
        console.error('--dates takes 1..20 and --seats 1..5000')
        return 2
      }
      const made = await createConcert(env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking', { title: option(args, '--title') ?? 'Rehearsal', dates, seatsPerSchedule: seats })
      console.log(JSON.stringify(made))
      return 0
    },
  },
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
