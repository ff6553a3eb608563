import type { RetryPolicy } from './channel.js';

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 5 * 60_000 };

/**
 * Delay before attempt `attempt + 1`: exponential from `backoffMs`, capped at `maxBackoffMs`, with
 * "equal jitter" (half fixed, half random) so receivers coming back after an outage are not hit
 * by every gateway at the same instant, while the delay still grows.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exp = policy.backoffMs * 2 ** Math.max(0, Math.min(attempt - 1, 30));
  const capped = Math.min(policy.maxBackoffMs, exp);
  return Math.round(capped / 2 + (random() * capped) / 2);
}
