import type { LineStatus } from '@tickets/contracts/line-controls'
import type { OperatorChange } from '@tickets/contracts/operator-audit'

type Reach<T> = { configured: false } | { configured: true; url: string; reachable: false; error: string } | ({ configured: true; url: string; reachable: true } & T)

export interface TraceSummary {
  traceId: string
  root: string
  services: string[]
  startedAt: string
  durationMs: number
  error: boolean
}

export interface TracesSource {
  file: string
  sizeBytes: number
  readBytes: number
}

export interface Overview {
  at: string
  lines: (LineStatus & { title: string | null; pollsPerSecond: number | null })[]
  polls: Reach<object>
  /** `challenges`: the join challenge's difficulty (bits) by concert, for the concerts that have it on. */
  switches: { rankingEnabled: boolean; tokenLimitPerSecond: number | null; challenges: Record<string, number> }
  alerts: Reach<{ value: { name: string; severity: string | null; summary: string | null; runbookSection: string | null; since: string | null }[] }>
  traces: { source: null } | { source: TracesSource; failing: TraceSummary[]; slow: TraceSummary[] }
  slowTraceMs: number
  changes: OperatorChange[]
}

export interface WaterfallAnswer {
  source: TracesSource
  trace: {
    traceId: string
    services: string[]
    durationMs: number
    rows: { service: string; name: string; depth: number; offsetMs: number; durationMs: number; error: boolean; message: string | null }[]
  }
}
