import type { InventoryView } from './admission.js'
import type { Clock, InventorySource, InventoryStore, QueueEvents } from './ports.js'

export interface InventoryKeeperDeps {
  store: InventoryStore
  source: InventorySource
  clock: Clock
  events: QueueEvents
  /** A snapshot older than this is taken again, whatever the events said. */
  resyncIntervalMs: number
  /** A hold still counted this long after its deadline means a release or sale was missed. */
  overdueMs: number
  /** At most one attempt per concert this often, so a booking that is down is not asked every tick. */
  retryMs: number
  onError?: (err: unknown, concertId: string) => void
}

/**
 * Keeps each concert's sellable inventory from booking's events and heals what the events missed
 * with booking's snapshot: on the first step this process runs for a concert, when the snapshot is
 * old, and when a hold outlives its deadline (a lost release or sale).
 */
export function createInventoryKeeper(deps: InventoryKeeperDeps) {
  const { store, source, clock, events } = deps
  const lastAttempt = new Map<string, number>()
  const inFlight = new Map<string, Promise<void>>()

  async function runResync(concertId: string): Promise<void> {
    try {
      const snapshot = await source.snapshot(concertId)
      if (!snapshot) {
        events.resynced(concertId, 'unknown_concert')
        return
      }
      await store.applySnapshot({ concertId, snapshot, syncedAt: clock.now() })
      events.resynced(concertId, 'ok')
    } catch (err) {
      events.resynced(concertId, 'failed')
      deps.onError?.(err, concertId)
    }
  }

  function resync(concertId: string): Promise<void> {
    let running = inFlight.get(concertId)
    if (!running) {
      lastAttempt.set(concertId, clock.now())
      running = runResync(concertId).finally(() => inFlight.delete(concertId))
      inFlight.set(concertId, running)
    }
    return running
  }

  function isDue(concertId: string, inventory: (InventoryView & { syncedAt: number }) | null, now: number): boolean {
    if (!lastAttempt.has(concertId) || !inventory) return true
    if (now - inventory.syncedAt >= deps.resyncIntervalMs) return true
    return inventory.nextReleaseAt !== null && inventory.nextReleaseAt < now - deps.overdueMs
  }

  return {
    held: (input: { concertId: string; reservationId: string; userId: string; expiresAt: string; occurredAt: string }) =>
      store.held({ concertId: input.concertId, reservationId: input.reservationId, userId: input.userId, until: Date.parse(input.expiresAt), at: timeOf(input.occurredAt, clock) }),

    ended: (input: { concertId: string; reservationId: string; how: 'CONFIRMED' | 'RELEASED' | 'REFUNDED'; occurredAt: string }) =>
      store.ended({ concertId: input.concertId, reservationId: input.reservationId, how: input.how, at: timeOf(input.occurredAt, clock) }),

    /** Called by each admission step: starts a resync in the background when one is due. */
    checkFreshness(concertId: string, inventory: (InventoryView & { syncedAt: number }) | null, now: number): void {
      if (!isDue(concertId, inventory, now)) return
      const last = lastAttempt.get(concertId)
      if (last !== undefined && now - last < deps.retryMs) return
      void resync(concertId)
    },

    /** Takes booking's snapshot now (or joins the one under way). Never throws. */
    resync,

    /** Like resync, unless an attempt failed lately: a join does not wait on a booking that keeps failing. */
    async resyncUnlessFailedLately(concertId: string): Promise<void> {
      const last = lastAttempt.get(concertId)
      if (!inFlight.has(concertId) && last !== undefined && clock.now() - last < deps.retryMs) return
      await resync(concertId)
    },
  }
}

function timeOf(iso: string, clock: Clock): number {
  const at = Date.parse(iso)
  return Number.isFinite(at) ? at : clock.now()
}

export type InventoryKeeper = ReturnType<typeof createInventoryKeeper>
