import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ENTRY_ID_BYTES, idsOf } from '@tickets/contracts/draw-records'
import { lineKeys } from '@tickets/contracts/line-keys'
import { buildApp as buildQueueApp } from '@tickets/queue-service/app'
import { ConfigSchema as QueueConfigSchema } from '@tickets/queue-service/config'
import { loadConfig } from '@tickets/shared/config'
import { isolation, fromGateway, startServiceProcess, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const run = promisify(execFile)
const iso = isolation(import.meta.url)
const env = {
  REDIS_PREFIX: iso.redisPrefix,
  NATS_NAMESPACE: iso.natsNamespace,
  LOG_LEVEL: 'silent',
  AUTH_JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256',
  INTERNAL_SECRET: TEST_INTERNAL_SECRET,
}
const queue = await buildQueueApp(loadConfig(QueueConfigSchema, { ...env, CONCERT_STATUS_TIMEOUT_MS: '50' }), { defaultMetrics: false, admissionLoop: false, consumers: false })
afterAll(() => queue.close())
const queueUrl = await queue.listen({ host: '127.0.0.1', port: 0 })
// The draw's routes are the public API's, asked through a gateway (its own process and Redis keys:
// only its proxy is wanted) in front of the queue service. Started at the first check, not before
// the first concert: a pre-queue joined more than a few seconds after the queue app was built
// answered WAITING instead of PRE_QUEUE (seen on 2026-12-07, with a plain 3 s pause in place of
// the gateway's start), which is the draw's own question, not this test's.
let gateway: ReturnType<typeof startServiceProcess> | undefined
afterAll(async () => (await gateway)?.stop())
const gatewayUrl = async () => {
  gateway ??= startServiceProcess(new URL('../../gateway/dist/server.js', import.meta.url), {
    ...env,
    REDIS_PREFIX: `gw-${iso.id}:`,
    QUEUE_URLS: queueUrl,
    BOOKING_URLS: queueUrl,
    PAYMENT_URLS: queueUrl,
  })
  return (await gateway).base
}
const verify = async (concertId: string) => run(process.execPath, [cli, 'draw:verify', concertId, '--gateway', await gatewayUrl()])

/** A concert whose pre-queue of `fans` was drawn at an opening a moment ago. */
async function aDrawnConcert(fans: number) {
  const concertId = `draw-verify-${Math.random().toString(36).slice(2, 10)}`
  const opensAt = Date.now() + 300
  await queue.queueDraws.commit(concertId, opensAt)
  for (let i = 0; i < fans; i++) {
    const res = await queue.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { 'x-user-id': `fan-${i}` }, payload: { concertId } }))
    expect(res.json().status).toBe('PRE_QUEUE')
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, opensAt - Date.now()) + 10))
  await queue.queue.tick()
  expect(await queue.queueDraws.draw(concertId)).toMatch(/DRAWN|NONE/)
  return concertId
}

describe('npm run ops -- draw:verify', () => {
  it('when the published draw is what its seed and entries give, then it says so and exits 0', async () => {
    const concertId = await aDrawnConcert(12)
    const { stdout } = await verify(concertId)
    expect(JSON.parse(stdout)).toMatchObject({ concertId, matches: true, entries: 12, problems: [] })
  })

  it('when the published order or seed was changed after the draw, then it names what does not match and exits 1', async () => {
    const concertId = await aDrawnConcert(12)
    const k = lineKeys(concertId)
    const [first, second] = idsOf(await queue.redis.getrange(k.drawOrder, 0, 2 * ENTRY_ID_BYTES - 1))
    await queue.redis.setrange(k.drawOrder, 0, second! + first!)
    await expect(verify(concertId)).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('ORDER_DOES_NOT_MATCH') })

    await queue.redis.setrange(k.drawOrder, 0, first! + second!)
    await verify(concertId)
    await queue.redis.hset(k.draw, 'seed', 'f'.repeat(64))
    await expect(verify(concertId)).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('SEED_DOES_NOT_MATCH_ITS_HASH') })
  })

  it('when the draw is not made yet, then it says so and exits 1; a bad concert id exits 2', async () => {
    const concertId = `draw-verify-open-${Math.random().toString(36).slice(2, 10)}`
    await queue.queueDraws.commit(concertId, Date.now() + 60_000)
    await expect(verify(concertId)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('not made yet') })
    await expect(verify('{bad}')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') })
  })
})
