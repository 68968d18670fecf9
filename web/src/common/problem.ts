/** An RFC 9457 problem as the gateway and the services answer it. */
export interface Problem {
  status: number
  code: string
  title: string
  detail?: string
  traceId?: string
  /** A problem's own members beyond RFC 9457's (e.g. the join challenge to solve). */
  extra?: Record<string, unknown>
}

export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly retryAfter: number | null,
  ) {
    super(problem.detail ?? problem.title)
  }
}

/** The answer's problem body, or one made up for an answer that is not one (a proxy's HTML page, a cut connection). */
export async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '')
  try {
    const body = JSON.parse(text) as Partial<Problem> & Record<string, unknown>
    if (typeof body.code === 'string') return { status: res.status, code: body.code, title: body.title ?? '', detail: body.detail, traceId: body.traceId, extra: body }
  } catch {
    // not JSON: described below by its status
  }
  return { status: res.status, code: `HTTP_${res.status}`, title: res.statusText }
}

export const NETWORK_PROBLEM: Problem = { status: 0, code: 'NETWORK', title: 'No answer' }
