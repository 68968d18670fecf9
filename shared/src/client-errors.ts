import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { ERROR_CODES, problemType, type ErrorCode } from '@tickets/contracts/errors'
import type { FastifyInstance } from 'fastify'

const PROBLEM_CONTENT_TYPE = 'application/problem+json'

function codeOf(err: NodeJS.ErrnoException): { code: ErrorCode; detail: string } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { code: 'COMMON_REQUEST_TIMEOUT', detail: 'The request did not arrive in time' }
  if (err.code === 'HPE_HEADER_OVERFLOW') return { code: 'COMMON_HEADERS_TOO_LARGE', detail: 'Request headers are too large' }
  return { code: 'COMMON_VALIDATION', detail: 'The request is not valid HTTP' }
}

/**
 * What Node answers itself, before any request exists (malformed HTTP, headers too large, a request
 * too slow to arrive), as a problem like every other error, with `headers` (the gateway's security
 * headers). The trace id is a fresh one: there is no request to take it from. Written to the socket
 * by hand, as Node's `clientError` event requires: there is no response object yet.
 */
export function problemOnClientError(headers: Readonly<Record<string, string>> = {}) {
  return function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const { code, detail } = codeOf(err)
    const { status, title } = ERROR_CODES[code]
    this.log.debug({ err, code }, 'client error')
    // An answer already under way on this connection cannot be followed by another one.
    const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (socket.writable && !answering?.headersSent) {
      const body = JSON.stringify({ type: problemType(code), title, status, detail, code, traceId: randomUUID().replace(/-/g, '') })
      const lines = [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? title}`,
        `content-type: ${PROBLEM_CONTENT_TYPE}`,
        `content-length: ${Buffer.byteLength(body)}`,
        'connection: close',
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ]
      socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`)
    }
    socket.destroy(err)
  }
}
