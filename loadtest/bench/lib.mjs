// Shared pieces of the benchmark scripts: start a real service process, measure it with autocannon,
// print figures as ratios against a baseline measured in the same run on the same machine.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { GATEWAY_SIGNATURE_HEADER, gatewayKey, signGatewayRequest } from '@tickets/contracts/gateway-signature'
import { freePort } from '@tickets/testkit'
import autocannon from 'autocannon'

export { freePort }

export const root = fileURLToPath(new URL('../../', import.meta.url))

const internalSecret = randomBytes(32).toString('base64url')

/**
 * Headers for a request sent straight to a service started here, as the gateway would send it:
 * signed, the gateway waiting `withinMs` (long enough for a whole run, so autocannon repeats them).
 */
export function asGateway(method, path, headers = {}, withinMs = 600_000) {
  const signature = signGatewayRequest(gatewayKey(internalSecret), { method, url: path, headers }, Date.now() + withinMs)
  return { ...headers, [GATEWAY_SIGNATURE_HEADER]: signature }
}

/** Starts `node --import <telemetry> dist/server.js` in a package directory and waits for readiness. */
export async function startService(dir, env, { telemetry = true } = {}) {
  const port = env.PORT ?? String(await freePort())
  const adminPort = env.ADMIN_PORT ?? String(await freePort())
  const args = telemetry ? ['--import', '@tickets/shared/telemetry/register', 'dist/server.js'] : ['dist/server.js']
  const child = spawn(process.execPath, args, {
    cwd: `${root}${dir}`,
    env: { ...process.env, TZ: 'UTC', LOG_LEVEL: 'warn', INTERNAL_SECRET: internalSecret, ...env, PORT: port, ADMIN_PORT: adminPort },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${dir} exited with ${child.exitCode}`)
    if (
      await fetch(`http://127.0.0.1:${adminPort}/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break
    if (Date.now() > deadline) throw new Error(`${dir} not ready after 30 s`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}

export async function measure(url, { duration = 10, connections = 64, headers = {}, method = 'GET', body } = {}) {
  const result = await autocannon({ url, duration, connections, headers, method, body, pipelining: 1 })
  return { rps: result.requests.average, p95: result.latency.p97_5 ?? result.latency.p99, non2xx: result.non2xx, errors: result.errors }
}

export function machine() {
  return `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`
}

export function printTable(title, rows, baselineName) {
  const base = rows.find((r) => r.name === baselineName)
  console.log(`\n## ${title}\n\n${new Date().toISOString()}, ${machine()}\n`)
  console.log('| run | req/s | p97.5 ms | non-2xx | errors | vs baseline |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
  for (const r of rows) {
    const ratio = base ? `${((100 * r.rps) / base.rps).toFixed(1)}%` : ''
    console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p95} | ${r.non2xx} | ${r.errors} | ${ratio} |`)
  }
}
