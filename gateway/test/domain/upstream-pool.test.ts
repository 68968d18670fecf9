import { describe, expect, it } from 'vitest'
import { createUpstreamPool } from '../../src/domain/upstream-pool.js'

describe('upstream pool', () => {
  it('when every instance answers, then they are picked in turn', () => {
    const pool = createUpstreamPool('booking', ['a', 'b', 'c'])
    expect([pool.pick(), pool.pick(), pool.pick(), pool.pick()]).toEqual(['a', 'b', 'c', 'a'])
  })

  it('when an instance failed a request, then it is left out until a probe finds it answering', () => {
    const pool = createUpstreamPool('booking', ['a', 'b'])
    pool.markFailed('a')
    expect([pool.pick(), pool.pick(), pool.pick()]).toEqual(['b', 'b', 'b'])
    expect(pool.markProbed('a', false)).toBe(false)
    expect(pool.pick()).toBe('b')
    expect(pool.markProbed('a', true)).toBe(true)
    expect(new Set([pool.pick(), pool.pick()])).toEqual(new Set(['a', 'b']))
  })

  it('when a probe gets no answer, then the instance is ejected, and a change of standing is reported once', () => {
    const pool = createUpstreamPool('booking', ['a', 'b'])
    expect(pool.markProbed('a', true)).toBe(false)
    expect(pool.markProbed('a', false)).toBe(true)
    expect(pool.markProbed('a', false)).toBe(false)
    expect(pool.isEjected('a')).toBe(true)
  })

  it('when no instance answers, then nothing is picked', () => {
    const pool = createUpstreamPool('booking', ['a', 'b'])
    pool.markFailed('a')
    pool.markProbed('b', false)
    expect(pool.pick()).toBeUndefined()
    expect(pool.hasAnswering()).toBe(false)
  })

  it('when asked for another than the one that just failed, then only another answering one is picked', () => {
    const pool = createUpstreamPool('booking', ['a', 'b'])
    for (let i = 0; i < 4; i++) expect(pool.pick('a')).toBe('b')
    expect(pool.hasAnswering('a')).toBe(true)
    pool.markFailed('b')
    expect(pool.pick('a')).toBeUndefined()
    expect(pool.hasAnswering('a')).toBe(false)
  })

  it('when there is one instance, then it is picked while it answers, and never as "another"', () => {
    const pool = createUpstreamPool('booking', ['a'])
    expect([pool.pick(), pool.pick('a')]).toEqual(['a', undefined])
    pool.markFailed('a')
    expect(pool.pick()).toBeUndefined()
  })
})
