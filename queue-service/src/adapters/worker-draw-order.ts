import { Worker } from 'node:worker_threads'
import type { DrawComputer } from '../domain/ports.js'

// The worker runs contracts' own functions: one definition of the order, wherever it is computed.
const DRAW_MODULE = import.meta.resolve('@tickets/contracts/draw')
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
import(workerData.module).then(({ drawOrder, entryIdOf }) => {
  parentPort.once('message', ({ seed, entries }) => {
    const entryIds = entries.map(([userId, salt]) => entryIdOf(userId, salt))
    parentPort.postMessage({ entryIds, ...drawOrder(seed, entryIds) })
  })
  parentPort.postMessage('ready')
})
`

type Computed = Awaited<ReturnType<DrawComputer['order']>>

/**
 * A draw's order, computed in a worker thread started for it: hashing and sorting 100,000 entries
 * takes several hundred milliseconds of CPU, which would otherwise hold the event loop that answers
 * fans and runs every other concert's admission steps.
 */
export function createWorkerDrawComputer(): DrawComputer {
  return {
    order(seed, entries) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: DRAW_MODULE } })
      const computed = new Promise<Computed>((resolve, reject) => {
        worker.on('message', (message: 'ready' | Computed) => {
          if (message === 'ready') worker.postMessage({ seed, entries: entries.map((e) => [e.userId, e.salt]) })
          else resolve(message)
        })
        worker.once('error', reject)
        worker.once('exit', (code) => reject(new Error(`the draw worker exited with ${code} before answering`)))
      })
      return computed.finally(() => void worker.terminate())
    },
  }
}
