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
 *
 * One queue and one timer per connection: a timer per chunk let two chunks due in the same
 * millisecond leave in either order (the timers' durations differ by a rounding), and the client
 * then read a garbled protocol stream, which no real link does.
 */
export async function startDelayProxy(target: { host: string; port: number }): Promise<DelayProxy> {
  let delay = 0
  const sockets = new Set<Socket>()
  // No Nagle on either side, as the client and the server each set on their own sockets: with it,
  // a statement pipelined behind another waited for a delayed ACK, 40 ms, at any delay (even 0).
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = createConnection({ ...target, noDelay: true })
    sockets.add(client).add(upstream)
    const queue: { at: number; chunk: Buffer }[] = []
    let timer: NodeJS.Timeout | undefined
    let upstreamClosed = false
    const drain = () => {
      timer = undefined
      const now = performance.now()
      while (queue.length > 0 && queue[0]!.at <= now) {
        if (client.writable) client.write(queue.shift()!.chunk)
        else queue.shift()
      }
      if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0]!.at - now))
      else if (upstreamClosed) end()
    }
    upstream.on('data', (chunk: Buffer) => {
      // Never before the chunk ahead of it, even when the delay was just lowered.
      queue.push({ at: Math.max(performance.now() + delay, queue.at(-1)?.at ?? 0), chunk })
      if (!timer) drain()
    })
    client.pipe(upstream)
    const end = () => {
      if (timer) clearTimeout(timer)
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', () => {
      upstreamClosed = true
      if (!timer) end()
    })
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
