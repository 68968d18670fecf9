import { Agent, type Dispatcher } from 'undici'

/** What @fastify/reply-from calls on the `undici` instance it is given: `request` with a callback. */
export type UpstreamAgent = Pick<Dispatcher, 'request' | 'close'>

type RequestCallback = (err: Error | null, data: Dispatcher.ResponseData) => void

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
 */
export function createUpstreamAgent(opts: { connections: number; connectTimeoutMs: number }): UpstreamAgent {
  const agent = new Agent({ connections: opts.connections, pipelining: 1, connect: { timeout: opts.connectTimeoutMs } })
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
  return { request: request as Dispatcher['request'], close: () => agent.close() }
}
