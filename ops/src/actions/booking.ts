import { createConcert, setConcertOpening, warmCatalogueCache } from '@tickets/booking-service/ops'
import { isQueueId } from '@tickets/contracts/queue-token'
import { parseOptions, UsageError, usageErrorsExit2, type Action, type Env } from '../action.js'

const bookingDb = (env: Env) => env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking'
const OPENING_HELP = 'an ISO-8601 time, or +N followed by s, m or h from now'

/** An opening as given on the command line: an ISO-8601 time, or `+90s`, `+30m`, `+2h` from now. */
export function parseOpening(value: string, now = Date.now()): Date {
  const relative = /^\+(\d{1,6})([smh])$/.exec(value)
  if (relative) return new Date(now + Number(relative[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[relative[2] as 's' | 'm' | 'h'])
  const at = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN
  if (!Number.isFinite(at)) throw new UsageError(`the opening "${value}" is not ${OPENING_HELP}`)
  return new Date(at)
}

export const bookingActions: Record<string, Action> = {
  'concert:create': {
    describe: 'put a new concert on sale [--title T --dates 2 --seats 50 --opens-at now|ISO|+30m]; prints its id (for load runs and rehearsals)',
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { values } = parseOptions(args, {
          title: { type: 'string', default: 'Rehearsal' },
          dates: { type: 'string', default: '2' },
          seats: { type: 'string', default: '50' },
          'opens-at': { type: 'string' },
        })
        const dates = Number(values.dates)
        const seats = Number(values.seats)
        if (!Number.isInteger(dates) || dates < 1 || dates > 20 || !Number.isInteger(seats) || seats < 1 || seats > 5_000)
          throw new UsageError('--dates takes 1..20 and --seats 1..5000')
        const opensAt = values['opens-at'] === undefined ? undefined : parseOpening(values['opens-at'])
        const made = await createConcert(bookingDb(env), { title: values.title, dates, seatsPerSchedule: seats, opensAt })
        console.log(JSON.stringify(made))
        return 0
      }),
  },
  'concert:open-at': {
    describe: "move a concert's opening (every date): <concertId> <ISO|+30m>; the pre-queue opens PRE_QUEUE_WINDOW_SECONDS before it",
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { positionals } = parseOptions(args, {}, true)
        const [concertId, when] = positionals
        if (!isQueueId(concertId) || when === undefined || positionals.length !== 2) throw new UsageError(`usage: npm run ops -- concert:open-at <concertId> <${OPENING_HELP}>`)
        const opensAt = parseOpening(when)
        const dates = await setConcertOpening(bookingDb(env), concertId, opensAt)
        if (dates === 0) throw new UsageError(`concert ${concertId} has no dates: nothing to open`)
        console.log(JSON.stringify({ concertId, opensAt: opensAt.toISOString(), dates }))
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
          mysqlUrl: bookingDb(env),
          redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          redisPrefix: env.REDIS_PREFIX ?? 'tickets:',
          ttlSeconds: Math.round(hours * 3600),
        })
        console.log(`catalogue cache warmed: ${result.concerts} concerts, ${result.keys} keys (kept ${hours} h)`)
        return 0
      }),
  },
}
