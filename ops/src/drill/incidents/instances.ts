import { firesWithin, REDIS_RESUMES, resolvesWithin, type Incident } from './incident.js'
import { redisCli, resumeRedis } from './operator-tools.js'

export const instanceDown: Incident = {
  id: '3.1.1',
  section: '3.1.1',
  title: 'An instance down: booking-2 (of 2) killed under load again and again until the supervisor leaves it down',
  runbook: 'service-down',
  alert: { name: 'ServiceDown', labels: { job: 'booking-service' } },
  expects503: false,
  scale: { booking: 2 },
  alertWithinMs: firesWithin(60),
  resolveWithinMs: resolvesWithin(0),
  async inject(ctx) {
    const given = () => ctx.stack.output.some((l) => l.includes('booking-2 exited') && l.includes('leaving it down'))
    let kills = 0
    const deadline = Date.now() + 90_000
    while (!given() && Date.now() < deadline) {
      const [pid] = await ctx.stack.pidsOf('booking-2')
      if (pid) {
        process.kill(pid, 'SIGKILL')
        kills++
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    if (!given()) throw new Error(`the supervisor did not leave booking-2 down after ${kills} kills`)
    return `booking-2 killed with SIGKILL ${kills} times, each time it came back; the supervisor left it down ("${ctx.stack.output.find((l) => l.includes('booking-2 exited') && l.includes('leaving it down'))}")`
  },
  mitigation: "once the cause is fixed, `kill -HUP <npm start pid>` starts the instances left down again (the pid is in npm start's banner)",
  async mitigate(ctx) {
    const hup = await ctx.sh('kill', ['-HUP', String(ctx.stack.supervisorPid)])
    const url = `http://127.0.0.1:${ctx.stack.adminPorts.booking + 10}/health/ready`
    const started = Date.now()
    let ready = false
    while (!ready && Date.now() - started < 30_000) {
      ready = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.ok,
        () => false,
      )
      if (!ready) await new Promise((r) => setTimeout(r, 200))
    }
    const line = ctx.stack.output.find((l) => l.includes('booking-2 started again'))
    return {
      ok: hup.exitCode === 0 && ready && line !== undefined,
      detail: `kill -HUP exit ${hup.exitCode}; npm start said "${line ?? 'nothing'}"; booking-2 ${ready ? `ready ${((Date.now() - started) / 1000).toFixed(1)} s later` : 'not ready after 30 s'}`,
    }
  },
  recovery: { withinMs: 15_000, why: 'runbook service-down: an instance started again is ready within 15 s' },
}

export const tokenRouteErrors: Incident = {
  id: '3.1.3',
  section: '3.1.3',
  title: 'Token-route errors: Redis hangs (SIGSTOP) during a join storm',
  runbook: 'token-route-errors',
  alert: { name: 'TokenRouteErrors' },
  expects503: true,
  joiners: () => 20,
  alertWithinMs: firesWithin(60),
  resolveWithinMs: resolvesWithin(300),
  async inject(ctx) {
    await ctx.stack.redis.pause()
    return `redis-server (port ${ctx.stack.redis.port}) paused with SIGSTOP while 20 storm clients join and leave the line`
  },
  async whileFiring(ctx) {
    const stats = await redisCli(ctx, 'INFO', 'stats')
    return `timeout 2 redis-cli INFO stats: ${stats.exitCode === 0 ? 'answered' : `no answer within 2 s (exit ${stats.exitCode})`}`
  },
  mitigation:
    'the token limit first (`npm run ops -- gateway:token-limit 5`), then Redis: `redis-cli ping` gets no answer and the process is there, so `kill -CONT <pid>`; the token limit again once Redis answers, and `npm run ops -- gateway:switches`',
  async mitigate(ctx) {
    // The switches live in Redis: while it hangs the gateway refuses the change, and says so.
    const early = await ctx.ops(['gateway:token-limit', '5'])
    const resumed = await resumeRedis(ctx)
    const limit = await ctx.ops(['gateway:token-limit', '5'])
    const shown = await ctx.ops(['gateway:switches'])
    const applied = shown.exitCode === 0 && shown.output.includes('5/s per address')
    return {
      fixedAt: resumed.fixedAt,
      ok: resumed.ok && limit.exitCode === 0 && applied,
      detail: `token limit while Redis hung: exit ${early.exitCode} (${early.output.split('\n')[0]}); ${resumed.detail}; token limit after: exit ${limit.exitCode}; gateway:switches says "${shown.output}"`,
    }
  },
  recovery: REDIS_RESUMES,
}
