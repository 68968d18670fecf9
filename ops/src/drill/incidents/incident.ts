import type { Check, DrillContext, DrillMode } from '../modes.js'

export interface Incident {
  /** The manual's number plus a variant: `3.2.1-stopped`. */
  id: string
  section: string
  title: string
  /** The docs/runbook.md section (anchor) whose steps the drill follows. */
  runbook: string
  alert: { name: string; labels?: Record<string, string> }
  /** The fault is in a dependency: requests that need it must get a fast 503 with Retry-After. */
  expects503: boolean
  /**
   * When slowness is the incident itself (3.1.2), an answer is a hang only past this (the gateway's
   * upstream deadline) instead of the mode's bound.
   */
  hangMs?: number
  scale?: Record<string, number>
  env?(mode: DrillMode): Record<string, string>
  fans?(mode: DrillMode): number
  /** Storm clients who join and leave the line over and over (see the probe). */
  joiners?(mode: DrillMode): number
  readers?(mode: DrillMode): number
  /** Steady traffic before the fault, when the alert needs more history than the mode's calm period. */
  calmMs?(mode: DrillMode): number
  alertWithinMs(mode: DrillMode): number
  resolveWithinMs(mode: DrillMode): number
  /** Breaks something; returns what it did, in words. */
  inject(ctx: DrillContext): Promise<string>
  /** Diagnosis once the alert fires (the runbook's first steps); returns what it found. */
  whileFiring?(ctx: DrillContext): Promise<string | undefined>
  /** The runbook's mitigation, as the report names it. */
  mitigation: string
  /**
   * Runs it for real and says whether it did what the runbook says; `fixedAt`, when the cause was
   * removed after other steps (recovery counts from there; else from the mitigation's start).
   */
  mitigate(ctx: DrillContext): Promise<{ ok: boolean; detail: string; fixedAt?: number }>
  recovery: { withinMs: number; why: string }
  /** Checks of the incident's own, once the probe stopped (a load run's verdict, say). */
  finish?(ctx: DrillContext): Promise<Check[]>
}

/** Time for an alert with this `for:` to be seen firing: the compressed `for:` plus a few scrapes and evaluations. */
export const firesWithin = (forSeconds: number) => (mode: DrillMode) => (forSeconds / mode.timeFactor + 8 * mode.scrapeSeconds + 15) * 1_000
export const resolvesWithin = (windowSeconds: number) => (mode: DrillMode) => (windowSeconds / mode.timeFactor + 8 * mode.scrapeSeconds + 15) * 1_000

/** The runbook's bound on recovery once Redis answers again (dependency-down). */
export const REDIS_RESUMES = { withinMs: 5_000, why: 'runbook dependency-down: everything resumes by itself within 5 s of Redis answering' }
