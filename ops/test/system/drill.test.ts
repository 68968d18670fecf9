// Four of the manual's incidents rehearsed end to end in fast mode (npm run drill -- <id> --fast, with
// the latency bounds of MODES.ci because other packages' tests share the cores): each
// on its own throw-away MariaDB, Redis and NATS, npm start's services and a real Prometheus. A check
// that fails (a 5xx, a hang, a slow 503, an alert that does not fire or resolve, a mitigation that
// does not work, money or seats that do not add up) fails the test, naming the check.
import { describe, expect, it } from 'vitest'
import { findIncidents } from '../../src/drill/incidents.js'
import { MODES } from '../../src/drill/modes.js'
import { runDrill } from '../../src/drill/run.js'

const failedChecks = async (id: string) => {
  const [incident] = findIncidents(id)
  const result = await runDrill(incident!, MODES.ci)
  return result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)
}

describe('npm run drill --fast', () => {
  it.each([
    ['Redis hangs under load', '3.3.1-paused'],
    ['Redis reaches maxmemory under load', '3.3.2'],
    ['Redis hangs during a join storm', '3.1.3'],
    ['every answer from MariaDB is 150 ms late', '3.1.2'],
  ])(
    'when %s (%s), then every check of the drill passes',
    async (_what, id) => {
      expect(await failedChecks(id)).toEqual([])
    },
    300_000,
  )
})
