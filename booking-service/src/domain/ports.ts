export interface ConcertSummary {
  concertId: string
  title: string
  artist: string
  venue: string
}

export interface ScheduleSummary {
  scheduleId: string
  concertId: string
  startsAt: string
  bookingOpensAt: string
  totalSeats: number
  availableSeats: number
}

export interface CatalogueStore {
  listConcerts(): Promise<ConcertSummary[]>
  concertExists(concertId: string): Promise<boolean>
  listSchedules(concertId: string, now: Date): Promise<ScheduleSummary[]>
}

export interface Clock {
  now(): Date
}
