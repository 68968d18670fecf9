import { Agent, type Dispatcher } from 'undici'

/** What @fastify/reply-from calls on the `undici` instance it is given: `request` with a callback. */
export type UpstreamAgent = Pick<Dispatcher, 'request' | 'close'>

type RequestCallback = (err: Error | null, data: Dispatcher.ResponseData) => void

export interface UpstreamAgentOptions {
  /** Connections kept per upstream origin. */
  connections: number
  connectTimeoutMs: number
  /** How long a set of connections takes new requests; 0: for ever. */
  connectionTtlMs: number
}

/** reply-from answers a client 504 for this code (a timeout), not a 500. */
function deadlineError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms`), { code: 'UND_ERR_HEADERS_TIMEOUT' })
}

/**
 * The connections to the services, with each request's deadline kept to the millisecond. undici's
 * own headersTimeout runs on a coarse timer (a tick about every half second): a 300 ms deadline
 * fired after about 760 ms. Here a plain timer aborts the request when its answer has not begun
 * by the deadline reply-from passes (`headersTimeout`, from the attempt's `timeout`); undici's
 * timeouts stay as a backstop for the body.
 *
 * A Kubernetes Service (or Docker's DNS) balances connections, not requests: a connection kept for
 * ever never reaches a pod the HPA added. So every `connectionTtlMs` the next requests go to a new
 * undici Agent (new connections, each to a pod picked anew), and the old one closes once the
 * requests it carries are done. undici has no lifetime of its own for a busy connection.
 */
export function createUpstreamAgent(opts: UpstreamAgentOptions): UpstreamAgent {
  const newAgent = () => new Agent({ connections: opts.connections, pipelining: 1, connect: { timeout: opts.connectTimeoutMs } })
  let agent = newAgent()
  const retiring = new Set<Promise<void>>()
  const renewal =
    opts.connectionTtlMs > 0
      ? setInterval(() => {
          const closing = agent.close().finally(() => retiring.delete(closing))
          retiring.add(closing)
          agent = newAgent()
        }, opts.connectionTtlMs).unref()
      : undefined

  function request(options: Dispatcher.RequestOptions, callback: RequestCallback): void {
    const ms = options.headersTimeout
    if (!ms) return void agent.request(options, callback)
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(deadlineError(ms)), ms)
    agent.request({ ...options, signal: abort.signal, headersTimeout: ms + 1_000, bodyTimeout: ms + 1_000 }, (err, data) => {
      clearTimeout(timer)
      callback(err, data)
    })
  }
  async function close() {
    clearInterval(renewal)
    await Promise.all([agent.close(), ...retiring])
  }
  return { request: request as Dispatcher['request'], close: close as Dispatcher['close'] }
}
