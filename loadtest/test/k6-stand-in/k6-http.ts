import { state, violation, type HttpReply } from './state.js'

interface Params {
  headers?: Record<string, string>
  tags?: Record<string, string>
  timeout?: string | number
}

type Body = string | null | undefined | Record<string, string>

/** Go's http.CanonicalHeaderKey, which k6's response headers use: `retry-after` -> `Retry-After`. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())
}

function hasGjsonSyntax(selector: string): boolean {
  return /[#*?|@\\]/.test(selector)
}

function responseOf(method: string, url: string, reply: HttpReply) {
  const headers = Object.fromEntries(Object.entries(reply.headers).map(([k, v]) => [canonical(k), v]))
  let parsed: unknown
  let parsedOk = false
  return {
    status: reply.status,
    headers,
    body: reply.body,
    url,
    request: { method, url },
    timings: { duration: reply.durationMs, waiting: reply.durationMs, blocked: 0, connecting: 0, sending: 0, receiving: 0, tls_handshaking: 0 },
    /** k6's res.json([selector]): the whole body, or a plain dotted gjson path (undefined when absent). */
    json(selector?: string): unknown {
      if (!parsedOk) {
        parsed = JSON.parse(reply.body)
        parsedOk = true
      }
      if (selector === undefined) return parsed
      if (hasGjsonSyntax(selector)) throw new Error(`the k6 stand-in reads only plain dotted selectors, not "${selector}"`)
      let value: unknown = parsed
      for (const key of selector.split('.')) {
        if (value === null || typeof value !== 'object' || !(key in value)) return undefined
        value = (value as Record<string, unknown>)[key]
      }
      return value
    },
  }
}

export function request(method: string, url: string, body?: Body, params: Params = {}) {
  if (state.phase === 'init') violation(`http.${method.toLowerCase()}(${url}) in the init context: k6 makes no requests there`)
  if (body !== null && body !== undefined && typeof body !== 'string') violation('the k6 stand-in sends only string bodies')
  const headers = params.headers ?? {}
  // A Content-Type describes a body: sent without one, a server that parses by it refuses the request.
  if (!body && Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    violation(`http ${method} ${url} sends a Content-Type header without a body`)
  }
  const reply = state.send({ method, url, headers, body: body ?? null })
  return responseOf(method, url, reply)
}

export const get = (url: string, params?: Params) => request('GET', url, null, params)
export const head = (url: string, params?: Params) => request('HEAD', url, null, params)
export const post = (url: string, body?: Body, params?: Params) => request('POST', url, body, params)
export const put = (url: string, body?: Body, params?: Params) => request('PUT', url, body, params)
export const patch = (url: string, body?: Body, params?: Params) => request('PATCH', url, body, params)
export const del = (url: string, body?: Body, params?: Params) => request('DELETE', url, body, params)

export default { request, get, head, post, put, patch, del }
