/**
 * The worker side: imported by the bundle before the script, so globals are in place for its init
 * context; then runs setup(), the default function a few times and teardown(), as one k6 VU would,
 * and judges the script's executor by the longest iteration. HTTP goes to the test's process and
 * blocks (k6's http calls are synchronous) until it answers.
 */
import { MessageChannel, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import { executorProblems } from './executor.js'
import { state, TestAborted, type HttpCall, type HttpReply } from './state.js'
import { thresholdProblems } from './thresholds.js'

export interface WorkerInput {
  env: Record<string, string>
  iterations: number
  seed: number
}

interface K6Script {
  options?: { scenarios?: Record<string, unknown>; thresholds?: Record<string, unknown> }
  setup?: () => unknown
  default?: (data: unknown) => void
  teardown?: (data: unknown) => void
}

const input = workerData as WorkerInput
const port = parentPort!
const globals = globalThis as Record<string, unknown>
globals.__ENV = { ...input.env }
globals.__VU = 0
globals.__ITER = 0
// k6 is not Node: a script that used these would work here and fail there.
for (const name of ['process', 'Buffer', 'fetch', 'setImmediate']) delete globals[name]
// sleep() is recorded, not slept: Date.now() reads the stand-in's clock, which sleep() moves on.
const startedAt = Date.now()
Date.now = () => startedAt + state.clockMs

// Scripts draw fans' choices from Math.random; a seed makes a test run repeatable.
let seed = input.seed
Math.random = () => {
  seed = (seed * 48271) % 2147483647
  return seed / 2147483647
}

state.send = (call: HttpCall): HttpReply => {
  const signal = new Int32Array(new SharedArrayBuffer(4))
  const { port1, port2 } = new MessageChannel()
  port.postMessage({ kind: 'http', call, signal, port: port2 }, [port2])
  const waited = Atomics.wait(signal, 0, 0, 30_000)
  const reply = receiveMessageOnPort(port1)
  port1.close()
  if (waited === 'timed-out' || !reply) throw new Error(`no answer to ${call.method} ${call.url} within 30 s`)
  return reply.message as HttpReply
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export function runLifecycle(script: K6Script): void {
  const iterationErrors: string[] = []
  let aborted: string | null = null
  state.scenarioName = Object.keys(script.options?.scenarios ?? {})[0] ?? 'default'
  state.violations.push(...thresholdProblems(script.options?.thresholds, state.metrics))
  if (typeof script.default !== 'function') state.violations.push('the script has no default function')
  try {
    state.phase = 'setup'
    const data = script.setup?.()
    state.phase = 'iteration'
    globals.__VU = 1
    for (let i = 0; i < input.iterations; i++) {
      state.iteration = i
      globals.__ITER = i
      const began = state.clockMs
      try {
        script.default?.(data)
      } catch (err) {
        if (err instanceof TestAborted) throw err
        iterationErrors.push(`iteration ${i}: ${messageOf(err)}`)
      } finally {
        state.iterationSeconds.push((state.clockMs - began) / 1000)
      }
    }
    state.phase = 'teardown'
    script.teardown?.(data)
  } catch (err) {
    if (err instanceof TestAborted) aborted = err.message
    else iterationErrors.push(`${state.phase}: ${messageOf(err)}`)
  }
  state.violations.push(...executorProblems(script.options?.scenarios, Math.max(0, ...state.iterationSeconds)))
  const metrics = Object.fromEntries([...state.metrics].map(([name, m]) => [name, { type: m.type, isTime: m.isTime, samples: m.samples }]))
  port.postMessage({
    kind: 'done',
    result: { violations: state.violations, iterationErrors, aborted, sleeps: state.sleeps, iterationSeconds: state.iterationSeconds, checks: state.checks, metrics },
  })
}
