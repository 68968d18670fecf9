import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { startDelayProxy, type DelayProxy } from '@tickets/testkit'

let server: Server | undefined
let proxy: DelayProxy | undefined
afterEach(async () => {
  await proxy?.close()
  server?.close()
})

const COUNT = 4_000

/** A server that writes the numbers 0..COUNT-1, one 4-byte write per event-loop turn. */
async function countingServer(): Promise<number> {
  server = createServer((socket: Socket) => {
    let n = 0
    const next = () => {
      if (n === COUNT) return void socket.end()
      const b = Buffer.alloc(4)
      b.writeUInt32BE(n++)
      socket.write(b)
      setImmediate(next)
    }
    next()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as { port: number }).port
}

it('passes every byte on in the order the server sent it while the delay is raised and lowered', async () => {
  proxy = await startDelayProxy({ host: '127.0.0.1', port: await countingServer() })
  const changes = setInterval(() => proxy!.setDelay([0, 3, 1, 7, 0, 2][Math.floor(Math.random() * 6)]!), 2)
  const client = createConnection({ host: '127.0.0.1', port: proxy.port })
  const chunks: Buffer[] = []
  client.on('data', (c: Buffer) => chunks.push(c))
  await once(client, 'end')
  clearInterval(changes)
  const all = Buffer.concat(chunks)
  expect(all.length).toBe(COUNT * 4)
  const outOfOrder = Array.from({ length: COUNT }, (_, i) => all.readUInt32BE(i * 4)).findIndex((n, i) => n !== i)
  expect(outOfOrder).toBe(-1)
})

it('adds the delay it is set to', async () => {
  proxy = await startDelayProxy({ host: '127.0.0.1', port: await countingServer() })
  proxy.setDelay(120)
  const started = performance.now()
  const client = createConnection({ host: '127.0.0.1', port: proxy.port })
  await once(client, 'data')
  expect(performance.now() - started).toBeGreaterThanOrEqual(115)
  client.destroy()
})

it('passes a message written right behind another on at once (no Nagle delay)', async () => {
  // Answers once it has both halves of a request: the second half is what Nagle would hold back.
  server = createServer((socket: Socket) => {
    let received = 0
    socket.setNoDelay(true)
    socket.on('data', (c: Buffer) => {
      received += c.length
      if (received >= 2) {
        received -= 2
        socket.write('k')
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  proxy = await startDelayProxy({ host: '127.0.0.1', port: (server.address() as { port: number }).port })
  const client = createConnection({ host: '127.0.0.1', port: proxy.port, noDelay: true })
  await once(client, 'connect')
  const rounds: number[] = []
  for (let i = 0; i < 20; i++) {
    const started = performance.now()
    client.write('a')
    await new Promise((r) => setTimeout(r, 1))
    client.write('b')
    await once(client, 'data')
    rounds.push(performance.now() - started)
  }
  client.destroy()
  expect(Math.max(...rounds)).toBeLessThan(25)
})
