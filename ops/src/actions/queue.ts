import { operatorName, type Action, type Env } from '../action.js'
import { isQueueId } from '@tickets/contracts/queue-token'
import { EMERGENCY_MODES, lineControls } from '@tickets/contracts/line-controls'
import { recordChange } from '@tickets/contracts/operator-audit'
import { createRedis, whenRedisReady } from '@tickets/shared/redis'
import { redactedUrl } from '@tickets/shared/redis-topology'

type Controls = ReturnType<typeof lineControls>

/**
 * Waiting-room controls. Each writes the concert's settings in Redis; every queue-service instance
 * reads them in its next admission step (within one tick), so one command reaches them all.
 */
async function withControls(env: Env, run: (controls: Controls) => Promise<unknown>, change?: { action: string; target: string; value?: string | number }): Promise<number> {
  const url = env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redis = createRedis(url, env.REDIS_PREFIX ?? 'tickets:')
  redis.on('error', () => undefined)
  try {
    if (!(await whenRedisReady(redis, 3_000))) throw new Error(`Redis at ${redactedUrl(url)} is not reachable`)
    const controls = lineControls(redis)
    await run(controls)
    if (change) await recordChange(redis, { who: operatorName(env), ...change })
    return 0
  } finally {
    redis.disconnect()
  }
}

function concertArg(args: string[], usage: string): string | undefined {
  const concertId = args[0]
  if (isQueueId(concertId)) return concertId
  console.error(`usage: npm run ops -- ${usage}   (concertId: 1-64 letters, digits, _ or -)`)
  return undefined
}

function numberArg(value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return undefined
  const n = Number(value)
  return integer && !Number.isInteger(n) ? undefined : n
}

/** `30m`, `90s`, `2h` as seconds (at most a day), `default` as null; undefined when neither. */
function windowArg(value: string): number | null | undefined {
  if (value === 'default') return null
  const m = /^(\d{1,5})([smh])$/.exec(value)
  if (!m) return undefined
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3_600 }[m[2] as 's' | 'm' | 'h']
  return seconds <= 86_400 ? seconds : undefined
}

async function printStatus(controls: Controls, concertId: string) {
  console.log(JSON.stringify(await controls.status(concertId)))
}

function simple(usage: string, describe: string, apply: (controls: Controls, concertId: string) => Promise<unknown>): Action {
  return {
    describe,
    async run(args, env) {
      const concertId = concertArg(args, usage)
      if (!concertId) return 2
      const action = usage.split(' ', 1)[0]!
      return withControls(
        env,
        async (controls) => {
          await apply(controls, concertId)
          await printStatus(controls, concertId)
        },
        action === 'queue:status' ? undefined : { action, target: concertId },
      )
    },
  }
}

function numeric(name: string, describe: string, integer: boolean, apply: (controls: Controls, concertId: string, n: number) => Promise<unknown>): Action {
  const usage = `${name} <concertId> <n>`
  return {
    describe,
    async run(args, env) {
      const concertId = concertArg(args, usage)
      const n = numberArg(args[1], integer)
      if (!concertId || n === undefined) {
        if (concertId) console.error(`usage: npm run ops -- ${usage}   (n: a ${integer ? 'whole ' : ''}number >= 0)`)
        return 2
      }
      return withControls(
        env,
        async (controls) => {
          await apply(controls, concertId, n)
          await printStatus(controls, concertId)
        },
        { action: name, target: concertId, value: n },
      )
    },
  }
}

export const queueActions: Record<string, Action> = {
  'queue:status': simple('queue:status <concertId>', "show a concert's line: waiting, active, settings, measured rate", async () => undefined),
  'queue:pause': simple('queue:pause <concertId>', 'stop admitting from the line (places are kept)', (c, id) => c.pause(id)),
  'queue:resume': simple('queue:resume <concertId>', 'admit again after queue:pause', (c, id) => c.resume(id)),
  'queue:emergency': {
    describe: 'queue-all: admit nobody; let-all: admit everyone at once, ignoring rate and cap; off: normal',
    async run(args, env) {
      const usage = 'queue:emergency <concertId> queue-all|let-all|off'
      const concertId = concertArg(args, usage)
      const mode = EMERGENCY_MODES.find((m) => m === args[1])
      if (!concertId || !mode) {
        if (concertId) console.error(`usage: npm run ops -- ${usage}`)
        return 2
      }
      return withControls(
        env,
        async (controls) => {
          await controls.emergency(concertId, mode)
          await printStatus(controls, concertId)
        },
        { action: 'queue:emergency', target: concertId, value: mode },
      )
    },
  },
  'queue:set-rate': numeric('queue:set-rate', 'admissions per second for one concert (overrides ADMISSION_RATE_PER_SECOND)', false, (c, id, n) => c.setRate(id, n)),
  'queue:set-cap': numeric('queue:set-cap', 'most users ACTIVE at once for one concert (overrides ACTIVE_CAP)', true, (c, id, n) => c.setCap(id, n)),
  'concert:pre-queue': {
    describe: "a concert's own pre-queue window before its opening: <concertId> --window 30m|90s|2h|default (PRE_QUEUE_WINDOW_SECONDS)",
    async run(args, env) {
      const usage = 'concert:pre-queue <concertId> --window <N>s|m|h|default'
      const concertId = concertArg(args, usage)
      const window = args[1] === '--window' && args.length === 3 ? windowArg(args[2]!) : undefined
      if (!concertId || window === undefined) {
        if (concertId) console.error(`usage: npm run ops -- ${usage}   (at most 24 h; default: the queue's PRE_QUEUE_WINDOW_SECONDS)`)
        return 2
      }
      return withControls(
        env,
        async (controls) => {
          await controls.setPreQueueWindow(concertId, window)
          await printStatus(controls, concertId)
        },
        { action: 'concert:pre-queue', target: concertId, value: window ?? 'default' },
      )
    },
  },
  'queue:reset': simple('queue:reset <concertId>', "drop a concert's overrides: environment defaults, not paused, no emergency mode", (c, id) => c.reset(id)),
}
