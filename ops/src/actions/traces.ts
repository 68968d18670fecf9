import { parseOptions, UsageError, usageErrorsExit2, type Action, type Env } from '../action.js'
import { existsSync, readFileSync } from 'node:fs'
import { readSpans, summarizeTraces, waterfallOf, type Span, type TraceSummary } from '@tickets/shared/otlp-spans'

const fmt = (n: number) => n.toFixed(1)

/** The trace as a waterfall: one line per span, children under their parent, in start order. */
export function renderWaterfall(all: Span[], traceId: string): string | undefined {
  const trace = waterfallOf(all, traceId)
  if (!trace) return undefined
  const width = Math.max(7, ...trace.services.map((s) => s.length))
  const lines = [
    `trace ${trace.traceId}: ${trace.rows.length} spans, ${trace.services.length} services, ${fmt(trace.durationMs)} ms`,
    `${'start ms'.padStart(9)} ${'dur ms'.padStart(9)}  ${'service'.padEnd(width)}  span`,
  ]
  for (const { span: s, depth, offsetMs, durationMs } of trace.rows) {
    const status = s.error ? `  ERROR${s.message ? `: ${s.message}` : ''}` : ''
    lines.push(`${fmt(offsetMs).padStart(9)} ${fmt(durationMs).padStart(9)}  ${s.service.padEnd(width)}  ${'  '.repeat(depth)}${s.name}${status}`)
  }
  return lines.join('\n')
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
