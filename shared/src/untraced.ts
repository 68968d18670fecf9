import { context } from '@opentelemetry/api'
import { suppressTracing } from '@opentelemetry/core'

/**
 * Runs `work` with tracing suppressed: the calls it makes export no spans. For a process's look at
 * its own surroundings (the operator console asking Alertmanager, Prometheus and the catalogue
 * every few seconds), whose traces would bury the fans' ones the console is there to show.
 */
export function untraced<T>(work: () => Promise<T>): Promise<T> {
  return context.with(suppressTracing(context.active()), work)
}
