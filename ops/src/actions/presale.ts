import { presaleCodes } from '@tickets/contracts/presale'
import { recordChange } from '@tickets/contracts/operator-audit'
import { isQueueId } from '@tickets/contracts/queue-token'
import { createRedis, whenRedisReady, type RedisClient } from '@tickets/shared/redis'
import { redactedUrl } from '@tickets/shared/redis-topology'
import { operatorName, parseOptions, UsageError, usageErrorsExit2, type Action, type Env } from '../action.js'
import { parseOpening } from './booking.js'
import { readConcertSales } from './booking-facts.js'
import { splitSales } from './presale-sales.js'

const bookingDb = (env: Env) => env.BOOKING_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking'
const CREATE_USAGE = 'usage: npm run ops -- presale:create <concertId> --uses N --window <from>/<to> [--bypass] [--count K]   (from, to: now, an ISO time or +N s, m or h)'
const MAX_CODES = 10_000

async function withRedis<T>(env: Env, run: (redis: RedisClient) => Promise<T>): Promise<T> {
  const url = env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redis = createRedis(url, env.REDIS_PREFIX ?? 'tickets:')
  redis.on('error', () => undefined)
  try {
    if (!(await whenRedisReady(redis, 3_000))) throw new Error(`Redis at ${redactedUrl(url)} is not reachable`)
    return await run(redis)
  } finally {
    redis.disconnect()
  }
}

/** `<from>/<to>`, each `now`, an ISO time or `+30m`: a window that ends after it starts and after now. */
export function parseWindow(value: string, now = Date.now()): { from: number; to: number } {
  const parts = value.split('/')
  if (parts.length !== 2) throw new UsageError(`the window "${value}" is not <from>/<to>`)
  const [from, to] = parts.map((p) => (p === 'now' ? now : parseOpening(p, now).getTime())) as [number, number]
  if (to <= from) throw new UsageError('the window must end after it starts')
  if (to <= now) throw new UsageError('the window has ended already')
  return { from, to }
}

function wholeNumber(value: string | undefined, name: string, max: number): number {
  const n = Number(value)
  if (value === undefined || !/^\d+$/.test(value) || n < 1 || n > max) throw new UsageError(`${name} takes a whole number 1..${max}`)
  return n
}

export const presaleActions: Record<string, Action> = {
  'presale:create': {
    describe: 'create presale codes for a concert <concertId> --uses N --window <from>/<to> [--bypass] [--count K]; prints them once',
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { values, positionals } = parseOptions(
          args,
          { uses: { type: 'string' }, window: { type: 'string' }, bypass: { type: 'boolean', default: false }, count: { type: 'string', default: '1' } },
          true,
        )
        const [concertId] = positionals
        if (!isQueueId(concertId) || positionals.length !== 1 || values.window === undefined) throw new UsageError(CREATE_USAGE)
        const uses = wholeNumber(values.uses, '--uses', 1_000_000)
        const count = wholeNumber(values.count, '--count', MAX_CODES)
        const { from, to } = parseWindow(values.window)
        const spec = { concertId, uses, from, to, bypass: values.bypass }
        const codes = await withRedis(env, async (redis) => {
          const made = await presaleCodes(redis).create(spec, count)
          await recordChange(redis, { who: operatorName(env), action: 'presale:create', target: concertId, value: `${count} x ${uses} uses${values.bypass ? ', bypass' : ''}` })
          return made
        })
        console.log(JSON.stringify({ concertId, uses, validFrom: new Date(from).toISOString(), validUntil: new Date(to).toISOString(), bypass: values.bypass, codes }))
        return 0
      }),
  },
  'presale:report': {
    describe: "a concert's presale codes and its sales apart: presale, bypass and general <concertId>",
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { positionals } = parseOptions(args, {}, true)
        const [concertId] = positionals
        if (!isQueueId(concertId) || positionals.length !== 1) throw new UsageError('usage: npm run ops -- presale:report <concertId>')
        const { codes, redeemers } = await withRedis(env, async (redis) => {
          const store = presaleCodes(redis)
          return { codes: await store.list(concertId), redeemers: await store.redeemers(concertId) }
        })
        const sales = splitSales(await readConcertSales(bookingDb(env), concertId), codes, redeemers)
        const listed = codes.map((c) => ({
          code: c.codeHash.slice(0, 12),
          uses: c.uses,
          used: c.used,
          bypass: c.bypass,
          validFrom: new Date(c.from).toISOString(),
          validUntil: new Date(c.to).toISOString(),
        }))
        console.log(JSON.stringify({ concertId, codes: listed, sales }))
        return 0
      }),
  },
}
