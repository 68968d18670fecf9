import { Worker } from 'node:worker_threads'
import type { PackedDraw } from '@tickets/contracts/draw-records'
import type { DrawComputer } from '../domain/ports.js'

// The worker runs contracts' own functions: one definition of the order, wherever it is computed.
const DRAW_MODULES = { draw: import.meta.resolve('@tickets/contracts/draw'), records: import.meta.resolve('@tickets/contracts/draw-records') }
// Each batch of entries is hashed as it arrives, while the next one is read from the store; the
// result comes back as transferred buffers, not copied.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const loaded = Promise.all([import(workerData.modules.draw), import(workerData.modules.records)])
const entryIds = []
parentPort.on('message', async (message) => {
  const [{ entryIdOf }, { packedDraw }] = await loaded
  if (message.seed === undefined) {
    for (let i = 0; i < message.userIds.length; i++) entryIds.push(entryIdOf(message.userIds[i], message.salts[i]))
    return
  }
  const drawn = packedDraw(message.seed, entryIds)
  parentPort.postMessage(drawn, [drawn.fans.buffer, drawn.ids.buffer, drawn.places.buffer])
})
`

/**
 * A draw's order, computed in a worker thread started for it: hashing and sorting 100,000 entries
 * takes a few hundred milliseconds of CPU, which would otherwise hold the event loop that answers
 * fans and runs every other concert's admission steps.
 */
export function createWorkerDrawComputer(): DrawComputer {
  return {
    async order(seed, batches) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { modules: DRAW_MODULES } })
      const computed = new Promise<PackedDraw>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.once('exit', (code) => reject(new Error(`the draw worker exited with ${code} before answering`)))
      })
      computed.catch(() => undefined)
      try {
        for await (const batch of batches) worker.postMessage({ userIds: batch.map((e) => e.userId), salts: batch.map((e) => e.salt) })
        worker.postMessage({ seed })
        return await computed
      } finally {
        void worker.terminate()
      }
    },
  }
}
