/**
 * The error-code registry: every code any service can answer with, mapped once to its HTTP
 * status and title. Domain code throws `AppError(code)` and never names a status.
 */
export const ERROR_CODES = {
  COMMON_VALIDATION: { status: 400, title: 'Request is not valid' },
  COMMON_BAD_JSON: { status: 400, title: 'Request body is not valid JSON' },
  COMMON_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  COMMON_BODY_TOO_LARGE: { status: 413, title: 'Request body is too large' },
  COMMON_NOT_FOUND: { status: 404, title: 'Not found' },
  COMMON_URI_TOO_LONG: { status: 414, title: 'A path segment is too long' },
  COMMON_REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  COMMON_HEADERS_TOO_LARGE: { status: 431, title: 'Request headers are too large' },
  COMMON_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  COMMON_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  COMMON_OVERLOADED: { status: 503, title: 'Service is overloaded, retry later' },
  COMMON_DEPENDENCY_DOWN: { status: 503, title: 'A dependency is unavailable, retry later' },
  COMMON_UPSTREAM_UNAVAILABLE: { status: 503, title: 'Service unavailable, retry later' },
  COMMON_UPSTREAM_TIMEOUT: { status: 504, title: 'Service did not answer in time' },
  COMMON_FEATURE_DISABLED: { status: 503, title: 'This feature is switched off for now' },
  COMMON_SHUTTING_DOWN: { status: 503, title: 'Service is shutting down' },
  COMMON_DEADLINE_PASSED: { status: 503, title: "The gateway's deadline for this request has passed" },
  COMMON_INTERNAL: { status: 500, title: 'Internal error' },

  AUTH_MISSING_TOKEN: { status: 401, title: 'Authentication required' },
  AUTH_INVALID_TOKEN: { status: 401, title: 'Token is not valid' },
  AUTH_TOKEN_EXPIRED: { status: 401, title: 'Token has expired' },
  AUTH_MISSING_USER: { status: 401, title: 'No authenticated user' },
  AUTH_OPERATOR_FORBIDDEN: { status: 403, title: 'Operator secret required' },
  AUTH_NOT_FROM_GATEWAY: { status: 401, title: 'Services answer only requests the gateway signed' },

  IDEMPOTENCY_KEY_MISSING: { status: 400, title: 'Idempotency-Key header is required' },
  IDEMPOTENCY_KEY_INVALID: { status: 400, title: 'Idempotency-Key must be 1 to 64 visible characters' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key was used with a different request' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, title: 'A request with this Idempotency-Key is still running' },

  QUEUE_TOKEN_MISSING: { status: 401, title: 'X-Queue-Token header is required' },
  QUEUE_TOKEN_INVALID: { status: 401, title: 'Queue token is not valid' },
  QUEUE_TOKEN_EXPIRED: { status: 401, title: 'Queue token has expired' },
  QUEUE_TOKEN_FORBIDDEN: { status: 403, title: 'Queue token belongs to another user or concert' },
  QUEUE_NOT_ACTIVE: { status: 403, title: 'Not admitted yet: wait for your turn' },
  QUEUE_TOKEN_REVOKED: { status: 401, title: 'Queue token has ended' },
  QUEUE_NOT_IN_LINE: { status: 404, title: 'Not in line' },
  QUEUE_SOLD_OUT: { status: 409, title: 'Concert is sold out' },
  QUEUE_CONCERT_NOT_FOUND: { status: 404, title: 'Concert not found' },
  QUEUE_UNAVAILABLE: { status: 503, title: 'Waiting room is unavailable, retry later' },
  QUEUE_NOT_OPEN_YET: { status: 409, title: 'The pre-queue for this concert is not open yet' },
  QUEUE_DRAW_NOT_FOUND: { status: 404, title: 'This concert has no draw' },
  QUEUE_DRAW_NOT_DRAWN: { status: 409, title: 'The draw has not been made yet' },
  QUEUE_DRAW_ENTRY_NOT_FOUND: { status: 404, title: 'No such entry in the draw' },
  QUEUE_CHALLENGE_REQUIRED: { status: 403, title: 'Joining this line needs a proof of work' },
  QUEUE_CHALLENGE_FAILED: { status: 403, title: 'The proof of work was not accepted' },
  QUEUE_PRESALE_CODE_WRONG: { status: 403, title: 'This presale code is not valid for this concert' },
  QUEUE_PRESALE_CODE_EXPIRED: { status: 403, title: 'This presale code is outside its window' },
  QUEUE_PRESALE_CODE_SPENT: { status: 409, title: 'This presale code has no uses left' },
  QUEUE_PRESALE_CODE_OTHER: { status: 409, title: 'You joined this concert with another presale code' },

  BOOKING_CONCERT_NOT_FOUND: { status: 404, title: 'Concert not found' },
  BOOKING_SCHEDULE_NOT_FOUND: { status: 404, title: 'Schedule not found' },
  BOOKING_SEAT_NOT_FOUND: { status: 404, title: 'Seat not found' },
  BOOKING_SEAT_TAKEN: { status: 409, title: 'Seat is already held or sold' },
  BOOKING_HOLD_LIMIT: { status: 409, title: 'Too many seats held for this schedule' },
  BOOKING_NOT_OPEN: { status: 409, title: 'Booking is not open for this schedule' },
  BOOKING_RESERVATION_NOT_FOUND: { status: 404, title: 'Reservation not found' },
  BOOKING_RESERVATION_NOT_HELD: { status: 409, title: 'Reservation is not held' },
  BOOKING_HOLD_EXPIRED: { status: 409, title: 'Hold has expired' },

  PAYMENT_INSUFFICIENT_POINTS: { status: 409, title: 'Not enough points' },
  PAYMENT_AMOUNT_OUT_OF_RANGE: { status: 400, title: 'Amount out of range' },
  PAYMENT_BALANCE_LIMIT: { status: 409, title: 'Balance would exceed the limit' },
  PAYMENT_NOT_FOUND: { status: 404, title: 'Payment not found' },
  PAYMENT_ALREADY_PAID: { status: 409, title: 'Reservation is already paid' },
  PAYMENT_RESERVATION_NOT_PAYABLE: { status: 409, title: 'Reservation cannot be paid' },
  PAYMENT_BOOKING_UNAVAILABLE: { status: 503, title: 'Booking service is unavailable, retry later' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof ERROR_CODES

export interface AppErrorOptions {
  cause?: unknown
  /** Extra members for the problem body (e.g. `retryAfterSeconds`). */
  extra?: Record<string, unknown>
  /** Response headers that belong with this error, e.g. Retry-After. */
  headers?: Record<string, string>
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly title: string
  readonly extra: Record<string, unknown> | undefined
  readonly headers: Record<string, string> | undefined

  constructor(code: ErrorCode, detail?: string, options: AppErrorOptions = {}) {
    const entry = ERROR_CODES[code]
    // An AppError is an expected outcome (a lost seat race, a rate limit, shedding), thrown by the
    // thousand under load: capturing a stack for each cost ~7% of the gateway's CPU in a profile.
    // The cause, when there is one, keeps its own stack.
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(detail ?? entry.title, options.cause === undefined ? undefined : { cause: options.cause })
    Error.stackTraceLimit = stackTraceLimit
    this.name = 'AppError'
    this.code = code
    this.status = entry.status
    this.title = entry.title
    this.extra = options.extra
    this.headers = options.headers
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError
}

export function problemType(code: ErrorCode | string): string {
  return `/errors/${code.toLowerCase().replace(/_/g, '-')}`
}
