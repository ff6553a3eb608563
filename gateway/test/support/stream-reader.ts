import { connect, type NatsConnection } from 'nats';

export interface StreamMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  event: any;
}

/**
 * Reads a whole JetStream stream from the start with an ordered consumer, as an outside observer
 * (the contact center) would: what is in the stream is what was delivered.
 */
export async function readStream(url: string, stream: string, idleMs = 1000): Promise<StreamMessage[]> {
  const nc: NatsConnection = await connect({ servers: url });
  try {
    const js = nc.jetstream();
    const consumer = await js.consumers.get(stream);
    const out: StreamMessage[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: idleMs });
      let n = 0;
      for await (const m of batch) {
        n++;
        out.push({
          seq: m.seq,
          subject: m.subject,
          msgId: m.headers?.get('Nats-Msg-Id'),
          event: m.json(),
        });
      }
      if (n === 0) return out;
    }
  } finally {
    await nc.close();
  }
}
