import { retryAfterSeconds } from '@tickets/contracts/queue-line'

// A hold's seat counts as free only after booking's sweeper released it and the next step ran.
const RELEASE_LAG_S = 2
// Fans behind every held seat wait for the fans ahead to buy or let go of the seats that come back.
const SETTLE_S = 10
// ...and their returns are spread by position at about this many polls per second, so a line of
// 20,000 comes back over 20 s instead of at once; never more than SPREAD_CAP_S (which stays well
// under WAITING_IDLE_TIMEOUT_SECONDS: the idle clock of such a fan starts at the last hold's deadline).
export const HELD_RETURNS_PER_SECOND = 1_000
const SPREAD_CAP_S = 120

/**
 * While every unsold seat is on hold, nothing moves before a hold ends, so a fan is not brought
 * back before the hold that could free a seat for them has ended (`secondsToRelease`). A fan
 * behind every hold is brought back once the fans ahead have had time to buy, spread by position.
 * Not bound by the 60 s of the usual hint: the line cannot move sooner.
 */
export function retryAfterWhileHeld(input: { estimatedWaitSeconds: number; position: number; seatsOnHold: number; overbook: number; secondsToRelease: number }): number {
  const usual = retryAfterSeconds(input.estimatedWaitSeconds)
  const untilRelease = Math.ceil(input.secondsToRelease)
  const reach = Math.ceil(input.seatsOnHold * input.overbook)
  if (input.position <= reach) return Math.max(usual, untilRelease + RELEASE_LAG_S)
  const spread = Math.min(SPREAD_CAP_S, Math.floor((input.position - reach) / HELD_RETURNS_PER_SECOND))
  return Math.max(usual, untilRelease + SETTLE_S + spread)
}
