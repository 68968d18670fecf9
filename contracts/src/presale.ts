import { createHash, randomBytes } from 'node:crypto'
import { lineScriptRunner, type ScriptHost } from './line-commands.js'
import { lineKeys } from './line-keys.js'
import { PRESALE_CREATE } from './line-presale-scripts.js'

/**
 * Presale codes: an operator creates them for a concert (`npm run ops -- presale:create`), a fan
 * joins the line with one in the `X-Presale-Code` header. A code is 120 random bits, so its plain
 * SHA-256 is as hard to invert as a keyed hash and needs no server key: Redis holds only the hash,
 * and the code itself is printed once, at its creation.
 */
export const PRESALE_CODE_HEADER = 'x-presale-code'

const CODE = /^[A-Za-z0-9_-]{16,64}$/
// Codes and who redeemed them are kept this long past the end of their window, for the sale's report.
export const PRESALE_KEEP_MS = 30 * 24 * 3_600_000

/** The shape of a code (base64url, 16..64 characters); a code outside it is wrong without a lookup. */
export function isPresaleCode(value: unknown): value is string {
  return typeof value === 'string' && CODE.test(value)
}

export function newPresaleCode(): string {
  return randomBytes(15).toString('base64url')
}

/** How a code is stored and looked up: SHA-256 of the code, hex. */
export function presaleCodeHash(code: string): string {
  return createHash('sha256').update(code).digest('hex')
}

export interface PresaleCodeSpec {
  concertId: string
  uses: number
  /** The window in which the code is redeemed: from (inclusive) to (exclusive), ms. */
  from: number
  to: number
  /** Admits at once instead of a place in the presale line. */
  bypass: boolean
}

export interface PresaleCodeState {
  codeHash: string
  uses: number
  used: number
  from: number
  to: number
  bypass: boolean
}

/** What operators do with codes, and what the sale's report reads of them. */
export function presaleCodes(redis: ScriptHost & PresaleReads) {
  const run = lineScriptRunner(redis)
  return {
    /** Creates `count` new codes and returns them: the only time they are seen in the clear. */
    async create(spec: PresaleCodeSpec, count: number): Promise<string[]> {
      const k = lineKeys(spec.concertId)
      const codes: string[] = []
      while (codes.length < count) {
        const code = newPresaleCode()
        const hash = presaleCodeHash(code)
        const keys = { presaleCode: k.presaleCode(hash), presaleCodes: k.presaleCodes }
        const argv = { codeHash: hash, uses: spec.uses, from: spec.from, to: spec.to, bypass: spec.bypass ? '1' : '0', keep: spec.to + PRESALE_KEEP_MS }
        if ((await run(PRESALE_CREATE, keys, argv)) === 1) codes.push(code)
      }
      return codes
    },

    async list(concertId: string): Promise<PresaleCodeState[]> {
      const k = lineKeys(concertId)
      const hashes = await redis.smembers(k.presaleCodes)
      const states: PresaleCodeState[] = []
      for (const codeHash of hashes) {
        const [uses, used, from, to, bypass] = await redis.hmget(k.presaleCode(codeHash), 'uses', 'used', 'from', 'to', 'bypass')
        if (uses === null || uses === undefined) continue
        states.push({ codeHash, uses: Number(uses), used: Number(used ?? 0), from: Number(from), to: Number(to), bypass: bypass === '1' })
      }
      return states.sort((a, b) => a.from - b.from || a.codeHash.localeCompare(b.codeHash))
    },

    /** userId -> the hash of the code they redeemed. */
    async redeemers(concertId: string): Promise<Record<string, string>> {
      return redis.hgetall(lineKeys(concertId).presaleUsers)
    },
  }
}

/** The plain reads `presaleCodes` needs of a Redis client. */
export interface PresaleReads {
  smembers(key: string): Promise<string[]>
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>
  hgetall(key: string): Promise<Record<string, string>>
}
