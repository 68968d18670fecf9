import { describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import { claimForRequest, createConnectionLine, currentClaim, forCallerWithin, type Claim, type ConnectionLine, type Turn } from '../src/connection-line.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The line learns that a connection is usually held about `ms`. */
async function learnHold(line: ConnectionLine, ms: number) {
  const turn = await lend(line.enter({ underWay: false, waitMs: 500 }))
  await sleep(ms)
  turn.giveBack()
}

/** A turn whose connection the driver gave. */
async function lend(entered: Promise<Turn>) {
  const turn = await entered
  turn.lent()
  return turn
}

/** Settles to 'ok' (with the turn) or 'refused', and when. */
function watch(entered: Promise<Turn>) {
  const started = performance.now()
  const result: { outcome?: 'ok' | 'refused'; ms?: number; turn?: Turn; order?: number } = {}
  const settled = entered.then(
    (turn) => Object.assign(result, { outcome: 'ok', turn, ms: performance.now() - started }),
    () => Object.assign(result, { outcome: 'refused', ms: performance.now() - started }),
  )
  return { result, settled }
}

/** Each waiter gets its turn, uses the connection and gives it back. */
async function allServed(waiters: ReturnType<typeof watch>[]) {
  for (const w of waiters) {
    await w.settled
    expect(w.result.outcome).toBe('ok')
    w.result.turn!.lent()
    w.result.turn!.giveBack()
  }
}

/** Refused at once, not after a wait. */
async function refusedAtOnce(waiter: ReturnType<typeof watch>) {
  await waiter.settled
  expect(waiter.result.outcome).toBe('refused')
  expect(waiter.result.ms).toBeLessThan(20)
}

describe('the wait for a connection', () => {
  it('when work under way and new work both wait, then the connection given back goes to the work under way first', async () => {
    const line = createConnectionLine(1, 10)
    const held = await lend(line.enter({ underWay: false, waitMs: 500 }))
    const order: string[] = []
    const newer = line.enter({ underWay: false, waitMs: 500 }).then((t) => (order.push('new'), t))
    const underWay = line.enter({ underWay: true, waitMs: 1_000 }).then((t) => (order.push('under way'), t))
    expect(line.waiting()).toBe(2)
    held.giveBack()
    ;(await underWay).giveBack()
    ;(await newer).giveBack()
    expect(order).toEqual(['under way', 'new'])
    expect(line.waiting()).toBe(0)
  })

  it('when new work could not be served within its expected wait, then it is refused at once, not after waiting', async () => {
    const line = createConnectionLine(1, 100)
    await learnHold(line, 100)
    const held = await lend(line.enter({ underWay: false, waitMs: 450 }))
    // Places 1 to 4 expect about 100 to 400 ms and are admitted; the 5th expects about 500.
    const admitted = Array.from({ length: 4 }, () => watch(line.enter({ underWay: false, waitMs: 450 })))
    const fifth = watch(line.enter({ underWay: false, waitMs: 450 }))
    await refusedAtOnce(fifth)
    expect(line.waiting()).toBe(4)
    held.giveBack()
    await allServed(admitted)
  })

  it('when work under way passes new work that can then not be served in time, then it is refused at that moment', async () => {
    const line = createConnectionLine(1, 100)
    await learnHold(line, 100)
    const held = await lend(line.enter({ underWay: false, waitMs: 450 }))
    const fresh = Array.from({ length: 4 }, () => watch(line.enter({ underWay: false, waitMs: 450 })))
    // Two payments' next steps go ahead: the 3rd and 4th new callers now expect about 500 and 600 ms.
    const underWay = [0, 1].map(() => watch(line.enter({ underWay: true, waitMs: 1_000 })))
    for (const w of fresh.slice(2)) await refusedAtOnce(w)
    expect(line.waiting()).toBe(4)
    held.giveBack()
    await allServed([...underWay, ...fresh.slice(0, 2)])
  })

  it('when work under way has waited longer than a usual hold, then new work is refused at once until it is served', async () => {
    const line = createConnectionLine(1, 100)
    await learnHold(line, 30)
    const held = await lend(line.enter({ underWay: false, waitMs: 1_000 }))
    const underWay = watch(line.enter({ underWay: true, waitMs: 2_000 }))
    const early = watch(line.enter({ underWay: false, waitMs: 1_000 }))
    await sleep(60)
    const late = watch(line.enter({ underWay: false, waitMs: 1_000 }))
    await refusedAtOnce(late)
    held.giveBack()
    await allServed([underWay, early])
    // Caught up: new work is admitted again.
    const again = await line.enter({ underWay: false, waitMs: 100 })
    again.giveBack()
  })

  it('when the line of new work is full, then work under way still waits its turn', async () => {
    const line = createConnectionLine(1, 2)
    const held = await lend(line.enter({ underWay: false, waitMs: 500 }))
    const fresh = [0, 1].map(() => watch(line.enter({ underWay: false, waitMs: 500 })))
    const third = watch(line.enter({ underWay: false, waitMs: 500 }))
    const underWay = watch(line.enter({ underWay: true, waitMs: 1_000 }))
    await third.settled
    expect(third.result.outcome).toBe('refused')
    held.giveBack()
    await allServed([underWay, ...fresh])
  })

  it('when work under way came in the last second, then new work leaves one connection free for it until it stops', async () => {
    const line = createConnectionLine(3, 10)
    ;(await lend(line.enter({ underWay: true, waitMs: 500 }))).giveBack()
    const reads = [await lend(line.enter({ underWay: false, waitMs: 500 })), await lend(line.enter({ underWay: false, waitMs: 500 }))]
    const third = watch(line.enter({ underWay: false, waitMs: 500 }))
    await sleep(20)
    expect(third.result.outcome).toBeUndefined()
    // The next step of a payment finds the connection kept for it, without waiting out a read.
    const step = watch(line.enter({ underWay: true, waitMs: 500 }))
    await sleep(0)
    expect(step.result.outcome).toBe('ok')
    step.result.turn!.lent()
    step.result.turn!.giveBack()
    // A read given back lets the waiting one in: one connection is still free behind it.
    reads[0]!.giveBack()
    await third.settled
    expect(third.result.outcome).toBe('ok')
    third.result.turn!.lent()
    for (const t of [reads[1]!, third.result.turn!]) t.giveBack()

    await sleep(1_050)
    const all = [0, 1, 2].map(() => watch(line.enter({ underWay: false, waitMs: 500 })))
    await sleep(0)
    expect(all.map((w) => w.result.outcome)).toEqual(['ok', 'ok', 'ok'])
    for (const w of all) w.result.turn!.giveBack()
  })

  it('when the pool has one connection, then new work takes it even while work under way comes in', async () => {
    const line = createConnectionLine(1, 10)
    ;(await lend(line.enter({ underWay: true, waitMs: 500 }))).giveBack()
    const read = watch(line.enter({ underWay: false, waitMs: 500 }))
    await sleep(0)
    expect(read.result.outcome).toBe('ok')
    read.result.turn!.giveBack()
  })

  it('when the driver is still making the connections, then a burst of new work waits for them instead of being refused', async () => {
    const line = createConnectionLine(1, 1)
    await learnHold(line, 100)
    const connecting = await line.enter({ underWay: false, waitMs: 450 })
    const burst = Array.from({ length: 6 }, () => watch(line.enter({ underWay: false, waitMs: 450 })))
    connecting.lent()
    connecting.giveBack()
    await allServed(burst)
  })

  it('when a caller has no time left, or its wait runs out, or everyone is refused, then it is told and its place is free', async () => {
    const line = createConnectionLine(1, 10)
    const held = await lend(line.enter({ underWay: false, waitMs: 500 }))
    const none = watch(line.enter({ underWay: true, waitMs: 0 }))
    const short = watch(line.enter({ underWay: true, waitMs: 50 }))
    await none.settled
    await short.settled
    expect(none.result).toMatchObject({ outcome: 'refused' })
    expect(short.result.outcome).toBe('refused')
    expect(short.result.ms).toBeGreaterThanOrEqual(45)
    const waiting = [0, 1].map(() => watch(line.enter({ underWay: false, waitMs: 1_000 })))
    line.refuseAll('down')
    for (const w of waiting) {
      await w.settled
      expect(w.result.outcome).toBe('refused')
    }
    expect(line.waiting()).toBe(0)
    held.giveBack()
    held.giveBack()
    // Given back once only: one free connection, so a second caller waits.
    const first = await line.enter({ underWay: false, waitMs: 100 })
    const second = watch(line.enter({ underWay: false, waitMs: 30 }))
    await second.settled
    expect(second.result.outcome).toBe('refused')
    first.giveBack()
  })

  it('when work runs for a caller with a deadline inside another, then the nearer deadline wins and under way carries over', async () => {
    expect(currentClaim()).toBeUndefined()
    await forCallerWithin(
      1_000,
      async () => {
        await sleep(1)
        const outer = currentClaim()!
        expect(outer.underWay).toBe(true)
        await forCallerWithin(5_000, async () => {
          expect(currentClaim()).toEqual({ underWay: true, until: outer.until })
        })
      },
      { underWay: true },
    )
    await forCallerWithin(100, async () => expect(currentClaim()!.underWay).toBe(false))
  })

  it('when requests reach a Fastify app with the claim hook, then each handler sees a claim of its own, kept across awaits', async () => {
    const app = Fastify()
    app.addHook('onRequest', (_request, _reply, done) => claimForRequest(done))
    const seen: (Claim | undefined)[] = []
    app.get('/', async () => {
      await sleep(5)
      const claim = currentClaim()
      seen.push(claim)
      if (claim) claim.underWay = true
      return 'ok'
    })
    await Promise.all([app.inject('/'), app.inject('/')])
    await app.close()
    expect(seen).toHaveLength(2)
    expect(seen[0]).toBeDefined()
    expect(seen[0]).not.toBe(seen[1])
  })
})
