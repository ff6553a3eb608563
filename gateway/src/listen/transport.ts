/** How the gateway reaches MQTT: its own embedded broker, or a broker already on site. */
export interface MqttTransport {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every accepted device or foreign publish; never the gateway's own publishes. */
  onMessage(handler: (topic: string, payload: Buffer) => void): void;
  publish(topic: string, payload: string | Buffer, opts?: { retain?: boolean; qos?: 0 | 1 }): void;
  readonly connected: boolean;
  /** Embedded broker: the port actually bound (config port 0 picks a free one). */
  readonly port?: number;
}
