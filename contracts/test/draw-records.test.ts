import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ENTRY_ID_BYTES, idsOf, packedDraw, PLACE_RECORD_BYTES } from '../src/draw-records.js'
import { drawOrder, entryIdOf } from '../src/draw.js'

const hex = (text: string) => createHash('sha256').update(text).digest('hex')
const entriesOf = (n: number) => Array.from({ length: n }, (_, i) => entryIdOf(`fan-${i}`, hex(`salt-${i}`).slice(0, 32)))
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1')

describe('packedDraw', () => {
  it('packs drawOrder: the ids in drawn order, each place by entry id, and whom each place is for', () => {
    const seed = hex('packed')
    const entries = entriesOf(300)
    const { digest, order } = drawOrder(seed, entries)
    const packed = packedDraw(seed, entries)

    expect(packed).toMatchObject({ digest, entries: 300 })
    expect(idsOf(text(packed.ids))).toEqual(order)
    expect(Array.from(packed.fans, (i) => entries[i])).toEqual(order)
    const records = text(packed.places).match(new RegExp(`.{${PLACE_RECORD_BYTES}}`, 'g'))!
    expect(records.map((r) => r.slice(0, ENTRY_ID_BYTES))).toEqual([...entries].sort())
    for (const r of records) expect(order[Number(r.slice(ENTRY_ID_BYTES)) - 1]).toBe(r.slice(0, ENTRY_ID_BYTES))
  })

  it('when an entry is listed twice, then it is drawn once', () => {
    const entries = entriesOf(20)
    const packed = packedDraw(hex('twice'), [...entries, entries[3]!])
    expect(packed.entries).toBe(20)
    expect(idsOf(text(packed.ids))).toEqual(drawOrder(hex('twice'), entries).order)
  })
})
