import { parseRetryAfter } from '@tickets/contracts/poll-timing'
import { NETWORK_PROBLEM, ProblemError, problemOf } from '../common/problem.js'

export interface Reply<T> {
  status: number
  body: T
  retryAfter: number | null
}

const USER_TOKEN = 'tickets.userToken'

export const userToken = {
  get: (): string | null => localStorage.getItem(USER_TOKEN),
  set: (token: string) => localStorage.setItem(USER_TOKEN, token),
  clear: () => localStorage.removeItem(USER_TOKEN),
}

export interface CallOptions {
  body?: unknown
  queueToken?: string
  idempotencyKey?: string
  /** A solved join challenge (X-Queue-Proof). */
  queueProof?: string
}

/** One call to the public API. A problem answer (or no answer) throws ProblemError. */
export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const token = userToken.get()
  if (token) headers.authorization = `Bearer ${token}`
  if (opts.queueToken) headers['x-queue-token'] = opts.queueToken
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey
  if (opts.queueProof) headers['x-queue-proof'] = opts.queueProof
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) })
  } catch {
    throw new ProblemError(NETWORK_PROBLEM, null)
  }
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'))
  if (!res.ok) throw new ProblemError(await problemOf(res), retryAfter)
  const body = res.status === 204 ? (undefined as T) : ((await res.json()) as T)
  return { status: res.status, body, retryAfter }
}
