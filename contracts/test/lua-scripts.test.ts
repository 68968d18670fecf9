import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LINE_SCRIPTS } from '../src/line-commands.js'
import * as draw from '../src/line-draw-scripts.js'
import * as fan from '../src/line-fan-scripts.js'
import * as inventory from '../src/line-inventory-scripts.js'
import * as presale from '../src/line-presale-scripts.js'
import * as step from '../src/line-step-scripts.js'
import { declarationProblems } from '../src/lua-script.js'

const declared = Object.values({ ...fan, ...step, ...draw, ...inventory, ...presale }).filter((v) => typeof v === 'object' && 'lua' in v)

describe('the line scripts', () => {
  it('when loaded, then every declared script is defined on a line client and every .lua file is part of one', () => {
    expect(new Set(LINE_SCRIPTS)).toEqual(new Set(declared))
    const files = readdirSync(fan.LUA_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lua'))
    const used = new Set(LINE_SCRIPTS.flatMap((s) => s.files))
    expect(files.filter((f) => !used.has(f))).toEqual([])
  })

  it('when declared, then each has its own command name', () => {
    expect(new Set(LINE_SCRIPTS.map((s) => s.command)).size).toBe(LINE_SCRIPTS.length)
  })

  it.each(LINE_SCRIPTS.map((s) => [s.command, s] as const))('%s declares the keys and arguments its Lua uses', (_, script) => {
    expect(declarationProblems(script)).toEqual([])
  })
})
