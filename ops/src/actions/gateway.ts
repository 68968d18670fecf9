import { DEFAULT_CHALLENGE_DIFFICULTY, MAX_CHALLENGE_DIFFICULTY, MIN_CHALLENGE_DIFFICULTY } from '@tickets/contracts/queue-challenge'
import { isQueueId } from '@tickets/contracts/queue-token'
import { operatorName, parseOptions, usageErrorsExit2, UsageError, type Action, type Env } from '../action.js'
import { resolveOperatorSecret } from '../dev-secret.js'

const DEFAULT_OPERATOR_URL = 'http://127.0.0.1:9080'

interface Switches {
  rankingEnabled: boolean
  tokenLimitPerSecond: number | null
  /** Difficulty (bits) by concert. */
  challenges: Record<string, number>
}

/**
 * Talks to the operator switches on the gateway's admin listener (ADMIN_PORT, never the public
 * port), which write the switch to Redis; every gateway instance picks it up within SWITCH_CACHE_MS.
 */
async function callOperator(env: Env, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Switches> {
  const base = (env.GATEWAY_OPERATOR_URL ?? DEFAULT_OPERATOR_URL).replace(/\/$/, '')
  let res: Response
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-operator-secret': resolveOperatorSecret(env), 'x-operator-name': operatorName(env), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(5_000),
    })
  } catch (err) {
    throw new Error(
      `the gateway's admin listener at ${base} did not answer (${(err as Error).message}); is the gateway running with OPERATOR_SECRET set? (GATEWAY_OPERATOR_URL picks another one)`,
    )
  }
  const payload = (await res.json().catch(() => ({}))) as Switches & { detail?: string }
  if (!res.ok) throw new Error(`the gateway refused: ${res.status} ${payload.detail ?? ''}`.trim())
  return payload
}

function show(s: Switches): string {
  const challenges = Object.entries(s.challenges ?? {}).map(([concertId, bits]) => `${concertId} (${bits} bits)`)
  return [
    `ranking ${s.rankingEnabled ? 'on' : 'off'}`,
    `token-route limit ${s.tokenLimitPerSecond === null ? 'default (RATE_LIMIT_TOKEN_PER_SECOND)' : `${s.tokenLimitPerSecond}/s per address`}`,
    `join challenge ${challenges.length ? `on for ${challenges.join(', ')}` : 'off everywhere'}`,
  ].join('; ')
}

const CHALLENGE_USAGE = `queue:challenge <concertId> on [--difficulty ${MIN_CHALLENGE_DIFFICULTY}..${MAX_CHALLENGE_DIFFICULTY}] | off`

function challengeArgs(args: string[]): { concertId: string; difficulty: number | null } {
  const usage = (why: string) => new UsageError(`${why}\nusage: npm run ops -- ${CHALLENGE_USAGE}`)
  let parsed
  try {
    parsed = parseOptions(args, { difficulty: { type: 'string' } }, true)
  } catch (err) {
    throw usage((err as Error).message)
  }
  const [concertId, state, ...rest] = parsed.positionals
  const given = parsed.values.difficulty
  if (!isQueueId(concertId)) throw usage('concertId: 1-64 letters, digits, _ or -')
  if ((state !== 'on' && state !== 'off') || rest.length > 0) throw usage('say on or off')
  if (state === 'off') {
    if (given !== undefined) throw usage('--difficulty goes with on')
    return { concertId, difficulty: null }
  }
  const difficulty = given === undefined ? DEFAULT_CHALLENGE_DIFFICULTY : Number(given)
  if (!/^\d+$/.test(given ?? '0') || difficulty < MIN_CHALLENGE_DIFFICULTY || difficulty > MAX_CHALLENGE_DIFFICULTY) {
    throw usage(`--difficulty is a whole number of bits, ${MIN_CHALLENGE_DIFFICULTY} to ${MAX_CHALLENGE_DIFFICULTY}`)
  }
  return { concertId, difficulty }
}

export const gatewayActions: Record<string, Action> = {
  'gateway:ranking': {
    describe: 'on|off: serve or switch off the ranking (non-core) on every gateway instance',
    async run(args, env) {
      const [state] = args
      if (state !== 'on' && state !== 'off') {
        console.error('usage: npm run ops -- gateway:ranking on|off')
        return 2
      }
      console.log(show(await callOperator(env, 'PUT', '/switches/ranking', { enabled: state === 'on' })))
      return 0
    },
  },
  'gateway:token-limit': {
    describe: '<n>|default: POST /api/queue/token requests per second and address, on every gateway instance',
    async run(args, env) {
      const [value] = args
      if (value === 'default') {
        console.log(show(await callOperator(env, 'DELETE', '/switches/token-limit')))
        return 0
      }
      const n = Number(value)
      if (!value || !Number.isInteger(n) || n < 1 || n > 100_000) {
        console.error('usage: npm run ops -- gateway:token-limit <1..100000>|default')
        return 2
      }
      console.log(show(await callOperator(env, 'PUT', '/switches/token-limit', { perSecond: n })))
      return 0
    },
  },
  'queue:challenge': {
    describe: `on|off: joins to one concert need a proof of work (default ${DEFAULT_CHALLENGE_DIFFICULTY} bits), on every gateway instance`,
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { concertId, difficulty } = challengeArgs(args)
        const path = `/switches/challenge/${concertId}`
        console.log(show(await (difficulty === null ? callOperator(env, 'DELETE', path) : callOperator(env, 'PUT', path, { difficulty }))))
        return 0
      }),
  },
  'gateway:switches': {
    describe: 'show the gateway switches in force',
    async run(_args, env) {
      console.log(show(await callOperator(env, 'GET', '/switches')))
      return 0
    },
  },
}
