export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  kind: number
  service: string
  attributes: Record<string, unknown>
  status: number
}

function hexId(id: unknown): string {
  if (typeof id !== 'string') return ''
  return /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex')
}

/** A minimal OTLP/HTTP (JSON) trace receiver (on a free port unless one is given): what a collector would get. */
export async function startOtlpReceiver({ port: wanted = 0 }: { port?: number } = {}): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const { createServer: createHttpServer } = await import('node:http')
  const spans: ReceivedSpan[] = []
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]
        }
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? 'unknown'
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const attributes = Object.fromEntries(((s.attributes as { key: string; value: Record<string, unknown> }[]) ?? []).map((a) => [a.key, Object.values(a.value)[0]]))
              spans.push({
                traceId: hexId(s.traceId),
                spanId: hexId(s.spanId),
                parentSpanId: s.parentSpanId ? hexId(s.parentSpanId) || undefined : undefined,
                name: String(s.name),
                kind: Number(s.kind),
                service,
                attributes,
                status: Number((s.status as { code?: number } | undefined)?.code ?? 0),
              })
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch {
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(wanted, '127.0.0.1', resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
