import { NETWORK_PROBLEM, ProblemError, problemOf } from '../common/problem.js'

const SESSION = 'tickets.operator'

export interface Operator {
  name: string
  secret: string
}

export const operator = {
  get(): Operator | null {
    const raw = sessionStorage.getItem(SESSION)
    return raw ? (JSON.parse(raw) as Operator) : null
  },
  set: (op: Operator) => sessionStorage.setItem(SESSION, JSON.stringify(op)),
  clear: () => sessionStorage.removeItem(SESSION),
}

/** A call to the operator listener, with the secret and the operator's name (every change is recorded under it). */
export async function opCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const op = operator.get()
  const headers: Record<string, string> = { accept: 'application/json' }
  if (op) {
    headers['x-operator-secret'] = op.secret
    headers['x-operator-name'] = op.name
  }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch {
    throw new ProblemError(NETWORK_PROBLEM, null)
  }
  if (!res.ok) throw new ProblemError(await problemOf(res), null)
  return (await res.json()) as T
}
