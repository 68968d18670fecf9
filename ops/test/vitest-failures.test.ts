import { describe, expect, it } from 'vitest'
// scripts/ is plain Node run before anything is built, not a package: imported by path.
import { createFailureLog } from '../../scripts/vitest-failures.mjs'

/** vitest's lines as npm test sees them through turbo (colours already stripped). */
const OUTPUT = [
  '@tickets/gateway:test:  ✓ test/proxy.test.ts (12 tests) 900ms',
  '@tickets/gateway:test:  FAIL  test/join-challenge.test.ts > POST /api/queue/token > when switched on, then every instance refuses',
  '@tickets/gateway:test: AssertionError: expected 201 to be 403 // Object.is equality',
  '@tickets/gateway:test:  ❯ test/join-challenge.test.ts:95:20',
  '@tickets/contracts:test:  FAIL  test/broken.test.ts [ test/broken.test.ts ]',
  '@tickets/contracts:test: TypeError: import boom',
  // The same test named again further on (vitest's summary): counted once, its error kept.
  '@tickets/gateway:test:  FAIL  test/join-challenge.test.ts > POST /api/queue/token > when switched on, then every instance refuses',
  '@tickets/gateway:test: Error: a later line',
  '@tickets/gateway:test:      Tests  1 failed | 11 passed (12)',
]

describe('createFailureLog', () => {
  it('when tests fail, then each is listed under its file with the first error line printed for it', () => {
    const log = createFailureLog()
    for (const line of OUTPUT) log.read(line)
    expect(log.size).toBe(2)
    expect(log.lines()).toEqual([
      '@tickets/gateway test/join-challenge.test.ts',
      '  > POST /api/queue/token > when switched on, then every instance refuses',
      '    AssertionError: expected 201 to be 403 // Object.is equality',
      '@tickets/contracts test/broken.test.ts',
      '  > (the file itself)',
      '    TypeError: import boom',
    ])
  })

  it('when a failure has no error line after it, then the test is still listed, without one', () => {
    const log = createFailureLog()
    log.read(' FAIL  test/x.test.ts > quiet')
    log.read(' ✓ test/y.test.ts (1 test) 3ms')
    expect(log.lines()).toEqual(['test/x.test.ts', '  > quiet'])
  })

  it('when nothing fails, then nothing is listed, and an error line outside a failure is not taken for one', () => {
    const log = createFailureLog()
    log.read('@tickets/ops:test: Error: logged by a passing test')
    log.read('@tickets/ops:test:      Tests  3 passed (3)')
    expect(log.size).toBe(0)
    expect(log.lines()).toEqual([])
  })
})
