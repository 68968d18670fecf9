import type { RedisClient } from '@tickets/shared/redis'

/** Run-time operator switches, shared by every gateway instance through one Redis hash. */
export interface Switches {
  rankingEnabled: boolean
  /** Overrides RATE_LIMIT_TOKEN_PER_SECOND while set. */
  tokenLimitPerSecond: number | null
  /** Concerts whose joins need a proof of work, with its difficulty in bits (`queue:challenge`). */
  challenges: ReadonlyMap<string, number>
}

/** One concert's join challenge: a difficulty switches it on, null off. */
export interface ChallengeSwitch {
  concertId: string
  difficulty: number | null
}

export const SWITCHES_KEY = 'gateway:switches'
export const DEFAULT_SWITCHES: Switches = Object.freeze({ rankingEnabled: true, tokenLimitPerSecond: null, challenges: new Map<string, number>() })
const CHALLENGE_FIELD = 'challenge:'

function parse(hash: Record<string, string>): Switches {
  const limit = Number(hash.tokenLimit)
  const challenges = new Map<string, number>()
  for (const [field, value] of Object.entries(hash)) {
    const difficulty = Number(value)
    if (field.startsWith(CHALLENGE_FIELD) && Number.isInteger(difficulty) && difficulty > 0) challenges.set(field.slice(CHALLENGE_FIELD.length), difficulty)
  }
  return {
    rankingEnabled: hash.ranking !== 'off',
    tokenLimitPerSecond: Number.isInteger(limit) && limit > 0 ? limit : null,
    challenges,
  }
}

export async function readSwitches(redis: RedisClient): Promise<Switches> {
  return parse(await redis.hgetall(SWITCHES_KEY))
}

export async function writeSwitches(redis: RedisClient, patch: Partial<Omit<Switches, 'challenges'>> & { challenge?: ChallengeSwitch }): Promise<Switches> {
  const multi = redis.multi()
  if (patch.rankingEnabled !== undefined) multi.hset(SWITCHES_KEY, 'ranking', patch.rankingEnabled ? 'on' : 'off')
  if (patch.tokenLimitPerSecond !== undefined) {
    if (patch.tokenLimitPerSecond === null) multi.hdel(SWITCHES_KEY, 'tokenLimit')
    else multi.hset(SWITCHES_KEY, 'tokenLimit', String(patch.tokenLimitPerSecond))
  }
  if (patch.challenge) {
    const field = `${CHALLENGE_FIELD}${patch.challenge.concertId}`
    if (patch.challenge.difficulty === null) multi.hdel(SWITCHES_KEY, field)
    else multi.hset(SWITCHES_KEY, field, String(patch.challenge.difficulty))
  }
  multi.hgetall(SWITCHES_KEY)
  const results = await multi.exec()
  const last = results?.at(-1)
  if (!last || last[0]) throw last?.[0] ?? new Error('switch update was not applied')
  return parse(last[1] as Record<string, string>)
}

export interface SwitchBoard {
  /** The switches as last read: never waits for Redis on the request path. */
  current(): Switches
  refresh(): Promise<void>
  close(): void
}

/**
 * Polls the switches every `pollMs` so a change made through any instance reaches this one within
 * that time even when no request asks. While Redis is unreachable the last known values stay in force.
 */
export async function createSwitchBoard(redis: RedisClient, opts: { pollMs: number; onError?: (err: unknown) => void }): Promise<SwitchBoard> {
  let current: Switches = DEFAULT_SWITCHES
  let closed = false
  const refresh = async () => {
    try {
      current = await readSwitches(redis)
    } catch (err) {
      opts.onError?.(err)
    }
  }
  await refresh()
  const timer = setInterval(() => void refresh(), Math.max(opts.pollMs, 50))
  timer.unref()
  return {
    current: () => current,
    refresh,
    close() {
      if (closed) return
      closed = true
      clearInterval(timer)
    },
  }
}
