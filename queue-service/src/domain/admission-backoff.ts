/** A service's own report of how it copes (see @tickets/shared/pressure), as the controller reads it. */
export interface PressureSignal {
  service: string
  at: number
  p95Ms: number | null
  samples: number
  poolWaiters: number
  shed: number
}

export interface BackoffPolicy {
  /** p95 above which a service counts as struggling, per service name (booking: holds, payment: payments). */
  p95TargetMs: Record<string, number>
  /** A p95 from fewer requests than this says nothing. */
  minSamples: number
  /** The factor never goes below this: a trickle of fans still gets in and shows recovery. */
  minFactor: number
  /** Multiplied in on each new report that says a service struggles. */
  decrease: number
  /** Added per second while every report is healthy. */
  increasePerSecond: number
}

export interface HealthState {
  factor: number
  why: string
  /** The newest report already acted on: one report lowers the factor once. */
  actedOn: number
}

export const HEALTHY: HealthState = { factor: 1, why: 'healthy', actedOn: 0 }

function troubles(signal: PressureSignal, policy: BackoffPolicy): string[] {
  const found: string[] = []
  const target = policy.p95TargetMs[signal.service]
  if (target !== undefined && signal.p95Ms !== null && signal.samples >= policy.minSamples && signal.p95Ms > target)
    found.push(`${signal.service} p95 ${signal.p95Ms} ms > ${target} ms`)
  if (signal.poolWaiters > 0) found.push(`${signal.service} database pool has ${signal.poolWaiters} waiting`)
  if (signal.shed > 0) found.push(`${signal.service} shed ${signal.shed} requests`)
  return found
}

/**
 * Additive increase, multiplicative decrease of the admission rate's factor: halved (by default) on
 * each new report of trouble, back up by a step per second once every report is healthy again.
 */
export function nextHealth(prev: HealthState, signals: PressureSignal[], elapsedMs: number, policy: BackoffPolicy): HealthState {
  const fresh = signals.filter((s) => s.at > prev.actedOn)
  const found = fresh.flatMap((s) => troubles(s, policy))
  const newest = Math.max(prev.actedOn, ...signals.map((s) => s.at))
  if (found.length > 0) return { factor: Math.max(policy.minFactor, prev.factor * policy.decrease), why: found.join('; '), actedOn: newest }
  const stillTroubled = signals.some((s) => troubles(s, policy).length > 0)
  if (stillTroubled) return { ...prev, actedOn: newest }
  const factor = Math.min(1, prev.factor + (policy.increasePerSecond * Math.max(0, elapsedMs)) / 1000)
  return { factor, why: factor < 1 ? 'recovering' : 'healthy', actedOn: newest }
}
