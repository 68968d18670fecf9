/**
 * What the k6 stand-in knows while a script runs in its worker: the phase (k6 creates metrics only
 * in the init context), the metrics declared, and what the script did. Shared by every stand-in module.
 */
export type Phase = 'init' | 'setup' | 'iteration' | 'teardown'
export type MetricType = 'Counter' | 'Gauge' | 'Rate' | 'Trend'

export interface HttpCall {
  method: string
  url: string
  headers: Record<string, string>
  body: string | null
}

export interface HttpReply {
  status: number
  headers: Record<string, string>
  body: string
  durationMs: number
}

export const state = {
  phase: 'init' as Phase,
  iteration: 0,
  /** The stand-in's clock, in ms since the script started: only sleep() moves it (answers take no time). */
  clockMs: 0,
  /** How long each iteration lasted on that clock, in seconds. */
  iterationSeconds: [] as number[],
  scenarioName: 'default',
  metrics: new Map<string, { type: MetricType; isTime: boolean; samples: { value: number; tags: Record<string, string> }[] }>(),
  violations: [] as string[],
  sleeps: [] as number[],
  checks: [] as { name: string; ok: boolean }[],
  /** Set by the worker: a blocking HTTP call through the test's process. */
  send: (() => {
    throw new Error('the k6 stand-in has no HTTP bridge')
  }) as (call: HttpCall) => HttpReply,
}

/** Records a breach of k6's rules and throws it, as k6 would (there it ends the iteration or the test). */
export function violation(message: string): never {
  state.violations.push(message)
  throw new Error(message)
}

export class TestAborted extends Error {}
