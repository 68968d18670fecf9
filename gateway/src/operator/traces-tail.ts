import { open, stat } from 'node:fs/promises'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { readSpans, summarizeTraces, waterfallOf, type Span } from '@tickets/shared/otlp-spans'

export interface TracesSource {
  file: string
  /** The file's size, and how much of its end the spans shown come from. */
  sizeBytes: number
  readBytes: number
}

// Parsing blocks the event loop the fans' requests share: a slice at most this long, then yield.
const SLICE_MS = 4

/** Parses OTLP JSON lines a slice at a time, yielding between slices. */
async function parseYielding(text: string): Promise<Span[]> {
  const lines = text.split('\n')
  const spans: Span[] = []
  let sliceStart = performance.now()
  for (const line of lines) {
    for (const span of readSpans(line)) spans.push(span)
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop()
      sliceStart = performance.now()
    }
  }
  return spans
}

interface Chunk {
  /** Byte offset just past this chunk's last whole line. */
  end: number
  spans: Span[]
}

/**
 * The recent traces, from the end of the file the services append their spans to (TRACES_FILE,
 * OTLP JSON lines): no collector and no second copy of the spans elsewhere. It keeps the spans of
 * the file's last `tailBytes`, reads only what was appended since its last read (at most once per
 * `minIntervalMs`), and parses in short slices, so a console left open costs the gateway in
 * proportion to the spans written, and never a long pause of its event loop.
 */
export function createTracesTail(opts: { file: string | undefined; tailBytes: number; minIntervalMs: number }) {
  let chunks: Chunk[] = []
  let offset = 0
  let readAt = 0
  let loading: Promise<void> | undefined
  let source: TracesSource | undefined
  // Summaries are worked out again only once new spans were read.
  let summaries: { offset: number; key: string; value: unknown } | undefined

  async function readNew(file: string): Promise<void> {
    const size = await stat(file).then(
      (s) => s.size,
      () => 0,
    )
    // A file truncated or replaced starts over.
    if (size < offset) {
      chunks = []
      offset = 0
    }
    const from = Math.max(offset, size - opts.tailBytes)
    if (size > from) {
      const buffer = Buffer.alloc(size - from)
      const handle = await open(file, 'r')
      try {
        await handle.read(buffer, 0, buffer.length, from)
      } finally {
        await handle.close()
      }
      // Only whole lines: a line still being written is read next time. A tail that starts mid-line skips that line.
      const lastNewline = buffer.lastIndexOf(0x0a)
      if (lastNewline >= 0) {
        const start = from > offset ? buffer.indexOf(0x0a) + 1 : 0
        chunks.push({ end: from + lastNewline + 1, spans: await parseYielding(buffer.toString('utf8', start, lastNewline)) })
        offset = from + lastNewline + 1
      }
    }
    const windowStart = size - opts.tailBytes
    chunks = chunks.filter((c) => c.end > windowStart)
    source = { file, sizeBytes: size, readBytes: Math.min(size, opts.tailBytes) }
  }

  async function load(): Promise<{ spans: Span[]; source: TracesSource } | null> {
    const file = opts.file
    if (!file) return null
    if (Date.now() - readAt >= opts.minIntervalMs) {
      readAt = Date.now()
      loading ??= readNew(file).finally(() => (loading = undefined))
    }
    if (loading) await loading
    return { spans: chunks.flatMap((c) => c.spans), source: source ?? { file, sizeBytes: 0, readBytes: 0 } }
  }

  function summarize(loaded: { spans: Span[]; source: TracesSource }, filter: { slowerThanMs: number; limit: number }) {
    const pick = (f: { errors?: boolean; slowerThanMs?: number }) =>
      summarizeTraces(loaded.spans, { ...f, limit: filter.limit }).map(({ startNs, ...t }) => ({ ...t, startedAt: new Date(Number(startNs / 1_000_000n)).toISOString() }))
    return { source: loaded.source, failing: pick({ errors: true }), slow: pick({ slowerThanMs: filter.slowerThanMs }) }
  }

  return {
    /** The most recent failing and slow traces; null when no traces file is set. */
    async recent(filter: { slowerThanMs: number; limit: number }) {
      const loaded = await load()
      if (!loaded) return null
      const key = `${filter.slowerThanMs}:${filter.limit}`
      if (summaries?.offset === offset && summaries.key === key) return summaries.value as ReturnType<typeof summarize>
      const value = summarize(loaded, filter)
      summaries = { offset, key, value }
      return value
    },
    /** One trace's waterfall (trace undefined when none of its spans is in the tail); null without a traces file. */
    async trace(traceId: string) {
      const loaded = await load()
      if (!loaded) return null
      const trace = waterfallOf(loaded.spans, traceId)
      if (!trace) return { source: loaded.source, trace: undefined }
      return {
        source: loaded.source,
        trace: {
          traceId: trace.traceId,
          services: trace.services,
          durationMs: trace.durationMs,
          rows: trace.rows.map(({ span, depth, offsetMs, durationMs }) => ({
            service: span.service,
            name: span.name,
            depth,
            offsetMs,
            durationMs,
            error: span.error,
            message: span.message ?? null,
          })),
        },
      }
    },
  }
}

export type TracesTail = ReturnType<typeof createTracesTail>
