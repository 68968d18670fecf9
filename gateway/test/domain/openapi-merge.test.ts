import { describe, expect, it } from 'vitest'
import { mergeOpenApi } from '../../src/domain/openapi-merge.js'
import { PUBLIC_ROUTES } from '../../src/domain/route-table.js'

const queueDoc = {
  paths: {
    '/api/queue/token': {
      post: { responses: { '201': { description: 'In line' } } },
      get: { responses: { '200': { description: 'Place' } } },
    },
  },
}

describe('mergeOpenApi', () => {
  it('when a join can need the challenge or carry a presale code, then it documents X-Queue-Proof and the refusals of both', () => {
    const doc = mergeOpenApi({ base: {}, routes: PUBLIC_ROUTES, services: { queue: queueDoc }, problemSchema: {} })
    const join = doc.paths!['/api/queue/token']!.post!
    expect(join.responses).toMatchObject({ '403': { $ref: '#/components/responses/JoinRefused' } })
    expect(join.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'X-Queue-Proof', required: false }))
    expect(doc.components?.responses).toHaveProperty('JoinRefused')
    expect(join.description).toContain('QUEUE_PRESALE_CODE_SPENT')
    const poll = doc.paths!['/api/queue/token']!.get!
    expect(poll.responses).not.toHaveProperty('403')
  })
})
