import type { FastifyBaseLogger } from 'fastify'
import type { Logger } from 'pino'

type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/**
 * A request's logger that makes its pino child (serialising the request's bindings) only when a
 * line is actually written at an enabled level. Every request gets a logger; at `warn` most never
 * write a line, and making the child was a few microseconds of each request on every service.
 */
export class LazyRequestLogger {
  private made: Logger | undefined

  constructor(
    private readonly parent: Logger,
    private readonly makeChild: () => Logger,
  ) {}

  get level(): string {
    return (this.made ?? this.parent).level
  }

  set level(level: string) {
    this.real().level = level
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args)
  }

  error(...args: unknown[]): void {
    this.write('error', args)
  }

  warn(...args: unknown[]): void {
    this.write('warn', args)
  }

  info(...args: unknown[]): void {
    this.write('info', args)
  }

  debug(...args: unknown[]): void {
    this.write('debug', args)
  }

  trace(...args: unknown[]): void {
    this.write('trace', args)
  }

  silent(): void {}

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level)
  }

  child(bindings: Record<string, unknown>, options?: object): FastifyBaseLogger {
    return this.real().child(bindings, options)
  }

  private write(level: LevelName, args: unknown[]): void {
    if (!(this.made ?? this.parent).isLevelEnabled(level)) return
    ;(this.real()[level] as (...a: unknown[]) => void)(...args)
  }

  private real(): Logger {
    return (this.made ??= this.makeChild())
  }
}

/** For Fastify's childLoggerFactory: the lazy logger stands in for pino's child. */
export function lazyRequestLogger(parent: FastifyBaseLogger, makeChild: () => FastifyBaseLogger): FastifyBaseLogger {
  return new LazyRequestLogger(parent as Logger, makeChild as () => Logger) as unknown as FastifyBaseLogger
}
