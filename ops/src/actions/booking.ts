import { createConcert, warmCatalogueCache } from '@tickets/booking-service/ops'
import { parseOptions, UsageError, usageErrorsExit2, type Action } from '../action.js'

export const bookingActions: Record<string, Action> = {
  'concert:create': {
    describe: 'put a new concert on sale now [--title T --dates 2 --seats 50]; prints its id (for load runs and rehearsals)',
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { values } = parseOptions(args, {
          title: { type: 'string', default: 'Rehearsal' },
          dates: { type: 'string', default: '2' },
          seats: { type: 'string', default: '50' },
        })
        const dates = Number(values.dates)
        const seats = Number(values.seats)
        if (!Number.isInteger(dates) || dates < 1 || dates > 20 || !Number.isInteger(seats) || seats < 1 || seats > 5_000)
          throw new UsageError('--dates takes 1..20 and --seats 1..5000')
        const made = await createConcert(env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking', { title: values.title, dates, seatsPerSchedule: seats })
        console.log(JSON.stringify(made))
        return 0
      }),
  },
  'warm-cache': {
    describe: 'fill the catalogue cache in Redis before an opening [--ttl-hours 24]',
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const hours = Number(parseOptions(args, { 'ttl-hours': { type: 'string', default: '24' } }).values['ttl-hours'])
        if (!Number.isFinite(hours) || hours <= 0) throw new UsageError('--ttl-hours takes a positive number')
        const result = await warmCatalogueCache({
          mysqlUrl: env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking',
          redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          redisPrefix: env.REDIS_PREFIX ?? 'tickets:',
          ttlSeconds: Math.round(hours * 3600),
        })
        console.log(`catalogue cache warmed: ${result.concerts} concerts, ${result.keys} keys (kept ${hours} h)`)
        return 0
      }),
  },
}
