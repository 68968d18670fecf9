import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { migrate as migrateBooking } from '@tickets/booking-service/ops'
import { fanMoves } from '@tickets/contracts/line-commands'
import { presaleCodeHash } from '@tickets/contracts/presale'
import { dropDatabase } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { isolation, mysqlUrl } from '@tickets/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { splitSales } from '../src/actions/presale-sales.js'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const iso = isolation(import.meta.url)
const bookingUrl = mysqlUrl(iso.database('booking'))
await migrateBooking(bookingUrl)
const pool = createPool({ url: bookingUrl, connectionLimit: 2, acquireTimeoutMs: 5_000 })
const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: iso.redisPrefix })
afterAll(async () => {
  redis.disconnect()
  await pool.end()
  await dropDatabase(bookingUrl)
})
const run = promisify(execFile)
const ops = (...args: string[]) =>
  run(process.execPath, [cli, ...args], { env: { ...process.env, REDIS_PREFIX: iso.redisPrefix, BOOKING_MYSQL_URL: bookingUrl, OPERATOR_NAME: 'Kim' } })

async function created(...args: string[]): Promise<{ codes: string[]; validFrom: string; validUntil: string; bypass: boolean }> {
  return JSON.parse((await ops('presale:create', ...args)).stdout)
}

async function sold(concertId: string, userId: string, seats: number, price: number) {
  for (let n = 0; n < seats; n++) {
    await pool.query("INSERT INTO reservations (id, user_id, concert_id, schedule_id, seat_number, price, status, expires_at) VALUES (?, ?, ?, ?, ?, ?, 'CONFIRMED', NOW(3))", [
      randomUUID(),
      userId,
      concertId,
      randomUUID(),
      n + 1,
      price,
    ])
  }
}

describe('npm run ops -- presale:create and presale:report', () => {
  it('when codes are created, then they are printed once and Redis holds only their hashes, with uses and window', async () => {
    const made = await created('c-codes', '--uses', '3', '--window', 'now/+1h', '--count', '2')
    expect(made.codes).toHaveLength(2)
    for (const code of made.codes) expect(code).toMatch(/^[A-Za-z0-9_-]{20}$/)
    expect(Date.parse(made.validUntil) - Date.parse(made.validFrom)).toBe(3_600_000)
    expect((await redis.smembers('{q:c-codes}:presale:codes')).sort()).toEqual(made.codes.map(presaleCodeHash).sort())
    const stored = await redis.hgetall(`{q:c-codes}:presale:code:${presaleCodeHash(made.codes[0]!)}`)
    expect(stored).toMatchObject({ uses: '3', used: '0', bypass: '0', from: String(Date.parse(made.validFrom)), to: String(Date.parse(made.validUntil)) })
    const everything = JSON.stringify(
      await Promise.all((await redis.keys(`${iso.redisPrefix}{q:c-codes}*`)).map((k) => redis.hgetall(k.slice(iso.redisPrefix.length)).catch(() => null))),
    )
    for (const code of made.codes) expect(everything).not.toContain(code)
  }, 60_000)

  it('when the arguments are wrong, then it exits 2 saying why and creates nothing', async () => {
    for (const args of [
      ['c-bad', '--window', 'now/+1h'],
      ['c-bad', '--uses', '0', '--window', 'now/+1h'],
      ['c-bad', '--uses', '2', '--window', '+1h'],
      ['c-bad', '--uses', '2', '--window', '+2h/+1h'],
      ['{c}', '--uses', '2', '--window', 'now/+1h'],
    ]) {
      await expect(ops('presale:create', ...args)).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/usage|--uses|window/) })
    }
    expect(await redis.exists('{q:c-bad}:presale:codes')).toBe(0)
  }, 60_000)

  it('when fans redeemed presale and bypass codes and bought, then the report shows their sales apart from the general ones', async () => {
    const concertId = `c-report-${randomUUID().slice(0, 8)}`
    const presale = (await created(concertId, '--uses', '5', '--window', 'now/+1h')).codes[0]!
    const bypass = (await created(concertId, '--uses', '5', '--window', 'now/+1h', '--bypass')).codes[0]!
    const moves = fanMoves(redis)
    const join = (userId: string, code: string) =>
      moves.joinWithCode({ concertId, userId, codeHash: presaleCodeHash(code), now: Date.now(), activeTtlMs: 600_000, overbook: 1, needKnown: false })
    expect(await join('member', presale)).toMatchObject({ status: 'WAITING', presale: true })
    expect(await join('guest', bypass)).toMatchObject({ status: 'ACTIVE', presale: true })
    expect(await join('waiting', presale)).toMatchObject({ status: 'WAITING' })
    await sold(concertId, 'member', 2, 100)
    await sold(concertId, 'guest', 1, 300)
    await sold(concertId, 'someone', 1, 100)
    await sold('another-concert', 'member', 1, 100)

    const report = JSON.parse((await ops('presale:report', concertId)).stdout)
    expect(report.sales).toEqual({
      presale: { buyers: 1, seats: 2, amount: 200 },
      bypass: { buyers: 1, seats: 1, amount: 300 },
      general: { buyers: 1, seats: 1, amount: 100 },
      redeemed: 3,
    })
    expect(report.codes.map((c: { used: number; bypass: boolean }) => [c.used, c.bypass]).sort()).toEqual([
      [1, true],
      [2, false],
    ])
  }, 60_000)
})

describe('splitSales', () => {
  it('counts a buyer under the code they redeemed, a code no longer listed as presale, and nobody twice', () => {
    const codes = [{ codeHash: 'b', uses: 1, used: 1, from: 0, to: 1, bypass: true }]
    const split = splitSales(
      [
        { userId: 'u1', seats: 1, amount: 10 },
        { userId: 'u2', seats: 2, amount: 20 },
      ],
      codes,
      { u1: 'b', u2: 'gone' },
    )
    expect(split).toEqual({ bypass: { buyers: 1, seats: 1, amount: 10 }, presale: { buyers: 1, seats: 2, amount: 20 }, general: { buyers: 0, seats: 0, amount: 0 }, redeemed: 2 })
  })
})
