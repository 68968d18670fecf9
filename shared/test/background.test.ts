import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { repeat, stopBeforeClose, type BackgroundWork } from '../src/background.js'

describe('stopBeforeClose', () => {
  it('when the app closes, then the work stops last-started first, each stop finished before the next and before onClose', async () => {
    const app = Fastify()
    const steps: string[] = []
    const work = (name: string): BackgroundWork => ({
      async stop() {
        await new Promise((r) => setTimeout(r, 10))
        steps.push(`${name} stopped`)
      },
    })
    stopBeforeClose(app, [work('relay'), undefined, work('sweeper'), work('consumers')])
    app.addHook('onClose', async () => {
      steps.push('clients closed')
    })
    await app.ready()
    await app.close()
    expect(steps).toEqual(['consumers stopped', 'sweeper stopped', 'relay stopped', 'clients closed'])
  })
})

describe('repeat', () => {
  it('when a pass takes longer than the interval, then passes never overlap, and stop waits for the one in flight', async () => {
    let inFlight = 0
    let most = 0
    let passes = 0
    const loop = repeat(
      async () => {
        inFlight += 1
        most = Math.max(most, inFlight)
        await new Promise((r) => setTimeout(r, 30))
        passes += 1
        inFlight -= 1
      },
      { intervalMs: 5, firstDelayMs: 0 },
    )
    await new Promise((r) => setTimeout(r, 120))
    await loop.stop()
    const afterStop = passes
    await new Promise((r) => setTimeout(r, 60))
    expect(most).toBe(1)
    expect(inFlight).toBe(0)
    expect(afterStop).toBeGreaterThanOrEqual(2)
    expect(passes).toBe(afterStop)
  })
})
