import { describe, expect, it } from 'vitest'
import { main } from '../src/runner/cli.js'

describe('npm run load: arguments', () => {
  // A closed port as the gateway: a check that came after the readiness probe would answer 1, not 2.
  const offline = ['--base-url', 'http://127.0.0.1:1']

  it.each(['abc', '2.5', '=-5'])('when --warmup is %s, then it refuses with 2 before putting anything on sale', async (value) => {
    const args = value.startsWith('=') ? [`--warmup${value}`] : ['--warmup', value]
    expect(await main(['ticket-open', ...args, ...offline])).toBe(2)
  })

  it.each(['0', 'many', '1.5'])('when --connections is %s, then it refuses with 2 before putting anything on sale', async (value) => {
    expect(await main(['ticket-open', '--connections', value, ...offline])).toBe(2)
  })

  it('when the scenario is unknown, then it prints the usage and answers 2', async () => {
    expect(await main(['no-such-scenario', ...offline])).toBe(2)
  })

  it('when the gateway does not answer, then it says so and answers 1', async () => {
    expect(await main(['ticket-open', '--warmup', '0', ...offline])).toBe(1)
  })
})
