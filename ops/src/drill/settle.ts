import { readPaymentFacts } from '@tickets/payment-service/ops'
import { readBookingFacts } from '../actions/booking-facts.js'
import type { Check, DrillContext } from './modes.js'
import type { Outcome, Probe } from './probe.js'
import { runCommand, waitFor } from './waits.js'

/** A trace picked for the report, with its waterfall as `ops trace` prints it. */
export interface PickedTrace {
  traceId: string
  why: string
  waterfall: string
}

/** Every payment the probe was told succeeded is CONFIRMED or refunded, none charged twice, and `reconcile` (run for real) is clean. */
export async function checkMoney(ctx: DrillContext, probe: Probe): Promise<{ reconcile: { exitCode: number }; checks: Check[] }> {
  // Confirmations travel by the outbox and NATS: give them the time they take.
  let lost: string[] = []
  await waitFor(
    async () => {
      const payments = (await readPaymentFacts(ctx.stack.paymentDb, { outboxMaxAgeSeconds: 60 })).payments
      const reservations = (await readBookingFacts(ctx.stack.bookingDb, { holdGraceSeconds: 30, outboxMaxAgeSeconds: 60 })).reservations
      const byId = new Map(payments.map((p) => [p.paymentId, p]))
      const status = new Map(reservations.map((r) => [r.reservationId, r.status]))
      lost = probe.paid.flatMap((p) => {
        const payment = byId.get(p.paymentId)
        if (!payment) return [`payment ${p.paymentId} answered 201 but is not in the payment database`]
        if (payment.status === 'REFUNDED') return []
        if (payment.status === 'COMPLETED' && status.get(p.reservationId) === 'CONFIRMED') return []
        return [`payment ${p.paymentId} is ${payment.status} and reservation ${p.reservationId} is ${status.get(p.reservationId) ?? 'missing'}`]
      })
      return lost.length === 0 ? true : undefined
    },
    30_000,
    1_000,
  )
  const reconcile = await ctx.ops(['reconcile'])
  return {
    reconcile,
    checks: [
      {
        name: 'nothing lost: every payment answered 201 is CONFIRMED or refunded',
        ok: lost.length === 0 && probe.paid.length > 0,
        detail: lost.length === 0 ? `${probe.paid.length} of ${probe.paid.length}` : `${lost.length} not settled after 30 s: ${lost.slice(0, 3).join('; ')}`,
      },
      {
        name: '`npm run ops -- reconcile` clean (none charged twice, seats and money agree)',
        ok: reconcile.exitCode === 0,
        detail: reconcile.output.split('\n').slice(0, 5).join(' / '),
      },
    ],
  }
}

/** The first failed request after the fault and the slowest request, with their waterfalls from the spans the services wrote. */
export async function pickTraces(ctx: DrillContext, outcomes: Outcome[], faultAt: number): Promise<PickedTrace[]> {
  const failed = outcomes.filter((o) => o.at >= faultAt && o.status >= 500 && o.traceId).sort((a, b) => a.at - b.at)[0]
  const slowest = [...outcomes].filter((o) => o.traceId).sort((a, b) => b.ms - a.ms)[0]
  const picks: [Outcome | undefined, string][] = [
    [failed, 'the first failed request after the fault'],
    [slowest, 'the slowest request of the run'],
  ]
  const traces: PickedTrace[] = []
  for (const [pick, what] of picks) {
    if (!pick?.traceId || traces.some((t) => t.traceId === pick.traceId)) continue
    // Spans are exported in batches: wait for this one's to reach the file.
    let waterfall = ''
    await waitFor(
      async () => {
        const r = await runCommand(process.execPath, ['ops/dist/cli.js', 'trace', pick.traceId!], ctx.stack.opsEnv)
        waterfall = r.output
        return r.exitCode === 0 ? true : undefined
      },
      10_000,
      1_000,
    )
    traces.push({
      traceId: pick.traceId,
      why: `${what}: ${pick.step} answered ${pick.status} ${pick.code ?? ''} in ${Math.round(pick.ms)} ms, at +${((pick.at - faultAt) / 1000).toFixed(1)} s`,
      waterfall,
    })
  }
  return traces
}
