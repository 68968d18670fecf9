/**
 * Who changed which run-time switch, and when: one Redis list every tool that flips a switch
 * appends to (the gateway's operator console and `npm run ops`), newest first, the last
 * OPERATOR_AUDIT_KEEP kept. The name is the one the operator gave; the operator secret (or
 * access to Redis) is what authorised the change.
 */
export const OPERATOR_AUDIT_KEY = 'ops:audit'
export const OPERATOR_AUDIT_KEEP = 500

export interface OperatorChange {
  at: string
  who: string
  /** e.g. `queue:pause`, `gateway:token-limit`. */
  action: string
  /** The concert, or `gateway` for switches of every gateway. */
  target: string
  value?: string | number | boolean | null
}

export interface AuditHost {
  lpush(key: string, value: string): Promise<unknown>
  ltrim(key: string, start: number, stop: number): Promise<unknown>
  lrange(key: string, start: number, stop: number): Promise<string[]>
}

export async function recordChange(redis: AuditHost, change: Omit<OperatorChange, 'at'>, now = new Date()): Promise<OperatorChange> {
  const entry: OperatorChange = { at: now.toISOString(), ...change }
  await redis.lpush(OPERATOR_AUDIT_KEY, JSON.stringify(entry))
  await redis.ltrim(OPERATOR_AUDIT_KEY, 0, OPERATOR_AUDIT_KEEP - 1)
  return entry
}

export async function recentChanges(redis: AuditHost, limit = 50): Promise<OperatorChange[]> {
  const lines = await redis.lrange(OPERATOR_AUDIT_KEY, 0, limit - 1)
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as OperatorChange]
    } catch {
      return []
    }
  })
}
