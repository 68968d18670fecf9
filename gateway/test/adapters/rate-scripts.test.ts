import { declarationProblems } from '@tickets/contracts/lua-script'
import { describe, expect, it } from 'vitest'
import { ADD_HITS, INCR_WINDOW } from '../../src/adapters/rate-scripts.js'

describe('the rate-limit scripts', () => {
  it.each([ADD_HITS, INCR_WINDOW])('$command loads and declares the keys and arguments its Lua uses', (script) => {
    expect(script.lua.length).toBeGreaterThan(0)
    expect(declarationProblems(script)).toEqual([])
  })
})
