import { mkdirSync } from 'node:fs'
import { appendFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'

const NEWLINE = Buffer.from('\n')

/**
 * Appends each batch of finished spans to a file as one line of OTLP JSON (`{"resourceSpans":[...]}`,
 * the body the OTLP/HTTP JSON exporter sends): the OpenTelemetry file-exporter format, which Jaeger's
 * UI imports and `npm run ops -- trace` reads. Every process of `npm start` appends to the same file:
 * each line is one write() on a file opened for appending, so lines from several processes never
 * interleave within a line.
 */
export class OtlpJsonLinesExporter implements SpanExporter {
  private pending: Promise<unknown> = Promise.resolve()

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true })
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const body = JsonTraceSerializer.serializeRequest(spans)
    if (!body) return done({ code: ExportResultCode.FAILED, error: new Error('spans could not be serialised') })
    const line = Buffer.concat([body, NEWLINE])
    // One append at a time, in order; the batch processor already waits for each export.
    this.pending = this.pending.then(() =>
      appendFile(this.path, line).then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (error: Error) => done({ code: ExportResultCode.FAILED, error }),
      ),
    )
  }

  async forceFlush(): Promise<void> {
    await this.pending
  }

  async shutdown(): Promise<void> {
    await this.pending
  }
}
