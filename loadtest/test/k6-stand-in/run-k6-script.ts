import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker, type MessagePort } from 'node:worker_threads'
import { build, type Plugin } from 'esbuild'
import { request } from 'undici'
import type { HttpCall, HttpReply, MetricType } from './state.js'

const here = dirname(fileURLToPath(import.meta.url))

/** The k6 modules the stand-in has, each exporting only names real k6 has; any other import fails. */
const K6_MODULES: Record<string, string> = {
  k6: 'k6.ts',
  'k6/http': 'k6-http.ts',
  'k6/metrics': 'k6-metrics.ts',
  'k6/crypto': 'k6-crypto.ts',
  'k6/encoding': 'k6-encoding.ts',
  'k6/execution': 'k6-execution.ts',
}

const k6Modules: Plugin = {
  name: 'k6-stand-in',
  setup(b) {
    b.onResolve({ filter: /^k6(\/|$)/ }, ({ path }) => {
      const file = K6_MODULES[path]
      return file ? { path: join(here, file) } : { errors: [{ text: `"${path}" is not a k6 module the stand-in knows` }] }
    })
  },
}

export interface K6RunResult {
  /** Breaches of k6's rules: the bundle did not build, a metric made outside init, a bad threshold… */
  violations: string[]
  /** The init context threw (k6 would not start the test). */
  initError: string | null
  iterationErrors: string[]
  aborted: string | null
  sleeps: number[]
  /** How long each iteration lasted on the stand-in's clock (moved only by sleep()), in seconds. */
  iterationSeconds: number[]
  checks: { name: string; ok: boolean }[]
  metrics: Record<string, { type: MetricType; isTime: boolean; samples: { value: number; tags: Record<string, string> }[] }>
}

async function bundle(scriptPath: string, outfile: string): Promise<string[]> {
  const entry = `import { runLifecycle } from ${JSON.stringify(join(here, 'lifecycle.ts'))}\nimport * as script from ${JSON.stringify(scriptPath)}\nrunLifecycle(script)\n`
  try {
    await build({
      stdin: { contents: entry, resolveDir: here, loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile,
      plugins: [k6Modules],
      logLevel: 'silent',
    })
    return []
  } catch (err) {
    const errors = (err as { errors?: { text: string }[] }).errors
    return errors?.length ? errors.map((e) => e.text) : [String(err)]
  }
}

async function answer(call: HttpCall): Promise<HttpReply> {
  const started = performance.now()
  try {
    const res = await request(call.url, { method: call.method as 'GET', headers: call.headers, body: call.body ?? undefined })
    const body = await res.body.text()
    const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]))
    return { status: res.statusCode, headers, body, durationMs: performance.now() - started }
  } catch {
    // k6 answers a failed connection with status 0 and an empty body.
    return { status: 0, headers: {}, body: '', durationMs: performance.now() - started }
  }
}

/** Bundles a k6 script against the stand-in modules and runs it as one VU in a worker thread. */
export async function runK6Script(scriptPath: string, opts: { env: Record<string, string>; iterations: number; seed?: number }): Promise<K6RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-stand-in-'))
  const empty: K6RunResult = { violations: [], initError: null, iterationErrors: [], aborted: null, sleeps: [], iterationSeconds: [], checks: [], metrics: {} }
  try {
    const outfile = join(dir, 'script.mjs')
    const buildErrors = await bundle(scriptPath, outfile)
    if (buildErrors.length) return { ...empty, violations: buildErrors }
    const worker = new Worker(outfile, { workerData: { env: opts.env, iterations: opts.iterations, seed: opts.seed ?? 1 } })
    try {
      return await new Promise<K6RunResult>((resolve) => {
        worker.on('message', (m: { kind: 'http'; call: HttpCall; signal: Int32Array; port: MessagePort } | { kind: 'done'; result: Omit<K6RunResult, 'initError'> }) => {
          if (m.kind === 'done') return resolve({ ...m.result, initError: null })
          void answer(m.call).then((reply) => {
            m.port.postMessage(reply)
            Atomics.store(m.signal, 0, 1)
            Atomics.notify(m.signal, 0)
          })
        })
        worker.on('error', (err) => resolve({ ...empty, initError: err.message }))
        worker.on('exit', (code) => resolve({ ...empty, initError: `the worker exited with ${code} before the script finished` }))
      })
    } finally {
      await worker.terminate()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
