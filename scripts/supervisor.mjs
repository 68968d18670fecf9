// Keeps `npm start`'s processes running: a process that exits on its own is started again after a
// growing delay, one that keeps crashing is left down, and only stop() ends them all.
// Plain Node with no dependencies, like the other scripts.

export const DEFAULT_POLICY = Object.freeze({
  /** Delay before the first restart; each further crash doubles it, up to maxDelayMs. */
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  /** A run that lasted this long was healthy: the next crash starts again from initialDelayMs. */
  resetAfterMs: 60_000,
  /** This many crashes within crashLoopWindowMs and the instance is left down. */
  crashLoopCount: 5,
  crashLoopWindowMs: 60_000,
})

/**
 * What to do when an instance exits unasked: pure, so the backoff and crash-loop rules are tested
 * without processes or clocks.
 */
export function createRestartPolicy(overrides = {}) {
  const p = { ...DEFAULT_POLICY, ...overrides }
  let streak = 0
  let restarts = 0
  let crashes = []
  return {
    /** `ranMs`: how long the run that just ended lasted; `at`: when it ended. */
    onCrash({ ranMs, at }) {
      if (ranMs >= p.resetAfterMs) streak = 0
      crashes = [...crashes.filter((t) => at - t < p.crashLoopWindowMs), at]
      if (crashes.length >= p.crashLoopCount) return { action: 'give-up', crashes: crashes.length, windowMs: p.crashLoopWindowMs }
      streak++
      restarts++
      return { action: 'restart', delayMs: Math.min(p.initialDelayMs * 2 ** (streak - 1), p.maxDelayMs), restart: restarts }
    },
  }
}

const seconds = (ms) => `${Number((ms / 1000).toFixed(1))} s`

/**
 * Runs every instance of `plan` ({ id }) with `start(instance)` → ChildProcess, restarting each by
 * its own policy. `log` gets one line per restart or give-up.
 */
export function supervise({ plan, start, log, policy = {}, now = Date.now }) {
  const instances = new Map()
  let stopping = false
  let onAllExited = () => {}
  const allExited = new Promise((resolve) => (onAllExited = resolve))

  function settleIfDone() {
    if (stopping && [...instances.values()].every((i) => !i.child)) onAllExited()
  }

  function run(instance) {
    const startedAt = now()
    const child = start(instance.spec)
    instance.child = child
    child.on('exit', (code, signal) => {
      instance.child = undefined
      if (stopping) return settleIfDone()
      const decision = instance.policy.onCrash({ ranMs: now() - startedAt, at: now() })
      const why = signal ?? `code ${code}`
      if (decision.action === 'give-up') {
        instance.down = true
        log(`${instance.spec.id} exited (${why}) after ${decision.crashes} crashes within ${seconds(decision.windowMs)}: leaving it down; the other instances keep running`)
        return
      }
      instance.restarts = decision.restart
      log(`${instance.spec.id} exited (${why}); restarting in ${seconds(decision.delayMs)} (restart ${decision.restart})`)
      instance.timer = setTimeout(() => {
        instance.timer = undefined
        if (!stopping) run(instance)
      }, decision.delayMs)
    })
  }

  for (const spec of plan) {
    const instance = { spec, policy: createRestartPolicy(policy), child: undefined, timer: undefined, restarts: 0, down: false }
    instances.set(spec.id, instance)
    run(instance)
  }

  return {
    /** Restarts so far and whether each instance was given up, by id. */
    status() {
      return Object.fromEntries([...instances].map(([id, i]) => [id, { running: Boolean(i.child), restarts: i.restarts, down: i.down }]))
    },
    /**
     * Starts again every instance that was left down, each with a fresh policy (after its cause was
     * fixed; npm start does it on SIGHUP); returns their ids.
     */
    revive() {
      if (stopping) return []
      const revived = [...instances.values()].filter((i) => i.down)
      for (const i of revived) {
        i.down = false
        i.policy = createRestartPolicy(policy)
        log(`${i.spec.id} started again (it had been left down)`)
        run(i)
      }
      return revived.map((i) => i.spec.id)
    },
    /** SIGTERM to every running instance (they drain), SIGKILL to any still running after graceMs. */
    stop(graceMs = 15_000) {
      if (!stopping) {
        stopping = true
        for (const i of instances.values()) {
          clearTimeout(i.timer)
          i.child?.kill('SIGTERM')
        }
        setTimeout(() => {
          for (const i of instances.values()) i.child?.kill('SIGKILL')
        }, graceMs).unref()
        settleIfDone()
      }
      return allExited
    },
  }
}
