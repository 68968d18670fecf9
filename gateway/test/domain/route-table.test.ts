import { describe, expect, it } from 'vitest'
import { createRouteMatcher, PUBLIC_ROUTES } from '../../src/domain/route-table.js'

const match = createRouteMatcher(PUBLIC_ROUTES)
const routeOf = (method: string, url: string) => {
  const m = match(method, url)
  return m.kind === 'route' ? `${m.route.method} ${m.route.path}` : m.kind
}

describe('the public route table', () => {
  it('when a documented path is asked, then its row is found, query and trailing slash aside', () => {
    expect(routeOf('GET', '/api/concerts')).toBe('GET /api/concerts')
    expect(routeOf('GET', '/api/concerts/?page=2')).toBe('GET /api/concerts')
    expect(routeOf('GET', '/api/concerts/ranking')).toBe('GET /api/concerts/ranking')
    expect(routeOf('GET', '/api/concerts/c1/schedules/s1/seats')).toBe('GET /api/concerts/:concertId/schedules/:scheduleId/seats')
    expect(routeOf('HEAD', '/api/points')).toBe('GET /api/points')
    expect(routeOf('POST', '/api/payments')).toBe('POST /api/payments')
  })

  it('when the path exists with another method, then method-not-allowed with the allowed ones', () => {
    expect(match('PATCH', '/api/queue/token')).toEqual({ kind: 'method-not-allowed', allow: ['POST', 'GET', 'DELETE'] })
  })

  it('when the path is not public, then none', () => {
    expect(routeOf('GET', '/api/concerts/c1')).toBe('none')
    expect(routeOf('GET', '/api/points/ledger')).toBe('none')
    expect(routeOf('GET', '/internal/openapi.json')).toBe('none')
  })

  it("the manual's routes carry their flags: limits per address or user, shedding, the ranking switch, the queue gate", () => {
    const row = (method: string, path: string) => PUBLIC_ROUTES.find((r) => r.method === method && r.path === path)!
    expect(row('POST', '/api/queue/token')).toMatchObject({ rateLimit: 'token', shed: 'join', retryable: false })
    expect(row('POST', '/api/reservations')).toMatchObject({ rateLimit: 'hold', queue: true, access: 'user' })
    expect(row('POST', '/api/payments')).toMatchObject({ rateLimit: 'payment', queue: true, idempotent: true, retryable: false })
    expect(row('GET', '/api/concerts/ranking')).toMatchObject({ feature: 'ranking', access: 'public', retryable: true })
    expect(PUBLIC_ROUTES.filter((r) => r.queue).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/concerts/:concertId/schedules/:scheduleId/seats',
      'POST /api/reservations',
      'POST /api/payments',
    ])
    expect(PUBLIC_ROUTES.filter((r) => r.retryable).every((r) => r.method === 'GET')).toBe(true)
  })
})
