import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectNats, ensureStream, type NatsBus } from '../src/nats.js'
import { startThrowawayNats, sweepStaleTestStreams } from '@tickets/testkit'

let nats: Awaited<ReturnType<typeof startThrowawayNats>>
let bus: NatsBus
let productionLike: NatsBus

beforeAll(async () => {
  nats = await startThrowawayNats()
  bus = await connectNats({ url: nats.url, name: 'sweep', namespace: 't_sweep_1' })
  productionLike = await connectNats({ url: nats.url, name: 'sweep', namespace: '' })
})
afterAll(async () => {
  await bus.close()
  await productionLike.close()
  await nats.dispose()
})

const names = async () => {
  const all: string[] = []
  for await (const s of bus.jsm.streams.list()) all.push(s.config.name)
  return all.sort()
}

describe('sweeping streams that old test runs left on NATS', () => {
  it('when test streams are younger than the limit, then they stay', async () => {
    await ensureStream(bus, 'PAYMENT_EVENTS')
    expect(await sweepStaleTestStreams(nats.url, 60_000)).toBe(0)
    expect(await names()).toEqual(['T_SWEEP_1_PAYMENT_EVENTS'])
  })

  it('when they are older, then only the test streams go', async () => {
    await ensureStream(productionLike, 'PAYMENT_EVENTS')
    await new Promise((r) => setTimeout(r, 20))
    expect(await sweepStaleTestStreams(nats.url, 10)).toBe(1)
    expect(await names()).toEqual(['PAYMENT_EVENTS'])
  })
})
