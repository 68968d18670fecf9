import { AppError } from '@tickets/contracts/errors'

/**
 * Driver (mariadb connector 45xxx) and server error numbers that mean "the database cannot serve
 * this now", not "this request is wrong": no connection free in time, the server gone, refusing or
 * silent, a statement past max_statement_time, a lock held too long by someone else.
 */
const POOL_TIMEOUT = 45028
const UNAVAILABLE_ERRNO = new Set([
  45001, // connection already closed
  45009, // socket closed unexpectedly
  45012, // connect timeout
  45026, // socket timeout
  45027, // pool closed
  45037, // pool ending (the service is shutting down)
  45042, // ping timeout
  1040, // too many connections
  1053, // server shutdown in progress
  1205, // lock wait timeout
  1927, // connection killed
  1969, // max_statement_time exceeded
  2002,
  2003,
  2006,
  2013,
])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'DB_DEADLINE', 'DB_UNREACHABLE'])

/** The code a statement that got no answer within its deadline rejects with (see db/guard.ts). */
export const DB_DEADLINE = 'DB_DEADLINE'
/** The code a request is refused with, unasked, while the database is known down (see db/guard.ts). */
export const DB_UNREACHABLE = 'DB_UNREACHABLE'

type Shape = { errno?: unknown; code?: unknown; sqlState?: unknown; kind?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } }

/**
 * 'busy' when no pooled connection came free in time, 'down' when the database failed to answer,
 * undefined for anything else. Walks `cause` and Prisma's `meta.driverAdapterError`: Prisma wraps
 * the driver's error (`{ kind: 'mysql', code: errno }`, `TooManyConnections`) before it reaches us.
 */
export function databaseTrouble(err: unknown, depth = 0): 'busy' | 'down' | undefined {
  if (!err || typeof err !== 'object' || depth > 6) return undefined
  const e = err as Shape
  const errno = typeof e.errno === 'number' ? e.errno : e.kind === 'mysql' && typeof e.code === 'number' ? e.code : undefined
  // Prisma keeps only the string code of a pool's refusal that carries no sqlMessage (see db/guard.ts).
  if (errno === POOL_TIMEOUT || e.code === 'ER_GET_CONNECTION_TIMEOUT') return 'busy'
  if (errno !== undefined && UNAVAILABLE_ERRNO.has(errno)) return 'down'
  if (e.kind === 'TooManyConnections') return 'down'
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'down'
  if (typeof e.sqlState === 'string' && e.sqlState.startsWith('08')) return 'down'
  return databaseTrouble(e.meta?.driverAdapterError, depth + 1) ?? databaseTrouble(e.cause, depth + 1)
}

/**
 * The problem a database failure is answered with: 503 with Retry-After, never a 500 and never a
 * wait. Undefined when `err` is not a database failure (it stays whatever it is).
 */
export function databaseUnavailable(err: unknown, retryAfterSeconds = 1): AppError | undefined {
  const trouble = databaseTrouble(err)
  if (!trouble) return undefined
  const headers = { 'retry-after': String(retryAfterSeconds) }
  return trouble === 'busy'
    ? new AppError('COMMON_OVERLOADED', 'No database connection free in time; retry shortly', { cause: err, headers })
    : new AppError('COMMON_DEPENDENCY_DOWN', 'The database did not answer in time; retry shortly', { cause: err, headers })
}

const DEADLOCK = 1213
const LOCK_WAIT_TIMEOUT = 1205
const DUPLICATE_KEY = 1062

const errnoOf = (err: unknown) => (err as { errno?: unknown } | null)?.errno

/** InnoDB chose this transaction as a deadlock victim and rolled it back: safe to run again. */
export const isDeadlock = (err: unknown): boolean => errnoOf(err) === DEADLOCK

/** A statement waited past innodb_lock_wait_timeout (0: did not wait at all) for a row someone else holds. */
export const isLockWaitTimeout = (err: unknown): boolean => errnoOf(err) === LOCK_WAIT_TIMEOUT

export const isDuplicateKey = (err: unknown): boolean => errnoOf(err) === DUPLICATE_KEY

/** The unique index a duplicate-key error names, e.g. `payments_standing_reservation_id_key`. */
export function duplicateKeyName(err: unknown): string | undefined {
  return /for key '(?:[^.']*\.)?([^']+)'/.exec((err as Error).message)?.[1]
}
