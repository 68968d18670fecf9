import { describe, expect, it } from 'vitest'
import { createUpstreamPool } from '../../src/domain/upstream-pool.js'

const aClock = (start = 0) => {
  let now = start
  return { now: () => now, advance: (ms: number) => (now += ms) }
}

describe('upstream pool', () => {
  it('when nothing failed, then instances are picked in turn', () => {
    const pool = createUpstreamPool(['a', 'b', 'c'], { ejectMs: 1_000 })
    expect([pool.pick(), pool.pick(), pool.pick(), pool.pick()]).toEqual(['a', 'b', 'c', 'a'])
  })

  it('when an instance failed, then it is skipped until the ejection time has passed', () => {
    const clock = aClock()
    const pool = createUpstreamPool(['a', 'b'], { ejectMs: 1_000, clock })
    pool.markFailed('a')
    expect([pool.pick(), pool.pick(), pool.pick()]).toEqual(['b', 'b', 'b'])
    clock.advance(1_001)
    expect(new Set([pool.pick(), pool.pick()])).toEqual(new Set(['a', 'b']))
  })

  it('when every instance failed, then one is still answered in turn (fail fast, find a returning one)', () => {
    const pool = createUpstreamPool(['a', 'b'], { ejectMs: 1_000, clock: aClock() })
    pool.markFailed('a')
    pool.markFailed('b')
    expect(new Set([pool.pick(), pool.pick()])).toEqual(new Set(['a', 'b']))
  })

  it('when asked to exclude the instance that just failed, then another is picked even if all are ejected', () => {
    const pool = createUpstreamPool(['a', 'b'], { ejectMs: 1_000, clock: aClock() })
    pool.markFailed('a')
    pool.markFailed('b')
    for (let i = 0; i < 4; i++) expect(pool.pick('a')).toBe('b')
  })

  it('when there is one instance, then it is always picked', () => {
    const pool = createUpstreamPool(['a'], { ejectMs: 1_000, clock: aClock() })
    pool.markFailed('a')
    expect([pool.pick(), pool.pick('a')]).toEqual(['a', 'a'])
  })
})
