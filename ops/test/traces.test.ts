import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readSpans, summarizeTraces } from '@tickets/shared/otlp-spans'
import { parseDuration, renderSummaries, renderWaterfall } from '../src/actions/traces.js'

const fixture = readFileSync(fileURLToPath(new URL('./fixtures/traces.jsonl', import.meta.url)), 'utf8')
const A = 'a'.repeat(32)
const B = 'b'.repeat(32)
const C = 'c'.repeat(32)

describe('renderWaterfall', () => {
  it('when a trace spans two services, then each span is a line under its parent, with offset, duration and error', () => {
    expect(renderWaterfall(readSpans(fixture), A)).toBe(
      [
        `trace ${A}: 5 spans, 2 services, 50.0 ms`,
        ' start ms    dur ms  service          span',
        '      0.0      50.0  gateway          POST /api/reservations  ERROR',
        '      1.5      45.0  gateway            POST',
        "      3.0      40.0  booking-service      POST /api/reservations  ERROR: Unknown column 'x'",
        '      4.0       1.0  booking-service        SELECT tickets_booking.seats',
        "      5.5      30.3  booking-service        INSERT tickets_booking.reservations  ERROR: Unknown column 'x' in 'field list'",
      ].join('\n'),
    )
  })

  it('when the trace is not in the file, then there is nothing to render', () => {
    expect(renderWaterfall(readSpans(fixture), 'd'.repeat(32))).toBeUndefined()
  })
})

describe('summarizeTraces', () => {
  it('when listing, then the newest trace comes first with its root, services, duration and error; a cut line is skipped', () => {
    const all = summarizeTraces(readSpans(fixture))
    expect(all.map((t) => [t.traceId, t.root, t.services, t.durationMs, t.error])).toEqual([
      [C, 'gateway GET /api/concerts/:id/schedules', ['gateway'], 750, false],
      [B, 'gateway GET /api/concerts', ['gateway'], 12, false],
      [A, 'gateway POST /api/reservations', ['booking-service', 'gateway'], 50, true],
    ])
    expect(renderSummaries(all).split('\n')[0]).toBe(`${C}  2025-11-29T21:20:02.000Z      750.0 ms  ok     gateway GET /api/concerts/:id/schedules  [gateway]`)
  })

  it('when filtered by errors, slowness and a limit, then only those traces are listed', () => {
    const spans = readSpans(fixture)
    expect(summarizeTraces(spans, { errors: true }).map((t) => t.traceId)).toEqual([A])
    expect(summarizeTraces(spans, { slowerThanMs: parseDuration('500ms') }).map((t) => t.traceId)).toEqual([C])
    expect(summarizeTraces(spans, { slowerThanMs: parseDuration('1s') })).toEqual([])
    expect(summarizeTraces(spans, { limit: 1 }).map((t) => t.traceId)).toEqual([C])
  })
})
