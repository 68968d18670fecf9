import type { PoolConnection } from 'mariadb'
import { isDuplicateKey } from './db-errors.js'

/** Which consumer applied which event: the row a consumer writes in the transaction that applies it. */
export interface ProcessedMarker {
  consumer: string
  eventId: string
}

/**
 * Records, inside the caller's transaction, that `marker.consumer` applied `marker.eventId`. False
 * when it had already (a redelivery): the caller then rolls back and acks. Without a marker (a step
 * not driven by an event) there is nothing to record: true.
 *
 * A plain INSERT whose duplicate-key error is the answer, not INSERT IGNORE: IGNORE also turns a
 * truncated or invalid value into a warning, and two ids cut to the same prefix would then drop an event.
 */
export async function markProcessed(conn: PoolConnection, marker: ProcessedMarker | undefined): Promise<boolean> {
  if (!marker) return true
  try {
    await conn.query('INSERT INTO processed_events (consumer, event_id) VALUES (?, ?)', [marker.consumer, marker.eventId])
    return true
  } catch (err) {
    if (isDuplicateKey(err)) return false
    throw err
  }
}
