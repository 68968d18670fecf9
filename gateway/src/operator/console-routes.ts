import { AppError } from '@tickets/contracts/errors'
import { EMERGENCY_MODES, lineControls } from '@tickets/contracts/line-controls'
import { recentChanges, recordChange } from '@tickets/contracts/operator-audit'
import { isQueueId } from '@tickets/contracts/queue-token'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type TSchema } from 'typebox'
import { readSwitches } from '../adapters/redis-switches.js'
import { firingAlerts, pollsPerSecond } from './monitoring.js'
import type { TracesTail } from './traces-tail.js'

export const OPERATOR_NAME_HEADER = 'x-operator-name'

export interface ConsoleOptions {
  traces: TracesTail
  /** Concert id -> title, for the cards (ids alone for concerts not on sale). */
  titles: () => Promise<Record<string, string>>
  alertmanagerUrl: string | undefined
  prometheusUrl: string | undefined
  slowTraceMs: number
  /** One overview is shared by every console refreshing within this time. */
  overviewCacheMs: number
  timeoutMs: number
}

const ConcertParams = Type.Object({ concertId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) })

/** The name the operator gave at the console (or `ops` sends); every change is recorded under it. */
export function operatorOf(request: FastifyRequest): string {
  const name = request.headers[OPERATOR_NAME_HEADER]
  if (name === undefined) return 'unnamed'
  if (typeof name !== 'string' || !/^[\p{L}\p{N} ._@()-]{1,64}$/u.test(name.trim()))
    throw new AppError('COMMON_VALIDATION', `Say who you are in ${OPERATOR_NAME_HEADER} (1 to 64 letters, digits, spaces, . _ @ ( ) -): changes are recorded by name`)
  return name.trim()
}

async function viaRedis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (err) {
    throw new AppError('COMMON_DEPENDENCY_DOWN', 'Redis did not answer; nothing was switched', { cause: err, headers: { 'retry-after': '1' } })
  }
}

/**
 * The operator console's API, on the operator listener (behind its secret): one overview of every
 * line, the switches, the alerts, the recent slow and failing traces and the latest changes, a
 * trace's waterfall by id, and the runbook's switches for one concert's line.
 */
export async function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions) {
  const controls = lineControls(app.redis)
  let overview: { at: number; value: Promise<unknown> } | undefined

  async function buildOverview() {
    const [concerts, switches, changes, alerts, polls, traces, titles] = await Promise.all([
      viaRedis(() => controls.concerts()),
      viaRedis(() => readSwitches(app.redis)),
      viaRedis(() => recentChanges(app.redis, 20)),
      firingAlerts(opts.alertmanagerUrl, opts.timeoutMs),
      pollsPerSecond(opts.prometheusUrl, opts.timeoutMs),
      opts.traces.recent({ slowerThanMs: opts.slowTraceMs, limit: 10 }),
      opts.titles(),
    ])
    const lines = await viaRedis(() => Promise.all(concerts.sort().map((id) => controls.status(id))))
    const { value: pollRates, ...pollSource } = polls.configured && polls.reachable ? polls : { ...polls, value: undefined }
    return {
      at: new Date().toISOString(),
      lines: lines.map((line) => ({ ...line, title: titles[line.concertId] ?? null, pollsPerSecond: pollRates ? (pollRates[line.concertId] ?? 0) : null })),
      polls: pollSource,
      switches: { ...switches, challenges: Object.fromEntries(switches.challenges) },
      alerts,
      traces: traces ?? { source: null },
      slowTraceMs: opts.slowTraceMs,
      changes,
    }
  }

  app.get('/overview', async () => {
    const now = Date.now()
    if (!overview || now - overview.at >= opts.overviewCacheMs) {
      overview = { at: now, value: buildOverview() }
      overview.value.catch(() => (overview = undefined))
    }
    return overview.value
  })

  app.get('/traces/:traceId', { schema: { params: Type.Object({ traceId: Type.String({ pattern: '^[0-9a-fA-F]{32}$' }) }) } }, async (request) => {
    const { traceId } = request.params as { traceId: string }
    const found = await opts.traces.trace(traceId)
    if (found === null) throw new AppError('COMMON_NOT_FOUND', 'No traces file: start the services with TRACES_FILE set (npm start does with TRACES_FILE=.data/traces.jsonl)')
    if (!found.trace)
      throw new AppError(
        'COMMON_NOT_FOUND',
        `No span of trace ${traceId} in the last ${Math.round(found.source.readBytes / 1024)} KB of ${found.source.file} (spans are written about a second after they end)`,
      )
    return found
  })

  const change = async (request: FastifyRequest, action: string, value: string | number | undefined, apply: (concertId: string) => Promise<unknown>) => {
    const who = operatorOf(request)
    const { concertId } = request.params as { concertId: string }
    if (!isQueueId(concertId)) throw new AppError('COMMON_VALIDATION', 'concertId: 1-64 letters, digits, _ or -')
    await viaRedis(() => apply(concertId))
    const entry = await viaRedis(() => recordChange(app.redis, { who, action, target: concertId, ...(value === undefined ? {} : { value }) }))
    request.log.warn({ change: entry }, 'operator changed a line')
    overview = undefined
    return viaRedis(() => controls.status(concertId))
  }

  const params = { params: ConcertParams }
  app.post('/lines/:concertId/pause', { schema: params }, (r) => change(r, 'queue:pause', undefined, (id) => controls.pause(id)))
  app.post('/lines/:concertId/resume', { schema: params }, (r) => change(r, 'queue:resume', undefined, (id) => controls.resume(id)))
  app.post('/lines/:concertId/reset', { schema: params }, (r) => change(r, 'queue:reset', undefined, (id) => controls.reset(id)))
  /** PUT /lines/:concertId/<setting> with `{ <field>: value }` as `schema` says: the change, applied and recorded as `action`. */
  const putSetting = <V extends string | number>(setting: string, field: string, schema: TSchema, action: string, apply: (concertId: string, value: V) => Promise<unknown>) =>
    app.put(`/lines/:concertId/${setting}`, { schema: { ...params, body: Type.Object({ [field]: schema }, { additionalProperties: false }) } }, (r) => {
      const value = (r.body as Record<string, V>)[field]!
      return change(r, action, value, (id) => apply(id, value))
    })
  putSetting<(typeof EMERGENCY_MODES)[number]>('emergency', 'mode', Type.Union(EMERGENCY_MODES.map((m) => Type.Literal(m))), 'queue:emergency', (id, mode) =>
    controls.emergency(id, mode),
  )
  putSetting<number>('rate', 'perSecond', Type.Number({ minimum: 0, maximum: 100_000 }), 'queue:set-rate', (id, perSecond) => controls.setRate(id, perSecond))
  putSetting<number>('cap', 'cap', Type.Integer({ minimum: 0, maximum: 10_000_000 }), 'queue:set-cap', (id, cap) => controls.setCap(id, cap))
}
