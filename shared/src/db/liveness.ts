import { afterIoDeadline } from '../deadline.js'
import { databaseTrouble } from '../db-errors.js'

/**
 * Once the server gave no connection (refused, or none could be made within the acquire timeout) or
 * did not answer a statement at all, every caller is answered at once and a background probe asks
 * the pool for a connection every DOWN_RETRY_MS until one comes: no request pays for finding out
 * whether it is back.
 */
const DOWN_RETRY_MS = 1_000
const POOL_CLOSED = 45027

/**
 * A stall: work waited on the server (a connection or a statement) and nothing at all was answered
 * for STALL_FACTOR × the usual answer time (at least STALL_MIN_MS). A hung server (SIGSTOP, a frozen
 * VM) accepts connections in its kernel and answers nothing: its callers would each wait the whole
 * acquire timeout. A stall only makes the pool ask the server with a connection of its own; it is
 * down if that fails and still nothing was answered meanwhile.
 */
const STALL_FACTOR = 3
const STALL_MIN_MS = 30
const PROBE_MIN_MS = 120
/** After the server passed a check, the next one waits this long (a long lock wait is silence too). */
const PROBE_AGAIN_MS = 250
const WATCH_EVERY_MS = 20

export interface Liveness {
  /** Acquires and statements waiting on the server now. */
  waiting: number
  /** When `waiting` last rose from 0. */
  busySince: number
  /** When the server last answered a statement (a result or a server error). */
  answeredAt: number
  /** The usual statement time (a moving average), raised at once by a slow handshake of the pool's own check. */
  answerMs: number | undefined
}

export function beginWait(l: Liveness): void {
  if (l.waiting++ === 0) l.busySince = performance.now()
}

/** A result or an error from the server itself (not one of the driver's 45xxx, not a deadline). */
export function serverAnswered(l: Liveness, startedAt: number, err?: unknown): void {
  if (err !== undefined) {
    const errno = (err as { errno?: unknown } | null)?.errno
    if (typeof errno !== 'number' || errno >= 45_000) return
  }
  const now = performance.now()
  const ms = now - startedAt
  l.answeredAt = now
  l.answerMs = l.answerMs === undefined ? ms : 0.8 * l.answerMs + 0.2 * ms
}

/** What the pool knows of its server: answering, stalled or down. */
export interface ServerWatch {
  /** What a stall is judged by (see STALL_FACTOR). */
  readonly liveness: Liveness
  /** The database is known down: acquire() rejects at once until the probe gets a connection. */
  down: boolean
  /** Callers waiting for a connection or a statement's answer, told at once when the database is found down. */
  readonly onDown: Set<() => void>
  /** Asks the server with a connection of its own; marks it down if that fails while nothing is answered. */
  suspect(): void
  markDown(): void
  /** Stops the stall watch (the pool ends). */
  stop(): void
}

export interface ServerWatchOptions {
  acquireTimeoutMs: number
  /** Watch for stalls: only where statements are bounded. */
  watchStalls: boolean
  /** A connection of the check's own, outside the pool. */
  connectOwn: () => Promise<{ end(): Promise<void> }>
  /** A connection from the pool, for the probe while the server is down. */
  fromPool: () => Promise<{ release(): Promise<void> }>
  /** Told when the server is found down, after the callers waiting on it. */
  onFoundDown: () => void
}

export function watchServer(opts: ServerWatchOptions): ServerWatch {
  const liveness: Liveness = { waiting: 0, busySince: 0, answeredAt: 0, answerMs: undefined }
  const server: ServerWatch = { liveness, down: false, onDown: new Set(), suspect, markDown, stop }
  /** How long the server usually takes to answer, times STALL_FACTOR; unknown before its first answer. */
  const usual = (min: number, unknown: number) => (liveness.answerMs === undefined ? unknown : Math.min(Math.max(STALL_FACTOR * liveness.answerMs, min), opts.acquireTimeoutMs))
  /**
   * One connection of our own, outside the pool, asks whether the server is there. Refused, or not
   * made within the usual answer time while the pool got no answer either, it is down now (the pool
   * itself would keep its callers waiting until the acquire timeout). Made later after all, the
   * server is up and slower than it was (a link that became slow): the pool learns its new pace.
   */
  let suspecting = false
  let passedAt = -Infinity
  function suspect() {
    if (server.down || suspecting) return
    suspecting = true
    const since = performance.now()
    const cancelVerdict = afterLoopTime(usual(PROBE_MIN_MS, opts.acquireTimeoutMs), () => {
      if (liveness.answeredAt < since) markDown()
    })
    opts
      .connectOwn()
      .then(
        (conn) => {
          cancelVerdict()
          // A handshake is about two answers from the server: a link that became slow is learnt at once.
          const answerMs = (performance.now() - since) / 2
          liveness.answeredAt = performance.now()
          liveness.answerMs = Math.max(liveness.answerMs ?? 0, answerMs)
          passedAt = liveness.answeredAt
          server.down = false
          return conn.end().catch(() => undefined)
        },
        (err: unknown) => {
          cancelVerdict()
          if (databaseTrouble(err) === 'down' && liveness.answeredAt < since) markDown()
        },
      )
      .finally(() => {
        suspecting = false
      })
  }
  let probing = false
  function markDown() {
    if (server.down) return
    server.down = true
    for (const waiting of server.onDown) waiting()
    opts.onFoundDown()
    if (probing) return
    probing = true
    const probe = () =>
      setTimeout(() => {
        if (!server.down) {
          probing = false
          return
        }
        opts.fromPool().then(
          (conn) => {
            void conn.release().catch(() => undefined)
            server.down = false
            probing = false
          },
          (err: unknown) => {
            if ((err as { errno?: number }).errno !== POOL_CLOSED) probe()
            else probing = false
          },
        )
      }, DOWN_RETRY_MS).unref()
    probe()
  }
  const watch = opts.watchStalls
    ? setInterval(() => {
        if (liveness.waiting === 0 || server.down || performance.now() - passedAt < PROBE_AGAIN_MS) return
        const silentMs = performance.now() - Math.max(liveness.answeredAt, liveness.busySince)
        if (silentMs >= usual(STALL_MIN_MS, opts.acquireTimeoutMs / 2)) suspect()
      }, WATCH_EVERY_MS).unref()
    : undefined
  function stop() {
    clearInterval(watch)
  }
  return server
}

/**
 * Runs `judge` once the event loop has had `ms` to itself, after the I/O that came in meanwhile is
 * read (afterIoDeadline). A deadline that expires late (the loop was busy, or the process got no
 * CPU) starts over: the server had no fair chance to be heard, and the check's own connection may
 * need another answer after the one that sat unread. Returns the cancel.
 */
function afterLoopTime(ms: number, judge: () => void): () => void {
  let cancel = () => {}
  const arm = () => {
    const due = performance.now() + ms
    cancel = afterIoDeadline(ms, () => (performance.now() - due > ms / 2 ? arm() : judge()))
  }
  arm()
  return () => cancel()
}
