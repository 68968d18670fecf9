import { createConnection, createServer, type Socket } from 'node:net'

export interface DelayProxy {
  port: number
  /** Every answer from the server reaches the client this much later (0: none), in order. */
  setDelay(ms: number): void
  delayMs(): number
  close(): Promise<void>
}

/**
 * A TCP hop in front of a server that can add latency to its answers, as a congested or far-away
 * link would: each chunk the server sends is passed on `delay` ms after it arrived, never before the
 * chunk ahead of it. The drills put it between the services and MariaDB.
 */
export async function startDelayProxy(target: { host: string; port: number }): Promise<DelayProxy> {
  let delay = 0
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = createConnection(target)
    sockets.add(client).add(upstream)
    let nextAt = 0
    upstream.on('data', (chunk: Buffer) => {
      if (delay === 0 && nextAt <= Date.now()) {
        client.write(chunk)
        return
      }
      nextAt = Math.max(Date.now() + delay, nextAt)
      setTimeout(() => client.writable && client.write(chunk), nextAt - Date.now())
    })
    client.pipe(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', () => setTimeout(end, Math.max(0, nextAt - Date.now())))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('the delay proxy has no port')
  return {
    port: address.port,
    setDelay: (ms) => {
      delay = Math.max(0, ms)
    },
    delayMs: () => delay,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
