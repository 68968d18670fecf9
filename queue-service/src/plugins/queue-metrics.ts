import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { AdmissionHealth, QueueEvents } from '../domain/ports.js'

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1]

/**
 * The waiting room's metrics on the app's registry. Line length and active count come from the
 * admission step, so only the instance that ran the latest step reports a concert (the others drop
 * the series): `sum by (concert)` over instances then counts each line once.
 */
export function createQueueMetrics(registry: Registry, health: AdmissionHealth) {
  const registers = [registry]
  const lineLength = new Gauge({ name: 'queue_line_length', help: 'Users waiting in line, per concert', labelNames: ['concert'], registers })
  const activeUsers = new Gauge({ name: 'queue_active_users', help: 'Users ACTIVE at once, per concert', labelNames: ['concert'], registers })
  const joins = new Counter({
    name: 'queue_joins_total',
    help: 'Join requests by outcome (new, presale, pre_queue, again, not_open_yet, sold_out, unknown_concert, presale_refused)',
    labelNames: ['concert', 'outcome'],
    registers,
  })
  const draws = new Histogram({
    name: 'queue_draw_duration_seconds',
    help: "An opening's draw, from taking its lock to its last place applied",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers,
  })
  const drawnEntries = new Counter({ name: 'queue_draw_entries_total', help: 'Pre-queue entries drawn, and placed in line (not left before)', labelNames: ['how'], registers })
  const admissions = new Counter({ name: 'queue_admissions_total', help: 'Users admitted (WAITING -> ACTIVE)', labelNames: ['concert'], registers })
  const dropouts = new Counter({ name: 'queue_dropouts_total', help: 'Waiting users dropped for not polling', labelNames: ['concert'], registers })
  const polls = new Counter({ name: 'queue_polls_total', help: 'GET /api/queue/token answered, per concert', labelNames: ['concert'], registers })
  const ended = new Counter({ name: 'queue_active_ended_total', help: 'ACTIVE slots ended by reason (expired, idle, left, paid)', labelNames: ['concert', 'reason'], registers })
  const effectiveRate = new Gauge({
    name: 'queue_admission_rate_effective',
    help: 'Admissions per second the last step allowed (the ceiling times the health factor)',
    labelNames: ['concert'],
    registers,
  })
  const limited = new Counter({
    name: 'queue_admission_steps_total',
    help: 'Admission steps by what limited them (rate, cap, inventory, line, paused, not-open, sold-out, …)',
    labelNames: ['concert', 'limited_by'],
    registers,
  })
  new Gauge({
    name: 'queue_admission_health_factor',
    help: 'Share of the admission rate that back-off allows (1: booking and payment healthy)',
    registers,
    collect() {
      this.set(health.current().factor)
    },
  })
  const resyncs = new Counter({
    name: 'queue_inventory_resyncs_total',
    help: 'Inventory snapshots taken from booking, by outcome (ok, unknown_concert, failed)',
    labelNames: ['outcome'],
    registers,
  })
  const joinSeconds = new Histogram({
    name: 'queue_join_duration_seconds',
    help: 'POST /api/queue/token latency in the service',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const pollSeconds = new Histogram({
    name: 'queue_poll_duration_seconds',
    help: 'GET /api/queue/token latency in the service',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  })

  const events: QueueEvents = {
    joined: (concert, outcome) => joins.inc({ concert, outcome }),
    stepped(concert, r) {
      if (!r.ran) {
        lineLength.remove({ concert })
        activeUsers.remove({ concert })
        effectiveRate.remove({ concert })
        return
      }
      effectiveRate.set({ concert }, r.effectiveRate)
      if (r.limitedBy) limited.inc({ concert, limited_by: r.limitedBy })
      if (r.idleReleased) ended.inc({ concert, reason: 'idle' }, r.idleReleased)
      lineLength.set({ concert }, r.waiting)
      activeUsers.set({ concert }, r.active)
      if (r.admitted) admissions.inc({ concert }, r.admitted)
      if (r.droppedOut) dropouts.inc({ concert }, r.droppedOut)
      if (r.expired) ended.inc({ concert, reason: 'expired' }, r.expired)
    },
    activeEnded: (concert, reason) => ended.inc({ concert, reason }),
    polled: (concert) => polls.inc({ concert }),
    resynced: (_concert, outcome) => resyncs.inc({ outcome }),
    drew(_concert, r) {
      draws.observe(r.seconds)
      drawnEntries.inc({ how: 'drawn' }, r.entries)
      drawnEntries.inc({ how: 'placed' }, r.placed)
    },
  }
  return { events, joinSeconds, pollSeconds }
}

export type QueueMetrics = ReturnType<typeof createQueueMetrics>
