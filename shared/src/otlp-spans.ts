/**
 * Spans as the services export them to a traces file (OTLP JSON lines, one export batch a line):
 * read, grouped into traces, and laid out as a waterfall. `npm run ops -- trace` prints them and the
 * gateway's operator console draws them; both read them here.
 */
const STATUS_ERROR = 2

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

/** Every span in a text of OTLP JSON lines; lines that are not JSON (a write cut short, a partial first line) are skipped. */
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

export interface WaterfallRow {
  span: Span
  depth: number
  offsetMs: number
  durationMs: number
}

export interface Waterfall {
  traceId: string
  services: string[]
  durationMs: number
  rows: WaterfallRow[]
}

/** One trace as a waterfall: a row per span, children under their parent, in start order; undefined when no span of it is known. */
export function waterfallOf(all: Span[], traceId: string): Waterfall | undefined {
  const id = traceId.toLowerCase()
  const spans = all.filter((s) => s.traceId === id)
  if (spans.length === 0) return undefined
  const ids = new Set(spans.map((s) => s.spanId))
  const children = new Map<string | undefined, Span[]>()
  // A span whose parent is not known (another process's parent not yet written, or an upstream
  // outside this stack) is shown at the top level.
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined
    children.set(parent, [...(children.get(parent) ?? []), s])
  }
  for (const list of children.values()) list.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))
  const start = spans.reduce((m, s) => (s.startNs < m ? s.startNs : m), spans[0]!.startNs)
  const end = spans.reduce((m, s) => (s.endNs > m ? s.endNs : m), spans[0]!.endNs)
  const rows: WaterfallRow[] = []
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      rows.push({ span: s, depth, offsetMs: ms(s.startNs - start), durationMs: ms(s.endNs - s.startNs) })
      walk(s.spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return { traceId: id, services: [...new Set(spans.map((s) => s.service))], durationMs: ms(end - start), rows }
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
  for (const s of all) {
    const list = byTrace.get(s.traceId)
    if (list) list.push(s)
    else byTrace.set(s.traceId, [s])
  }
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
