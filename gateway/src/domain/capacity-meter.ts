/**
 * What this gateway can answer, from what it answered: requests a second over a window divided by
 * the share of that window its event loop was busy, smoothed over windows. A window where the loop
 * was nearly idle says more about timers than about requests and changes nothing.
 */
export interface CapacityMeterOptions {
  /** Below this event-loop utilisation a window is not measured. */
  minUtilization: number
  /** Weight of the newest window in the moving average. */
  smoothing: number
}

export function createCapacityMeter(opts: CapacityMeterOptions = { minUtilization: 0.2, smoothing: 0.3 }) {
  let estimate: number | null = null
  return {
    /** One window: requests answered in it, its length and the loop's utilisation (0..1) over it. */
    sample(answered: number, seconds: number, utilization: number): number | null {
      if (seconds <= 0 || utilization < opts.minUtilization || answered <= 0) return estimate
      const capacity = answered / seconds / Math.min(1, utilization)
      estimate = estimate === null ? capacity : opts.smoothing * capacity + (1 - opts.smoothing) * estimate
      return estimate
    },
    /** Requests a second this gateway can answer, or null until a busy window measured it. */
    current: () => estimate,
  }
}
