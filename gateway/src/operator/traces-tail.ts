import { open, stat } from 'node:fs/promises'
import { readSpans, summarizeTraces, waterfallOf, type Span } from '@tickets/shared/otlp-spans'

export interface TracesSource {
  file: string
  /** The file's size, and how much of its end was read. */
  sizeBytes: number
  readBytes: number
}

/**
 * The recent traces, from the end of the file the services append their spans to (TRACES_FILE,
 * OTLP JSON lines): no collector and no copy of the spans in memory. At most `tailBytes` of the
 * file's end are read, and only again once the file grew and `minIntervalMs` passed, so a console
 * refreshing every few seconds costs one read of that size per interval at most.
 */
export function createTracesTail(opts: { file: string | undefined; tailBytes: number; minIntervalMs: number }) {
  let cached: { at: number; size: number; spans: Span[]; source: TracesSource } | undefined

  async function load(): Promise<{ spans: Span[]; source: TracesSource } | null> {
    if (!opts.file) return null
    const now = Date.now()
    if (cached && now - cached.at < opts.minIntervalMs) return cached
    const size = await stat(opts.file).then(
      (s) => s.size,
      () => 0,
    )
    if (cached && cached.size === size) {
      cached.at = now
      return cached
    }
    const readBytes = Math.min(size, opts.tailBytes)
    const buffer = Buffer.alloc(readBytes)
    if (readBytes > 0) {
      const handle = await open(opts.file, 'r')
      try {
        await handle.read(buffer, 0, readBytes, size - readBytes)
      } finally {
        await handle.close()
      }
    }
    // The first line is usually cut by the tail's start: readSpans skips what does not parse.
    cached = { at: now, size, spans: readSpans(buffer.toString('utf8')), source: { file: opts.file, sizeBytes: size, readBytes } }
    return cached
  }

  return {
    /** The most recent slow and failing traces; null when no traces file is set. */
    async recent(filter: { slowerThanMs: number; limit: number }) {
      const loaded = await load()
      if (!loaded) return null
      const pick = (f: { errors?: boolean; slowerThanMs?: number }) =>
        summarizeTraces(loaded.spans, { ...f, limit: filter.limit }).map((t) => ({ ...t, startNs: undefined, startedAt: new Date(Number(t.startNs / 1_000_000n)).toISOString() }))
      return { source: loaded.source, failing: pick({ errors: true }), slow: pick({ slowerThanMs: filter.slowerThanMs }) }
    },
    /** One trace's waterfall; undefined when none of its spans is in the tail read; null without a traces file. */
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
