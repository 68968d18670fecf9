import Fastify from 'fastify'
import { Type } from 'typebox'
import { afterAll, describe, expect, it } from 'vitest'
import { problemDetails, serverOptions } from '../src/http.js'
import { JSON_MAX_DEPTH, nestsDeeperThan } from '../src/json-body.js'

const app = Fastify(serverOptions({ service: 'test', logLevel: 'silent' }))
await app.register(problemDetails)
app.post('/echo', async (request) => ({ got: request.body ?? null }))
app.get('/items', { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1 }) }) } }, async (request) => request.query)
afterAll(() => app.close())

const post = (payload: string) => app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload })

describe('nestsDeeperThan', () => {
  it('when brackets nest up to the bound, then false; one more, then true', () => {
    expect(nestsDeeperThan(`${'['.repeat(3)}${']'.repeat(3)}`, 3)).toBe(false)
    expect(nestsDeeperThan(`${'['.repeat(4)}${']'.repeat(4)}`, 3)).toBe(true)
    expect(nestsDeeperThan('{"a":{"b":{"c":[1]}}}', 3)).toBe(true)
    expect(nestsDeeperThan('[[1],[2],[3],[4]]', 2)).toBe(false)
  })

  it('when brackets are inside strings, escaped quotes included, then they do not count', () => {
    expect(nestsDeeperThan(JSON.stringify({ a: '[[[[[[{{{{' }), 1)).toBe(false)
    expect(nestsDeeperThan(JSON.stringify({ a: 'say \\"[[[[["' }), 1)).toBe(false)
    expect(nestsDeeperThan(`{"a":"\\\\"}`, 1)).toBe(false)
  })

  it('when the input is a million brackets deep, then it answers without a stack', () => {
    expect(nestsDeeperThan('['.repeat(1_000_000), JSON_MAX_DEPTH)).toBe(true)
  })
})

describe('the JSON body parser of every service', () => {
  it('when a body nests deeper than the bound, then 400 COMMON_BAD_JSON as a problem', async () => {
    const res = await post(`${'['.repeat(5_000)}${']'.repeat(5_000)}`)
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json()).toMatchObject({ code: 'COMMON_BAD_JSON', detail: `Request body nests deeper than ${JSON_MAX_DEPTH} levels` })
  })

  it('when a body nests exactly to the bound, then it is parsed', async () => {
    const body = `${'['.repeat(JSON_MAX_DEPTH)}${']'.repeat(JSON_MAX_DEPTH)}`
    expect((await post(body)).json()).toEqual({ got: JSON.parse(body) })
  })

  it('when a query number is sent as text, then it is still read as a number (only bodies are strict)', async () => {
    expect((await app.inject({ method: 'GET', url: '/items?limit=5' })).json()).toEqual({ limit: 5 })
  })
})
