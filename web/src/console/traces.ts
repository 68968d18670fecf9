import { byId, el } from '../common/dom.js'
import { ProblemError } from '../common/problem.js'
import { opCall } from './api.js'
import type { Overview, TraceSummary, WaterfallAnswer } from './types.js'

const ms = (n: number) => `${n.toLocaleString(undefined, { maximumFractionDigits: 1 })} ms`

function drawWaterfall(answer: WaterfallAnswer): void {
  const { trace } = answer
  const box = byId('waterfall')
  const total = Math.max(trace.durationMs, 0.001)
  const rows = trace.rows.map((r) => {
    const bar = el('span', { className: 'bar' })
    bar.style.left = `${(r.offsetMs / total) * 100}%`
    bar.style.width = `${(r.durationMs / total) * 100}%`
    const label = el(
      'span',
      { className: 'label', title: r.message ?? r.name },
      el('span', { className: 'svc', textContent: r.service }),
      `${'\u00a0\u00a0'.repeat(r.depth)}${r.name}${r.error ? ` — ERROR${r.message ? `: ${r.message}` : ''}` : ''}`,
    )
    const row = el('li', { className: r.error ? 'error' : '' }, label, el('span', { className: 'track' }, bar), el('span', { className: 'dur', textContent: ms(r.durationMs) }))
    row.dataset.service = r.service
    return row
  })
  box.replaceChildren(
    el('h3', { textContent: `Trace ${trace.traceId}` }),
    el('p', { className: 'muted', textContent: `${trace.rows.length} spans across ${trace.services.join(', ')} · ${ms(trace.durationMs)}` }),
    el('ol', {}, ...rows),
  )
  box.hidden = false
  box.focus()
}

export async function openTrace(traceId: string): Promise<void> {
  const box = byId('waterfall')
  try {
    drawWaterfall(await opCall<WaterfallAnswer>('GET', `/console/api/traces/${traceId.toLowerCase()}`))
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err
    box.replaceChildren(el('p', { className: 'muted', textContent: err.problem.detail ?? err.problem.title }))
    box.hidden = false
  }
}

function list(id: string, traces: TraceSummary[]): void {
  byId(id).replaceChildren(
    ...(traces.length === 0
      ? [el('li', { className: 'muted', textContent: 'none in the part of the file read' })]
      : traces.map((t) => {
          const b = el(
            'button',
            { type: 'button' },
            el('span', { className: t.error ? 'err' : '', textContent: t.error ? 'ERROR ' : '' }),
            `${new Date(t.startedAt).toLocaleTimeString()} · ${ms(t.durationMs)} · ${t.root}`,
          )
          b.dataset.traceId = t.traceId
          b.addEventListener('click', () => {
            byId<HTMLInputElement>('trace-id').value = t.traceId
            void openTrace(t.traceId)
          })
          return el('li', {}, b)
        })),
  )
}

export function renderTraces(overview: Overview): void {
  byId('slow-ms').textContent = String(overview.slowTraceMs)
  const { traces } = overview
  if (!traces.source) {
    byId('traces-source').textContent = 'No traces file: the services write spans to one only when started with TRACES_FILE (TRACES_FILE=.data/traces.jsonl npm start).'
    list('traces-failing', [])
    list('traces-slow', [])
    return
  }
  const { file, sizeBytes, readBytes } = traces.source
  byId('traces-source').textContent = `From ${file}: its last ${Math.round(readBytes / 1024).toLocaleString()} KB of ${Math.round(sizeBytes / 1024).toLocaleString()} KB.`
  list('traces-failing', traces.failing)
  list('traces-slow', traces.slow)
}

byId<HTMLFormElement>('trace-search').addEventListener('submit', (e) => {
  e.preventDefault()
  void openTrace(byId<HTMLInputElement>('trace-id').value.trim())
})
