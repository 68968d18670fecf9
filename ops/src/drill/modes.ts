import type { DrillPrometheus } from './prometheus.js'
import type { DrillStack } from './stack.js'

export interface DrillMode {
  name: 'fast' | 'full' | 'ci'
  /** How many times the alert rules' time is compressed (1 in full mode: the real rules). */
  timeFactor: number
  scrapeSeconds: number
  /** Steady traffic before the fault and after recovery. */
  calmMs: number
  fans: number
  readers: number
  /** An answer slower than this is a hang; a 503 slower than `fast503Ms` is not a fast refusal. */
  hangMs: number
  fast503Ms: number
}

const MANUAL_BOUNDS = { hangMs: 1_000, fast503Ms: 250 }

export const MODES: Record<'fast' | 'full' | 'ci', DrillMode> = {
  // Scrapes every 2 s at the least: a scrape may ping every dependency (HEALTH_TIMEOUT_MS, 1 s)
  // and a scrape timeout under that loses the dependency_up sample whenever one hangs.
  fast: { name: 'fast', timeFactor: 12, scrapeSeconds: 2, calmMs: 8_000, fans: 6, readers: 2, ...MANUAL_BOUNDS },
  full: { name: 'full', timeFactor: 1, scrapeSeconds: 5, calmMs: 30_000, fans: 8, readers: 2, ...MANUAL_BOUNDS },
  // npm test: fast mode while other packages' tests share the two cores. Scheduling alone then adds
  // hundreds of ms to a fast answer, so the latency bounds are four times the manual's; every other
  // check (5xx, alert, mitigation, recovery, money and seats) is the same. `npm run drill` keeps the manual's.
  ci: { name: 'ci', timeFactor: 12, scrapeSeconds: 2, calmMs: 8_000, fans: 6, readers: 2, hangMs: 4_000, fast503Ms: 1_000 },
}

export interface CommandRun {
  command: string
  exitCode: number
  output: string
  at: number
}

export interface DrillContext {
  stack: DrillStack
  prometheus: DrillPrometheus
  mode: DrillMode
  concertId: string
  /** Runs a command for real (as an operator would type it) and records it. */
  sh(command: string, args: string[], env?: Record<string, string>): Promise<CommandRun>
  /** `npm run ops -- <args>` against this stack (node ops/dist/cli.js, as the npm script runs it). */
  ops(args: string[]): Promise<CommandRun>
  note(what: string): void
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}
