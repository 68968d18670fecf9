import type { ErrorCode } from '@tickets/contracts/errors'
import type { Problem } from '../common/problem.js'

/**
 * Plain words for each problem a fan can meet, by its code (docs/api.md, contracts' error registry).
 * A code not listed here is shown with the problem's own title.
 */
export const FAN_MESSAGES: Partial<Record<ErrorCode | 'NETWORK', string>> = {
  NETWORK: 'We could not reach the ticket office. Check your connection; we will try again.',
  COMMON_RATE_LIMITED: 'Too many requests from this device at once. Wait a moment and try again.',
  COMMON_OVERLOADED: 'The ticket office is very busy right now. We will try again for you in a moment.',
  COMMON_DEPENDENCY_DOWN: 'Part of the ticket office is not answering. Nothing was charged; try again in a moment.',
  COMMON_UPSTREAM_UNAVAILABLE: 'Part of the ticket office is not answering. Nothing was charged; try again in a moment.',
  COMMON_UPSTREAM_TIMEOUT: 'The ticket office took too long to answer. Check your booking before trying again.',
  COMMON_SHUTTING_DOWN: 'The ticket office is restarting. Try again in a moment.',
  COMMON_INTERNAL: 'Something went wrong on our side. Nothing was charged.',
  AUTH_MISSING_TOKEN: 'Please sign in first.',
  AUTH_INVALID_TOKEN: 'Your sign-in is not valid any more. Please sign in again.',
  AUTH_TOKEN_EXPIRED: 'Your sign-in has expired. Please sign in again.',
  AUTH_MISSING_USER: 'Please sign in first.',
  QUEUE_TOKEN_MISSING: 'Your place in line was lost on this device. Join the line again: you keep your place.',
  QUEUE_TOKEN_INVALID: 'Your place in line was lost on this device. Join the line again: you keep your place.',
  QUEUE_TOKEN_EXPIRED: 'Your turn to buy has ended. Join the line again to try once more.',
  QUEUE_TOKEN_REVOKED: 'Your turn to buy has ended. Join the line again to try once more.',
  QUEUE_TOKEN_FORBIDDEN: 'This place in line belongs to another concert or another account.',
  QUEUE_NOT_ACTIVE: 'It is not your turn yet. Please wait in line.',
  QUEUE_NOT_IN_LINE: 'You are no longer in line. Join again to get a place.',
  QUEUE_SOLD_OUT: 'This concert is sold out.',
  QUEUE_NOT_OPEN_YET: 'The line for this concert has not opened yet. Keep this page open: it joins for you when it opens.',
  QUEUE_CHALLENGE_FAILED: 'Your browser could not prove it is not a robot in time. We are trying again.',
  QUEUE_CONCERT_NOT_FOUND: 'We could not find this concert.',
  QUEUE_UNAVAILABLE: 'The waiting room is not answering for a moment. You keep your place; we will ask again.',
  BOOKING_CONCERT_NOT_FOUND: 'We could not find this concert.',
  BOOKING_SCHEDULE_NOT_FOUND: 'We could not find this date.',
  BOOKING_SEAT_NOT_FOUND: 'We could not find this seat.',
  BOOKING_SEAT_TAKEN: 'Someone else took this seat a moment ago. Please pick another one.',
  BOOKING_HOLD_LIMIT: 'You already hold as many seats as you may for this date.',
  BOOKING_NOT_OPEN: 'Booking for this date has not opened yet.',
  BOOKING_RESERVATION_NOT_FOUND: 'We could not find this booking.',
  BOOKING_RESERVATION_NOT_HELD: 'This seat is no longer held for you.',
  BOOKING_HOLD_EXPIRED: 'Your hold on this seat ran out. The seat is free again; pick a seat to try once more.',
  PAYMENT_INSUFFICIENT_POINTS: 'You do not have enough points. Add points, then pay.',
  PAYMENT_AMOUNT_OUT_OF_RANGE: 'That amount of points cannot be added (1 to 10,000,000 at a time).',
  PAYMENT_BALANCE_LIMIT: 'Your points balance would go over its limit.',
  PAYMENT_ALREADY_PAID: 'This seat is already paid for.',
  PAYMENT_RESERVATION_NOT_PAYABLE: 'This seat can no longer be paid for. Nothing was charged.',
  PAYMENT_BOOKING_UNAVAILABLE: 'Payment cannot reach the booking office right now. Nothing was charged; try again in a moment.',
  IDEMPOTENCY_IN_PROGRESS: 'Your payment is still going through. Please wait.',
  IDEMPOTENCY_KEY_REUSED: 'This payment was already sent with different details. Reload the page.',
}

export function plainWords(problem: Problem): string {
  return FAN_MESSAGES[problem.code as ErrorCode] ?? (problem.title || 'Something went wrong.')
}
