import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * What the work running now may claim of the pool: whether it is work under way, and until when its
 * caller still listens (performance.now() ms). Work under way is a request that already got one
 * connection (its next steps: a payment between its charge and its confirmation), or booking's part
 * of a payment under way (an RPC that says so).
 */
export interface Claim {
  underWay: boolean
  until?: number | undefined
}

const claims = new AsyncLocalStorage<Claim>()

/**
 * Runs the rest of a request (Fastify's onRequest `done`) with a claim of its own: new work until it
 * gets its first connection. `until`: when its caller stops listening (performance.now() ms).
 */
export function claimForRequest(next: () => void, until?: number): void {
  claims.run({ underWay: false, until }, next)
}

/**
 * Runs `work` under no request's claim: background work that a request only set going (the outbox
 * relay's kick) must not wait by that request's deadline, nor go first as its work under way.
 */
export function outsideRequests<T>(work: () => T): T {
  return claims.exit(work)
}

/** Runs `work` for a caller that stops listening after `ms`: no connection is waited for past that. */
export function forCallerWithin<T>(ms: number, work: () => Promise<T>, opts: { underWay?: boolean | undefined } = {}): Promise<T> {
  const outer = claims.getStore()
  const until = performance.now() + ms
  return claims.run({ underWay: opts.underWay ?? outer?.underWay ?? false, until: outer?.until === undefined ? until : Math.min(outer.until, until) }, work)
}

export function currentClaim(): Claim | undefined {
  return claims.getStore()
}

/**
 * A connection's turn: `lent` once the driver gave the connection, `giveBack` once it is back in the
 * pool (again is harmless).
 */
export type Turn = { lent: () => void; giveBack: () => void }

interface Waiter {
  since: number
  until: number
  grant: (turn: Turn) => void
  refuse: (why: string) => void
}

export interface ConnectionLine {
  /**
   * A turn for one connection within `waitMs`, or a refusal (the reason) when none can come in
   * time. While every connection is lent out, new work is refused at once when `maxWaiting` new
   * callers already wait, or when it would expect to wait longer than `waitMs`; work under way is
   * never refused for the line's length.
   */
  enter(entry: { underWay: boolean; waitMs: number }): Promise<Turn>
  /** Every caller in the line refused now (the database was found down). */
  refuseAll(why: string): void
  /** Callers waiting for a turn. */
  waiting(): number
}

/** Weight of the newest hold in the usual hold time. */
const HOLD_WEIGHT = 0.2
/**
 * Work under way that has waited longer than a usual hold (and at least this) means the pool is
 * behind on what it already admitted: new work is refused at once until it catches up. Estimates
 * alone admitted new requests whose later steps then queued behind each other (drill 3.2.3: a
 * payment's begin waited 390 ms in booking's line).
 */
const OVERDUE_MIN_MS = 20
/**
 * While work under way came in this recently, new work leaves one connection free for it. A
 * payment's next step otherwise found every connection lent to new reads and holds and waited out
 * their hold: in drill 3.2.3 (pools of 3, a link 50 ms slower) a payment's begin and confirm each
 * waited 105 to 145 ms for booking's connections, the last tenth of a second over 1 s.
 */
const KEEP_FREE_FOR_WORK_UNDER_WAY_MS = 1_000

/**
 * The wait for a pooled connection, in front of the driver's own queue: that one serves first come
 * first served and makes each caller wait its whole acquire timeout before refusing it. With pools
 * of 3 on a database 50 ms slower (drill 3.2.3), a payment's four steps each queued behind new
 * reads and holds, so payments took up to 3 s and many 503s came after a 1-s wait. Here:
 * - work under way goes first: what it already holds (a charge, a seat being paid) is wasted if
 *   it waits out a deadline behind work that has not started;
 * - new work that would wait longer than it may is refused at once, from how long a connection is
 *   usually held and how many wait ahead of it, and again whenever work under way passes it;
 * - no new work is admitted while work under way is overdue (OVERDUE_MIN_MS);
 * - while work under way comes in, new work leaves one connection free for it
 *   (KEEP_FREE_FOR_WORK_UNDER_WAY_MS), in pools of more than one.
 */
export function createConnectionLine(size: number, maxWaiting: number): ConnectionLine {
  let free = size
  /** Turns whose connection the driver is still making (a pool starting): no reason to refuse anyone yet. */
  let connecting = 0
  let holdMs: number | undefined
  let underWayCameAt = Number.NEGATIVE_INFINITY
  const underWay: Waiter[] = []
  const fresh: Waiter[] = []

  /** Connections new work must leave free: one while work under way keeps coming, in pools of more than one. */
  const keptFree = () => (size > 1 && performance.now() - underWayCameAt < KEEP_FREE_FOR_WORK_UNDER_WAY_MS ? 1 : 0)

  /** When the `place`th caller in line can expect a connection: `size` are handed back per usual hold. */
  const expectedWaitMs = (place: number) => (holdMs === undefined ? 0 : (place * holdMs) / size)

  function turn(): Turn {
    let lentAt: number | undefined
    let back = false
    connecting++
    return {
      lent() {
        if (lentAt !== undefined || back) return
        lentAt = performance.now()
        connecting--
      },
      giveBack() {
        if (back) return
        back = true
        if (lentAt === undefined) connecting--
        else {
          const held = performance.now() - lentAt
          holdMs = holdMs === undefined ? held : (1 - HOLD_WEIGHT) * holdMs + HOLD_WEIGHT * held
        }
        const next = underWay.shift() ?? (free + 1 > keptFree() ? fresh.shift() : undefined)
        if (next) next.grant(turn())
        else free++
      },
    }
  }

  /** New callers whose expected wait now passes their time (work under way went before them) are told now. */
  function refuseHopeless() {
    if (connecting > 0) return
    const now = performance.now()
    for (let i = fresh.length - 1; i >= 0; i--) {
      const waiter = fresh[i]!
      const expected = expectedWaitMs(underWay.length + i + 1)
      if (expected > waiter.until - now) waiter.refuse(`${underWay.length + i} callers wait ahead, about ${Math.round(expected)} ms at the usual hold`)
    }
  }

  return {
    enter({ underWay: urgent, waitMs }) {
      if (urgent) underWayCameAt = performance.now()
      if (free > (urgent ? 0 : keptFree())) {
        free--
        return Promise.resolve(turn())
      }
      if (waitMs <= 0) return Promise.reject(new Error('every connection is lent out and the caller has no time left to wait'))
      if (!urgent && connecting === 0) {
        const behind = underWay.length > 0 ? performance.now() - underWay[0]!.since : 0
        if (behind > Math.max(holdMs ?? 0, OVERDUE_MIN_MS))
          return Promise.reject(new Error(`every connection is lent out and work under way already waits ${Math.round(behind)} ms for one`))
        if (fresh.length >= maxWaiting) return Promise.reject(new Error(`every connection is lent out and ${fresh.length + underWay.length} callers already wait for one`))
        const expected = expectedWaitMs(underWay.length + fresh.length + 1)
        if (expected > waitMs)
          return Promise.reject(
            new Error(`every connection is lent out and ${fresh.length + underWay.length} callers wait ahead, about ${Math.round(expected)} ms at the usual hold`),
          )
      }
      const line = urgent ? underWay : fresh
      return new Promise<Turn>((resolve, reject) => {
        const leave = () => {
          clearTimeout(timer)
          const at = line.indexOf(waiter)
          if (at >= 0) line.splice(at, 1)
        }
        const waiter: Waiter = {
          since: performance.now(),
          until: performance.now() + waitMs,
          grant(t) {
            clearTimeout(timer)
            resolve(t)
          },
          refuse(why) {
            leave()
            reject(new Error(why))
          },
        }
        const timer = setTimeout(() => waiter.refuse(`no connection within ${Math.round(waitMs)} ms`), waitMs)
        line.push(waiter)
        if (urgent) refuseHopeless()
      })
    },
    refuseAll(why) {
      for (const waiter of [...underWay, ...fresh]) waiter.refuse(why)
    },
    waiting: () => underWay.length + fresh.length,
  }
}
