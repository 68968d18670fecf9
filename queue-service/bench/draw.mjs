#!/usr/bin/env node
// `npm run bench:draw`: the opening's draw of a full pre-queue, as the queue service runs it, on a
// throw-away Redis: from the admission step that freezes the pre-queue to the last drawn place in
// line, with the longest Redis stall a client saw meanwhile (a PING every millisecond) and how long
// another concert's admission steps took during it. A benchmark, not a test: it prints figures.
//   BENCH_ENTRIES (100000), BENCH_RUNS (3)
import { randomUUID } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { verifyDraw } from '@tickets/contracts/draw'
import { idsOf } from '@tickets/contracts/draw-records'
import { CONCERTS_KEY, lineKeys } from '@tickets/contracts/line-keys'
import { loadConfig } from '@tickets/shared/config'
import { startThrowawayRedis } from '@tickets/testkit'
import { Redis } from 'ioredis'
import { buildApp } from '../dist/app.js'
import { ConfigSchema } from '../dist/config.js'

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 100_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)

const redisServer = await startThrowawayRedis()
const app = await buildApp(
  loadConfig(ConfigSchema, {
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: 'bench:',
    NATS_NAMESPACE: `benchdraw${randomUUID().slice(0, 8).replaceAll('-', '')}`,
    AUTH_JWT_SECRET: 'a-bench-secret-that-is-long-enough-for-hs256',
    INTERNAL_SECRET: 'a-bench-internal-secret-long-enough-too',
    LOG_LEVEL: 'warn',
    CONCERT_STATUS_TIMEOUT_MS: '50',
  }),
  { defaultMetrics: false, admissionLoop: false, consumers: false },
)
// The bench's own connection (no command timeout): setting up, watching and checking.
const redis = new Redis(redisServer.url, { keyPrefix: 'bench:' })
const cpuAtStart = process.cpuUsage()

/** A concert whose pre-queue holds `n` fans and whose opening just passed (not frozen yet). */
async function aFullPreQueue(n) {
  const concertId = `bench-${randomUUID().slice(0, 8)}`
  const k = lineKeys(concertId)
  await app.queueDraws.commit(concertId, Date.now() + 600_000)
  for (let i = 0; i < n; i += 5_000) {
    const fields = []
    for (let j = i; j < Math.min(n, i + 5_000); j++) fields.push(`fan-${j}`, `${randomUUID().replaceAll('-', '')}:${Date.now()}`)
    await redis.hset(k.preQueue, ...fields)
  }
  await redis.hset(k.draw, 'opens', String(Date.now() - 1))
  await redis.sadd(CONCERTS_KEY, concertId)
  return concertId
}

async function redisCpuSeconds() {
  const info = await redis.info('cpu')
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
  return field('used_cpu_user') + field('used_cpu_sys')
}

/**
 * While `work` runs: the CPU it took here (main thread and the draw's worker) and in Redis, which
 * a machine shared with other work does not inflate as it does wall time; the longest command Redis ran (its slow log, so a busy client does not count)
 * and the longest this process's event loop was held (what every other request of it waited).
 */
async function longestStalls(work) {
  await redis.config('SET', 'slowlog-log-slower-than', '1000')
  await redis.slowlog('RESET')
  const loop = monitorEventLoopDelay({ resolution: 5 })
  const cpuBefore = process.cpuUsage()
  const redisBefore = await redisCpuSeconds()
  loop.enable()
  const result = await work()
  loop.disable()
  const cpu = process.cpuUsage(cpuBefore)
  const nodeCpuMs = (cpu.user + cpu.system) / 1000
  const redisCpuMs = ((await redisCpuSeconds()) - redisBefore) * 1000
  const slow = await redis.slowlog('GET', 1000)
  const longest = slow.reduce((max, [, , micros, command]) => (micros > max.micros ? { micros, command: command[0] } : max), { micros: 0, command: '-' })
  return { result, nodeCpuMs, redisCpuMs, redisLongestMs: longest.micros / 1000, redisLongestCommand: longest.command, loopLongestMs: loop.max / 1e6 }
}

const figures = []
for (let run = 1; run <= RUNS; run++) {
  const concertId = await aFullPreQueue(ENTRIES)
  const { result, ...stalls } = await longestStalls(async () => {
    const started = performance.now()
    await app.queue.tick() // freezes the pre-queue and starts the draw beside the loop
    const stepMs = performance.now() - started
    const otherSteps = []
    let failedSteps = 0
    const drawn = app.queueDraws.draw(concertId)
    let done = false
    drawn.finally(() => (done = true))
    while (!done) {
      const t = performance.now()
      await app.queue.tick().catch(() => failedSteps++)
      otherSteps.push(performance.now() - t)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return { outcome: await drawn, drawMs: performance.now() - started, stepMs, otherStepMaxMs: Math.max(0, ...otherSteps), failedSteps }
  })
  const k = lineKeys(concertId)
  const [seed, seedHash, digest] = await redis.hmget(k.draw, 'seed', 'seedHash', 'digest')
  const check = verifyDraw({ seed, seedHash, digest, order: idsOf((await redis.get(k.drawOrder)) ?? '') })
  const waiting = await redis.zcard(k.waiting)
  figures.push({ run, ...result, ...stalls, verified: check.ok, waiting })
  await redis.unlink(k.waiting, k.users, k.seen, k.drawOrder, k.drawPlaces, k.draw, k.seq)
  await redis.srem(CONCERTS_KEY, concertId)
}

const round = (n) => Math.round(n)
console.log(
  `draw of ${ENTRIES.toLocaleString('en')} pre-queued fans, ${RUNS} runs (node ${process.version}, Redis on its own port, load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores):`,
)
for (const f of figures)
  console.log(
    `  run ${f.run}: ${f.outcome} in ${round(f.drawMs)} ms wall, CPU ${round(f.nodeCpuMs)} ms here + ${round(f.redisCpuMs)} ms Redis (the freezing step ${round(f.stepMs)} ms); longest Redis command ${round(f.redisLongestMs)} ms (${f.redisLongestCommand}); ` +
      `event loop held at most ${round(f.loopLongestMs)} ms; ` +
      `other steps during it at most ${round(f.otherStepMaxMs)} ms (${f.failedSteps} failed); ${f.waiting} in line; verifies: ${f.verified}`,
  )
const sorted = figures.map((f) => f.drawMs).sort((a, b) => a - b)
const cpu = process.cpuUsage(cpuAtStart)
console.log(`median ${round(sorted[Math.floor(sorted.length / 2)])} ms; this process's CPU over the whole bench ${round((cpu.user + cpu.system) / 1000)} ms`)
await app.close()
redis.disconnect()
await redisServer.dispose()
