import { parseOptions, UsageError, usageErrorsExit2, type Action, type Env } from '../action.js'
import { existsSync, readFileSync } from 'node:fs'

const STATUS_ERROR = 2

/** A usage error: printed, exit 2. */

export interface Span {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  service: string
  name: string
  startNs: bigint
  endNs: bigint
  error: boolean
  message: string | undefined
}

interface OtlpValue {
  stringValue?: string
  boolValue?: boolean
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  startTimeUnixNano: string | number
  endTimeUnixNano: string | number
  attributes?: { key: string; value: OtlpValue }[]
  status?: { code?: number; message?: string }
  events?: { name: string; attributes?: { key: string; value: OtlpValue }[] }[]
}
interface OtlpLine {
  resourceSpans?: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[]
}

// OTLP JSON carries ids as hex; some writers use base64 (protobuf's JSON mapping).
const hex = (id: string | undefined) => (!id ? undefined : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex') || undefined)
const attr = (list: { key: string; value: OtlpValue }[] | undefined, key: string) => list?.find((a) => a.key === key)?.value
const METHOD_ONLY = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/

function pathOf(url: string): string | undefined {
  try {
    return new URL(url).pathname
  } catch {
    return undefined
  }
}

/** HTTP spans are named by their method alone: the waterfall adds the route or the path. */
function displayName(s: OtlpSpan): string {
  if (!METHOD_ONLY.test(s.name)) return s.name
  const text = (key: string) => attr(s.attributes, key)?.stringValue
  const full = text('url.full') ?? text('http.url')
  const path = text('http.route') ?? text('url.path') ?? text('http.target') ?? (full ? pathOf(full) : undefined)
  return path ? `${s.name} ${path.split('?', 1)[0]}` : s.name
}

/** Every span in a file of OTLP JSON lines; lines that are not JSON (a write cut short) are skipped. */
export function readSpans(text: string): Span[] {
  const spans: Span[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    let parsed: OtlpLine
    try {
      parsed = JSON.parse(line) as OtlpLine
    } catch {
      continue
    }
    for (const rs of parsed.resourceSpans ?? []) {
      const service = attr(rs.resource?.attributes, 'service.name')?.stringValue ?? 'unknown'
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const exception = s.events?.find((e) => e.name === 'exception')
          const error = s.status?.code === STATUS_ERROR || attr(s.attributes, 'tickets.error')?.boolValue === true
          spans.push({
            traceId: hex(s.traceId)!,
            spanId: hex(s.spanId)!,
            parentSpanId: hex(s.parentSpanId),
            service,
            name: displayName(s),
            startNs: BigInt(s.startTimeUnixNano),
            endNs: BigInt(s.endTimeUnixNano),
            error,
            message: s.status?.message || attr(exception?.attributes, 'exception.message')?.stringValue || undefined,
          })
        }
      }
    }
  }
  return spans
}

const ms = (ns: bigint) => Number(ns) / 1e6
const fmt = (n: number) => n.toFixed(1)

/** The trace as a waterfall: one line per span, children under their parent, in start order. */
export function renderWaterfall(all: Span[], traceId: string): string | undefined {
  const spans = all.filter((s) => s.traceId === traceId.toLowerCase())
  if (spans.length === 0) return undefined
  const ids = new Set(spans.map((s) => s.spanId))
  const children = new Map<string | undefined, Span[]>()
  // A span whose parent is not in the file (another process's parent not yet written, or an
  // upstream outside this stack) is shown at the top level.
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined
    children.set(parent, [...(children.get(parent) ?? []), s])
  }
  for (const list of children.values()) list.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))
  const start = spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), spans[0]!.startNs)
  const end = spans.reduce((m, s) => (s.endNs > m ? s.endNs : m), spans[0]!.endNs)
  const services = [...new Set(spans.map((s) => s.service))]
  const width = Math.max(7, ...services.map((s) => s.length))
  const lines = [
    `trace ${traceId.toLowerCase()}: ${spans.length} spans, ${services.length} services, ${fmt(ms(end - start))} ms`,
    `${'start ms'.padStart(9)} ${'dur ms'.padStart(9)}  ${'service'.padEnd(width)}  span`,
  ]
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const status = s.error ? `  ERROR${s.message ? `: ${s.message}` : ''}` : ''
      lines.push(`${fmt(ms(s.startNs - start)).padStart(9)} ${fmt(ms(s.endNs - s.startNs)).padStart(9)}  ${s.service.padEnd(width)}  ${'  '.repeat(depth)}${s.name}${status}`)
      walk(s.spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return lines.join('\n')
}

export interface TraceSummary {
  traceId: string
  root: string
  services: string[]
  startNs: bigint
  durationMs: number
  error: boolean
}

/** One summary per trace, the most recent first. */
export function summarizeTraces(all: Span[], filter: { errors?: boolean; slowerThanMs?: number; limit?: number } = {}): TraceSummary[] {
  const byTrace = new Map<string, Span[]>()
  for (const s of all) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s])
  const out: TraceSummary[] = []
  for (const [traceId, spans] of byTrace) {
    const ids = new Set(spans.map((s) => s.spanId))
    const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId)).sort((a, b) => (a.startNs < b.startNs ? -1 : 1))
    const startNs = spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), spans[0]!.startNs)
    const endNs = spans.reduce((m, s) => (s.endNs > m ? s.endNs : m), spans[0]!.endNs)
    const root = roots[0] ?? spans[0]!
    out.push({
      traceId,
      root: `${root.service} ${root.name}`,
      services: [...new Set(spans.map((s) => s.service))],
      startNs,
      durationMs: ms(endNs - startNs),
      error: spans.some((s) => s.error),
    })
  }
  return out
    .filter((t) => (!filter.errors || t.error) && (filter.slowerThanMs === undefined || t.durationMs > filter.slowerThanMs))
    .sort((a, b) => (a.startNs > b.startNs ? -1 : a.startNs < b.startNs ? 1 : 0))
    .slice(0, filter.limit ?? 20)
}

export function renderSummaries(traces: TraceSummary[]): string {
  if (traces.length === 0) return 'no traces match'
  return traces
    .map(
      (t) =>
        `${t.traceId}  ${new Date(Number(t.startNs / 1_000_000n)).toISOString()}  ${fmt(t.durationMs).padStart(9)} ms  ${t.error ? 'ERROR' : 'ok   '}  ${t.root}  [${t.services.join(', ')}]`,
    )
    .join('\n')
}

/** "500ms", "2s" or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim())
  if (!m) throw new UsageError(`--slower-than takes a duration like 500ms or 2s (got "${text}")`)
  return Number(m[1]) * (m[2] === 's' ? 1_000 : 1)
}

function tracesFileOf(env: Env, flag: string | undefined): string {
  const file = flag ?? env.TRACES_FILE
  if (!file)
    throw new UsageError(
      'no traces file: start the stack with TRACES_FILE=<path> (e.g. TRACES_FILE=.data/traces.jsonl npm start) and pass the same TRACES_FILE here, or --file <path>',
    )
  if (!existsSync(file)) throw new UsageError(`${file} does not exist yet: no process has written spans to it`)
  return file
}

export const traceActions: Record<string, Action> = {
  trace: {
    describe: 'print one trace from TRACES_FILE as a waterfall: trace <traceId> [--file PATH]',
    run: (args, env) =>
      usageErrorsExit2(() => {
        const { values, positionals } = parseOptions(args, { file: { type: 'string' } }, true)
        const id = positionals[0]
        if (positionals.length !== 1 || !/^[0-9a-f]{32}$/i.test(id!)) throw new UsageError('trace takes one trace id (32 hex digits, the traceId of a problem body or X-Trace-Id)')
        const file = tracesFileOf(env, values.file)
        const out = renderWaterfall(readSpans(readFileSync(file, 'utf8')), id!)
        if (!out) {
          console.error(`no spans of trace ${id} in ${file} (spans are written about a second after they end; tracing may have been off)`)
          return 1
        }
        console.log(out)
        return 0
      }),
  },
  traces: {
    describe: 'list recent traces from TRACES_FILE: traces [--errors] [--slower-than 500ms] [--limit 20] [--file PATH]',
    run: (args, env) =>
      usageErrorsExit2(() => {
        const { values } = parseOptions(args, { errors: { type: 'boolean' }, 'slower-than': { type: 'string' }, limit: { type: 'string' }, file: { type: 'string' } })
        const limit = values.limit === undefined ? 20 : Number(values.limit)
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit takes a whole number above 0 (got "${values.limit}")`)
        const file = tracesFileOf(env, values.file)
        const slower = values['slower-than']
        console.log(
          renderSummaries(
            summarizeTraces(readSpans(readFileSync(file, 'utf8')), {
              errors: values.errors ?? false,
              limit,
              ...(slower === undefined ? {} : { slowerThanMs: parseDuration(slower) }),
            }),
          ),
        )
        return 0
      }),
  },
}
