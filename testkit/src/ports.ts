import { readFile } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'

/** Listens on `port` (0: any the kernel picks) and closes again; the port, or undefined when it is taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', () => resolve(undefined))
    srv.listen(port, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : undefined))
    })
  })
}

const LOW_PORTS_FROM = 20_000

/** The first port the kernel gives outgoing connections (net.ipv4.ip_local_port_range). */
async function ephemeralPortsFrom(): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '')
  return Number(range.trim().split(/\s+/)[0]) || 0
}

/**
 * A port nobody listens on now, for a server started a moment later. It is taken below the kernel's
 * range for outgoing connections where there is room: a port from that range can become the local
 * end of a database or NATS connection before its server starts (a drill's payment-service failed
 * five starts in a row with EADDRINUSE on a port a pooled connection of another service held).
 */
export async function freePort(): Promise<number> {
  const below = await ephemeralPortsFrom()
  for (let attempt = 0; below > LOW_PORTS_FROM + 1_000 && attempt < 20; attempt++) {
    const port = await tryPort(LOW_PORTS_FROM + Math.floor(Math.random() * (below - LOW_PORTS_FROM)))
    if (port) return port
  }
  const any = await tryPort(0)
  if (!any) throw new Error('no free port')
  return any
}

export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
