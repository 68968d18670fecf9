import Fastify from 'fastify'
import { Type } from 'typebox'
import { afterAll, describe, expect, it } from 'vitest'
import { AppError } from '@tickets/contracts/errors'
import { problemDetails, serverOptions } from '../src/http.js'

const app = Fastify({ ...serverOptions({ service: 'test', logLevel: 'silent', bodyLimit: 1024 }) })
await app.register(problemDetails)
app.post(
  '/things',
  { schema: { body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }) } },
  async (request) => request.body,
)
app.delete('/things/:id', async (_request, reply) => reply.code(204).send())
app.get('/taken', async () => {
  throw new AppError('BOOKING_SEAT_TAKEN', 'Seat 7 is already held', { headers: { 'retry-after': '3' } })
})
app.get('/booking-down', async () => {
  throw new AppError('PAYMENT_BOOKING_UNAVAILABLE', 'The booking service did not answer')
})
app.get('/db-down', async () => {
  throw new AppError('COMMON_DEPENDENCY_DOWN', 'The database did not answer', { headers: { 'retry-after': '5' } })
})
app.get('/boom', async () => {
  throw new Error('database password is hunter2')
})
afterAll(() => app.close())

describe('problem details', () => {
  it('when a field has the wrong type and another is missing, then 400 lists each of them', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: { name: '' } })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
    const body = res.json()
    expect(body).toMatchObject({ status: 400, code: 'COMMON_VALIDATION', type: '/errors/common-validation', instance: '/things' })
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body/count', 'body/name'])
  })

  it('when the body has an unknown field, then 400 names it instead of dropping it', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: { name: 'a', count: 1, admin: true } })
    expect(res.statusCode).toBe(400)
    expect(res.json().errors).toEqual([{ path: 'body/admin', message: 'is not allowed' }])
  })

  it('when the body is not JSON, then 400 COMMON_BAD_JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: '{"name":', headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('COMMON_BAD_JSON')
  })

  it('when a DELETE without a body says Content-Type application/json, then it is served', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/things/1', headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(204)
  })

  it('when a route that requires a body gets an empty one as JSON, then 400 COMMON_VALIDATION', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: '', headers: { 'content-type': 'application/json; charset=utf-8' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'COMMON_VALIDATION', errors: [{ path: 'body' }] })
  })

  it('when the body is over the limit, then 413', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: { name: 'x'.repeat(2000), count: 1 } })
    expect(res.statusCode).toBe(413)
    expect(res.json().code).toBe('COMMON_BODY_TOO_LARGE')
  })

  it('when the domain throws a code, then its status, title and headers are used', async () => {
    const res = await app.inject({ method: 'GET', url: '/taken' })
    expect(res.statusCode).toBe(409)
    expect(res.headers['retry-after']).toBe('3')
    expect(res.json()).toMatchObject({ code: 'BOOKING_SEAT_TAKEN', title: 'Seat is already held or sold', detail: 'Seat 7 is already held' })
  })

  it('when a 503 is thrown without a time to come back, then it says Retry-After 1; one that names a time keeps it', async () => {
    const bare = await app.inject({ method: 'GET', url: '/booking-down' })
    expect({ status: bare.statusCode, retryAfter: bare.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '1' })
    const named = await app.inject({ method: 'GET', url: '/db-down' })
    expect({ status: named.statusCode, retryAfter: named.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '5' })
  })

  it('when something unexpected throws, then 500 without the internal message', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom' })
    expect(res.statusCode).toBe(500)
    expect(res.body).not.toContain('hunter2')
    expect(res.json().code).toBe('COMMON_INTERNAL')
  })

  it('when no route matches, then 404 problem', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope?x=1' })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'COMMON_NOT_FOUND', instance: '/nope' })
  })

  it('when the caller sends a traceparent and no span is active, then the problem carries its trace id', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope', headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } })
    expect(res.json().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
  })

  it('when X-Request-Id is well formed it is kept, otherwise replaced', async () => {
    const kept = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'abc-123' } })
    expect(kept.headers['x-request-id']).toBe('abc-123')
    const replaced = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'bad id <script>' } })
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })
})

const routed = Fastify({ ...serverOptions({ service: 'test', logLevel: 'silent' }) })
await routed.register(problemDetails)
routed.get('/items/:id', async () => ({}))
afterAll(() => routed.close())

describe('errors the router raises itself', () => {
  it('when a path segment is longer than the router takes, then 414 problem, not Fastify JSON', async () => {
    const res = await routed.inject({ method: 'GET', url: `/items/${'9'.repeat(300)}` })
    expect(res.statusCode).toBe(414)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json().code).toBe('COMMON_URI_TOO_LONG')
  })

  it('when the URL has a broken %-escape, then 400 problem', async () => {
    const res = await routed.inject({ method: 'GET', url: '/items/%E0%A4%A' })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
  })

  it('when the request id is not a trace id, then the problem still carries 32 hex digits', async () => {
    const res = await app.inject({ method: 'GET', url: '/taken', headers: { 'x-request-id': 'A' } })
    expect(res.json().traceId).toMatch(/^[0-9a-f]{32}$/)
  })
})
