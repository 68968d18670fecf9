import { Pool } from 'undici'
import { isExpectedStatus } from '../scenarios.js'
import type { Stats } from './stats.js'

export interface Reply {
  status: number
  body: unknown
  retryAfter: number | null
}

/**
 * A keep-alive HTTP client for many simulated fans on one machine. Each call records its step,
 * status and latency; a network error counts as an unexpected failure with status 0.
 */
export function createClient(baseUrl: string, stats: Stats, opts: { connections?: number; timeoutMs?: number } = {}) {
  // One pool for the one origin, asked by path: no URL parsed per request (about a quarter less
  // of the runner's CPU per request than request(url) through an Agent; docs/benchmarks.md).
  const base = new URL(baseUrl)
  const prefix = base.pathname.replace(/\/$/, '')
  const pool = new Pool(base.origin, {
    connections: opts.connections ?? 256,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: opts.timeoutMs ?? 30_000,
    bodyTimeout: opts.timeoutMs ?? 30_000,
  })
  return {
    async call(step: string, method: 'GET' | 'POST' | 'DELETE', path: string, headers: Record<string, string>, body?: unknown, retry = false): Promise<Reply> {
      const started = performance.now()
      try {
        const res = await pool.request({
          path: prefix + path,
          method,
          headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        const text = await res.body.text()
        const ms = performance.now() - started
        const retryAfterHeader = res.headers['retry-after']
        const retryAfter = retryAfterHeader === undefined ? null : Number(retryAfterHeader)
        stats.request(step, res.statusCode, ms, isExpectedStatus(step, res.statusCode, retryAfter !== null, retry))
        let parsed: unknown = null
        try {
          parsed = text ? JSON.parse(text) : null
        } catch {
          parsed = text
        }
        return { status: res.statusCode, body: parsed, retryAfter: Number.isFinite(retryAfter) ? retryAfter : null }
      } catch (err) {
        stats.request(step, 0, performance.now() - started, false, (err as { code?: string }).code ?? 'error')
        return { status: 0, body: null, retryAfter: null }
      }
    },
    /**
     * As a well-behaved client does: after a 429 or 503 that says Retry-After, wait and try again
     * (a few times at most). Every attempt is recorded; shed or limited requests never reached a service.
     */
    async callPolitely(step: string, method: 'GET' | 'POST' | 'DELETE', path: string, headers: Record<string, string>, body?: unknown, attempts = 5): Promise<Reply> {
      let reply = await this.call(step, method, path, headers, body)
      for (let i = 1; i < attempts && (reply.status === 429 || reply.status === 503) && reply.retryAfter !== null; i++) {
        await new Promise((r) => setTimeout(r, Math.min(reply.retryAfter ?? 1, 15) * 1000 * (0.5 + Math.random())))
        reply = await this.call(step, method, path, headers, body, true)
      }
      return reply
    },
    close: () => pool.close(),
  }
}
export type Client = ReturnType<typeof createClient>
