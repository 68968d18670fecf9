import { describe, expect, it } from 'vitest'
import { PUBLIC_ROUTES } from '../src/domain/route-table.js'
import { buildTestApp } from './helpers/build-test-app.js'
import { realServices } from './helpers/real-services.js'
import { anUpstream } from './helpers/upstream.js'

const services = await realServices(import.meta.url)
const queue = await anUpstream('queue-without-docs')
const { app } = await buildTestApp(import.meta.url, { QUEUE_URLS: queue.url, BOOKING_URLS: services.bookingUrl, PAYMENT_URLS: services.paymentUrl })

type Doc = {
  openapi: string
  paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, { $ref?: string }>; parameters?: { name: string }[] }>>
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown>; responses: Record<string, unknown> }
  'x-unavailable-services'?: string[]
}

describe('GET /docs/json', () => {
  it("when the services answer, then one document holds their public routes from their schemas, plus the gateway's", async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' })
    expect(res.statusCode).toBe(200)
    const doc = res.json<Doc>()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.paths['/api/concerts']?.get).toBeDefined()
    expect(doc.paths['/api/concerts/{concertId}/schedules']?.get).toBeDefined()
    expect(doc.paths['/api/points']?.get).toBeDefined()
    expect(doc.paths['/api/concerts']!.get!.security).toEqual([])
    expect(doc.paths['/api/points']!.get!.security).toEqual([{ userToken: [] }])
    expect(doc.paths['/api/points']!.get!.responses['401']).toBeDefined()
    expect(doc.paths['/api/concerts']!.get!.responses['429']).toEqual({ $ref: '#/components/responses/TooManyRequests' })
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['queueToken', 'userToken'])
    expect(doc.components.schemas.Problem).toMatchObject({ type: 'object' })
    expect(doc.components.responses.TooManyRequests).toBeDefined()
    expect(doc['x-unavailable-services']).toEqual(['queue'])
  })

  it('when a path is documented, then it is a route of the public table (nothing internal leaks)', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<Doc>()
    const table = new Set(PUBLIC_ROUTES.map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`))
    for (const [path, ops] of Object.entries(doc.paths)) for (const method of Object.keys(ops)) expect(table).toContain(`${method} ${path}`)
    expect(JSON.stringify(doc)).not.toMatch(/\/health|\/metrics|\/internal/)
  })

  it('when every $ref is followed, then it resolves inside the document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<Doc>()
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([^"]+)"/g)]
    expect(refs.length).toBeGreaterThan(0)
    for (const [, kind, name] of refs) expect(doc.components[kind as 'schemas' | 'responses'][name!]).toBeDefined()
  })
})

describe('GET /docs', () => {
  it('when the UI is opened, then it is served with its own CSP, and its script loads', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
    expect(init.statusCode).toBe(200)
    expect(init.body).toContain('json')
    expect((await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' })).statusCode).toBe(200)
  })
})
