import { DB_DEADLINE, DB_UNREACHABLE } from '../db-errors.js'
import type { ConnectionLine } from '../connection-line.js'
import type { ServerWatch } from './liveness.js'

/** What the pool's wrappers share: bounds, the line for connections, and what it knows of the server. */
export interface Guard {
  /** Client-side wait for one statement's answer; 0: unbounded. */
  deadlineMs: number
  acquireTimeoutMs: number
  database: string
  /** Who gets the next connection (work under way first), and who is refused at once. */
  line: ConnectionLine
  server: ServerWatch
  observe?: StatementObserver
  /** Callers refused a connection because every one was lent out (the database answering). */
  busyRefusals: number
}

/**
 * Told of every statement: its operation, how long it took, and whether it gave up waiting for a
 * lock another session holds (errno 1205; not for a statement that sets its own lock wait, such as
 * the hold's NOWAIT, which expects to give up).
 */
export type StatementObserver = (operation: string, seconds: number, gaveUpOnLock: boolean) => void

const guards = new WeakMap<object, Guard>()

/** The guard of a pool made by createPool; undefined for any other pool. */
export function guardOf(pool: object): Guard | undefined {
  return guards.get(pool)
}

export function keepGuard(pool: object, guard: Guard): void {
  guards.set(pool, guard)
}

/** The pool's own timeout error (errno 45028), which databaseTrouble calls busy; counted for db_pool_refused_total. */
export function poolBusy(guard: Guard, message: string): Error {
  guard.busyRefusals++
  return Object.assign(new Error(message), { errno: 45028, code: 'ER_GET_CONNECTION_TIMEOUT', sqlState: 'HY000' })
}

export function deadlineError(ms: number): Error {
  return Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: DB_DEADLINE })
}

export function downError(message: string): Error {
  return Object.assign(new Error(message), { code: DB_UNREACHABLE })
}
