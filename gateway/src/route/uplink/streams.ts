import { nanos, StorageType, type JetStreamManager, type StreamConfig } from 'nats';

// JetStream API error codes (nats-server server/errors.json).
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;

export function apiErrorCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } }).api_error?.err_code;
}

/**
 * Creates the stream when it is missing. One that exists is left as it is: whoever created it (the
 * router, an operator with other limits) decides its configuration. `subjects` is what the stream
 * captures, for the caller to warn about a list that differs from ours (events it does not capture
 * are never stored).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: readonly string[],
  duplicateWindowMs: number,
  /** Further limits for a stream we create (`max_msgs_per_subject` for the gateways' last word). */
  extra: Partial<StreamConfig> = {},
): Promise<{ created: boolean; subjects: string[] }> {
  try {
    const info = await jsm.streams.info(name);
    return { created: false, subjects: info.config.subjects ?? [] };
  } catch (err) {
    if (apiErrorCode(err) !== STREAM_NOT_FOUND) throw err;
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [...subjects],
      storage: StorageType.File,
      duplicate_window: nanos(duplicateWindowMs),
      ...extra,
    });
    return { created: true, subjects: [...subjects] };
  } catch (err) {
    // The router started at the same moment and created it first (with its own configuration).
    if (apiErrorCode(err) !== STREAM_NAME_IN_USE) throw err;
    return { created: false, subjects: (await jsm.streams.info(name)).config.subjects ?? [] };
  }
}

export function sameSubjects(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}

/**
 * The gateways' own stream: the last heartbeat, `silent` and `back` of each site, so a router
 * that starts later still knows a gateway that went quiet before it (README "Self-watch").
 * Apart from the events stream (`vigie.*.incident.*`, `vigie.*.job.*`): JetStream refuses two
 * streams whose subjects overlap, and these must not take the events' retention.
 */
export const GATEWAYS_STREAM = {
  name: 'VIGIE_GATEWAYS',
  subjects: ['vigie.*.gateway.>'],
  config: { max_msgs_per_subject: 1 } satisfies Partial<StreamConfig>,
};
