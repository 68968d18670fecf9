import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { AppError, problemDetails, serverOptions } from '../src/http.js'

/** A service's Fastify app at `level`, its log lines collected as objects. */
async function appLoggingAt(level: string, routes: (app: ReturnType<typeof Fastify>) => void = () => undefined) {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  const options = serverOptions({ service: 'test', logLevel: level })
  const app = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
  await app.register(problemDetails)
  app.get('/work', async (request) => {
    request.log.info({ step: 'info' }, 'working')
    request.log.warn({ step: 'warn' }, 'careful')
    return { ok: true }
  })
  routes(app)
  await app.ready()
  return { app, lines }
}

describe('request loggers', () => {
  it('when a request logs at an enabled level, then the line carries its request id and trace id', async () => {
    const { app, lines } = await appLoggingAt('info')
    const res = await app.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'req-1', traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` } })
    expect(res.statusCode).toBe(200)
    const working = lines.find((l) => l.msg === 'working')
    expect(working).toMatchObject({ reqId: 'req-1', trace_id: 'a'.repeat(32), step: 'info', service: 'test', level: 30 })
    expect(lines.find((l) => l.msg === 'request completed')).toMatchObject({ reqId: 'req-1' })
    await app.close()
  })

  it('when a request is answered at info, then it writes one access line with its route; probes and scrapes none', async () => {
    const { app, lines } = await appLoggingAt('info', (a) => {
      a.get('/items/:id', async () => ({}))
      a.get('/health', async () => ({ status: 'UP' }))
      a.get('/health/ready', async () => ({ status: 'UP' }))
      a.get('/metrics', async () => '')
      a.get('/refuse', async () => {
        throw new AppError('COMMON_VALIDATION', 'not this one')
      })
    })
    const traceparent = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`
    await app.inject({ method: 'GET', url: '/items/42?x=1', headers: { 'x-request-id': 'req-5', traceparent } })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      level: 30,
      reqId: 'req-5',
      trace_id: 'c'.repeat(32),
      method: 'GET',
      route: '/items/:id',
      statusCode: 200,
      service: 'test',
    })
    expect(typeof lines[0]!.responseTime).toBe('number')
    for (const url of ['/health', '/health/ready', '/metrics']) expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200)
    expect(lines).toHaveLength(1)
    await app.inject({ method: 'GET', url: '/nowhere/7?secret=1' })
    expect(lines.at(-1)).toMatchObject({ msg: 'request completed', route: null, url: '/nowhere/7', statusCode: 404 })
    await app.inject({ method: 'GET', url: '/refuse' })
    expect(lines).toHaveLength(3)
    expect(lines.at(-1)).toMatchObject({ msg: 'request completed', route: '/refuse', statusCode: 400, code: 'COMMON_VALIDATION', detail: 'not this one' })
    await app.close()
  })

  it('when an instance is given, then every line names it beside the service', async () => {
    const lines: Record<string, unknown>[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>)
        done()
      },
    })
    const options = serverOptions({ service: 'test', logLevel: 'info', instance: 'test-2' })
    const app = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
    app.log.info('hello')
    expect(lines[0]).toMatchObject({ service: 'test', instance: 'test-2', msg: 'hello' })
    await app.close()
  })

  it('when the level is above a line, then it is not written, and the lines that are still carry the ids', async () => {
    const { app, lines } = await appLoggingAt('warn')
    await app.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'req-2' } })
    expect(lines.map((l) => l.msg)).toEqual(['careful'])
    expect(lines[0]).toMatchObject({ reqId: 'req-2', step: 'warn', level: 40 })
    expect(lines[0]!.trace_id).toMatch(/^[0-9a-f]{32}$/)
    await app.close()
  })

  it("when a route has its own log level, then its lines follow that level, not the service's", async () => {
    const { app, lines } = await appLoggingAt('warn', (a) =>
      a.get('/chatty', { logLevel: 'debug' }, async (request) => {
        request.log.debug('route detail')
        return {}
      }),
    )
    await app.inject({ method: 'GET', url: '/chatty', headers: { 'x-request-id': 'req-4' } })
    expect(lines.find((l) => l.msg === 'route detail')).toMatchObject({ reqId: 'req-4', level: 20 })
    await app.close()
  })

  it('when a request logger makes a child, then the child keeps the request bindings', async () => {
    const { app, lines } = await appLoggingAt('info', (a) =>
      a.get('/child', async (request) => {
        request.log.child({ component: 'inner' }).info('from the child')
        return {}
      }),
    )
    await app.inject({ method: 'GET', url: '/child', headers: { 'x-request-id': 'req-3' } })
    expect(lines.find((l) => l.msg === 'from the child')).toMatchObject({ reqId: 'req-3', component: 'inner' })
    await app.close()
  })
})
