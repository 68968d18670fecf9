import { signUserToken } from '@tickets/contracts/auth'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PUBLIC_ROUTES, type PublicRoute } from '../src/domain/route-table.js'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { realServices } from './helpers/real-services.js'
import { anUpstream } from './helpers/upstream.js'

const services = await realServices(import.meta.url)
const queue = await anUpstream('queue')
const { app } = await buildTestApp(import.meta.url, { QUEUE_URLS: queue.url, BOOKING_URLS: services.bookingUrl, PAYMENT_URLS: services.paymentUrl, BODY_LIMIT_BYTES: '4096' })
const validToken = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: '1' })}`

const BODY_FIELDS: Record<string, string[]> = {
  '/api/queue/token': ['concertId'],
  '/api/reservations': ['scheduleId', 'seatNumber'],
  '/api/points/charge': ['amount'],
  '/api/payments': ['reservationId'],
}

const oddStrings = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e\u0041', '\ud83c\udfab', 'e\u0301', '\uffff', 'null', '0', '-1', '1e309', "' OR 1=1 --", '../..', '%00', '9'.repeat(300)),
)
const hugeNumbers = fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 1.5, -0, 10_000_001)
const anyValue = fc.oneof(oddStrings, hugeNumbers, fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }))

/** Arrays and objects inside one another, from a little to far past any bound, sometimes left open. */
function deep(field: string) {
  return fc
    .record({ depth: fc.integer({ min: 1, max: 6_000 }), open: fc.constantFrom('[', '{"a":', `{"${field}":`, '[{"b":'), closed: fc.boolean() })
    .map(({ depth, open, closed }) => {
      const close = open.startsWith('[') ? (open.length > 1 ? '}]' : ']') : '}'
      return `${open.repeat(depth)}1${closed ? close.repeat(depth) : ''}`
    })
}

/** Many keys or many elements side by side, up to past the body limit. */
function wide(field: string) {
  return fc
    .record({ n: fc.integer({ min: 100, max: 5_000 }), asKeys: fc.boolean() })
    .map(({ n, asKeys }) =>
      asKeys ? JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`${field}${i}`, i]))) : JSON.stringify({ [field]: Array.from({ length: n }, (_, i) => i) }),
    )
}

function bodies(route: PublicRoute) {
  const fields = BODY_FIELDS[route.path] ?? ['id']
  const json = fc.oneof(
    fc.record(Object.fromEntries(fields.map((f) => [f, anyValue])), { requiredKeys: [] }),
    fc.tuple(fc.record(Object.fromEntries(fields.map((f) => [f, anyValue]))), fc.dictionary(oddStrings, anyValue, { maxKeys: 4 })).map(([a, b]) => ({ ...b, ...a })),
    fc.jsonValue({ maxDepth: 4 }),
  )
  return fc.oneof(
    { weight: 6, arbitrary: json.map((v) => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' })) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('{', '{"a":', '[1,', 'nul', '{"amount":1e999}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '\ufeff{}', '{"a":"\\ud800"}', '')
        .map((payload) => ({ payload, contentType: 'application/json' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          oddStrings,
          fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'application/xml'),
        )
        .map(([payload, contentType]) => ({ payload, contentType })),
    },
    { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 200_000 }).map((n) => ({ payload: JSON.stringify({ [fields[0]!]: 'x'.repeat(n) }), contentType: 'application/json' })) },
    { weight: 2, arbitrary: deep(fields[0]!).map((payload) => ({ payload, contentType: 'application/json' })) },
    { weight: 1, arbitrary: wide(fields[0]!).map((payload) => ({ payload, contentType: 'application/json' })) },
  )
}

function paths(route: PublicRoute) {
  const segments = route.path.split('/').map((s) =>
    s.startsWith(':')
      ? fc
          .oneof(
            fc.uuid(),
            oddStrings.filter((v) => v.length > 0),
            hugeNumbers.map(String),
          )
          .map((v) => encodeURIComponent(v))
      : fc.constant(s),
  )
  const query = fc.option(fc.dictionary(fc.string({ maxLength: 8 }), oddStrings, { maxKeys: 3 }), { nil: undefined })
  return fc.tuple(fc.tuple(...segments), query).map(([parts, q]) => `${parts.join('/')}${q ? `?${new URLSearchParams(q).toString()}` : ''}`)
}

const headers = fc.record(
  {
    authorization: fc.oneof(
      fc.constant(validToken),
      fc.constant(validToken),
      fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
      fc.constant('Bearer a.b.c'),
    ),
    'x-queue-token': fc.string({ maxLength: 80 }),
    'idempotency-key': fc.oneof(fc.uuid(), fc.string({ maxLength: 100 })),
    'x-user-id': fc.constantFrom('2', 'admin', '1; DROP TABLE'),
    'x-request-id': fc.string({ maxLength: 200 }),
  },
  { requiredKeys: [] },
)

/** Header values must be visible ASCII on the wire; drop what HTTP itself cannot carry. */
function wireSafe(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\x20-\x7e]*$/.test(v)))
}

describe('a body nested deeper than the bound', async () => {
  const { app: withDefaultLimit } = await buildTestApp(import.meta.url, { QUEUE_URLS: queue.url, BOOKING_URLS: services.bookingUrl, PAYMENT_URLS: services.paymentUrl })
  const nested = `${'['.repeat(5_000)}${']'.repeat(5_000)}`
  for (const route of PUBLIC_ROUTES.filter((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH')) {
    it(`when ${route.method} ${route.path} gets 5,000 nested arrays (10 KB), then 400 COMMON_BAD_JSON`, async () => {
      const url = route.path.replace(/:\w+/g, 'x1')
      const res = await withDefaultLimit.inject({
        method: route.method,
        url,
        headers: { authorization: validToken, 'idempotency-key': 'deep', 'content-type': 'application/json' },
        payload: nested,
      })
      expect(res.statusCode).toBe(400)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.json()).toMatchObject({ code: 'COMMON_BAD_JSON', status: 400, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) })
    })
  }
})

describe('fuzzing every public route through the gateway to the real services', () => {
  for (const route of PUBLIC_ROUTES) {
    it(`when ${route.method} ${route.path} gets malformed input, then never a 5xx, and every error is a problem with a trace id`, async () => {
      await fc.assert(
        fc.asyncProperty(paths(route), bodies(route), headers, async (url, body, h) => {
          const res = await app.inject({
            method: route.method,
            url,
            headers: { ...wireSafe(h), 'content-type': body.contentType },
            payload: body.payload,
          })
          expect(res.statusCode, `${route.method} ${url} -> ${res.body.slice(0, 300)}`).toBeLessThan(500)
          if (res.statusCode >= 400) {
            expect(res.headers['content-type']).toContain('application/problem+json')
            const problem = res.json()
            expect(problem.status).toBe(res.statusCode)
            expect(problem.code).toMatch(/^[A-Z]+_[A-Z_]+$/)
            expect(problem.traceId).toMatch(/^[0-9a-f]{32}$/)
            expect(JSON.stringify(problem)).not.toMatch(/\bat .+\.(ts|js):\d+/)
          }
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? 40) },
      )
    })
  }
})
