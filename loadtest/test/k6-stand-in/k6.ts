import { state, violation } from './state.js'

export function sleep(seconds: number): void {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) violation(`sleep(${String(seconds)}): not a duration in seconds`)
  state.sleeps.push(seconds)
  state.clockMs += seconds * 1000
}

export function check<T>(value: T, sets: Record<string, (v: T) => unknown>, _tags?: Record<string, string>): boolean {
  if (state.phase === 'init') violation('check() is not supported in the init context')
  let all = true
  for (const [name, predicate] of Object.entries(sets)) {
    const ok = Boolean(predicate(value))
    state.checks.push({ name, ok })
    all &&= ok
  }
  return all
}

export function group<T>(_name: string, fn: () => T): T {
  if (state.phase === 'init') violation('group() is not supported in the init context')
  return fn()
}

export function fail(message?: string): never {
  throw new Error(message ?? '')
}

export default { sleep, check, group, fail }
