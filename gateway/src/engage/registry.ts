import type { ChannelConfig } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Channel } from './channel.js';
import { ConsoleChannel } from './channels/console.js';
import { WebhookChannel } from './channels/webhook.js';
import { EmailChannel } from './channels/email.js';
import { SmsChannel } from './channels/sms.js';
import { VoiceChannel } from './channels/voice.js';
import { ModemChannel } from './channels/modem.js';
import { RelayChannel } from './channels/relay.js';
import type { PinFactory } from '../io/gpio.js';
import type { LiveHub } from './live-hub.js';
import type { PromptSource } from './voice/prompt-source.js';

export interface ChannelDeps {
  logger: Logger;
  live?: LiveHub;
  clock?: Clock;
  /** config `http.publicUrl`: where providers post callbacks and fetch prompts. */
  publicUrl?: string;
  prompts?: PromptSource;
  /** The gateway's GPIO lines (relay channels). */
  gpio?: PinFactory;
  /** Another configured channel by name (an SMS channel's modem fallback). */
  channel?: (name: string) => Channel | undefined;
}

type Factory<T extends ChannelConfig> = (name: string, cfg: T, deps: ChannelDeps) => Channel;

/** Configuration `type` -> factory. A new channel kind is one entry here and one file in channels/. */
const FACTORIES: { [K in ChannelConfig['type']]: Factory<Extract<ChannelConfig, { type: K }>> } = {
  console: (name, _cfg, deps) => new ConsoleChannel(name, deps),
  webhook: (name, cfg, deps) => new WebhookChannel(name, cfg, deps.clock),
  email: (name, cfg) => new EmailChannel(name, cfg),
  sms: (name, cfg, deps) => new SmsChannel(name, cfg, deps),
  voice: (name, cfg, deps) => new VoiceChannel(name, cfg, deps),
  modem: (name, cfg, deps) => new ModemChannel(name, cfg, deps),
  relay: (name, cfg, deps) => new RelayChannel(name, cfg, deps),
};

/**
 * Builds the configured channels by name. `console` always exists (README "Rules": the default
 * `via`), so a first run with no configuration still shows its alerts.
 */
export function createChannels(
  config: Readonly<Record<string, ChannelConfig>>,
  deps: ChannelDeps,
): Map<string, Channel> {
  const out = new Map<string, Channel>();
  const withLookup: ChannelDeps = { ...deps, channel: (name) => out.get(name) };
  // Modems first: an SMS channel takes its fallback modem when it is built.
  const entries = Object.entries(config).sort(([, a], [, b]) => rank(a) - rank(b));
  for (const [name, cfg] of entries) out.set(name, build(name, cfg, withLookup));
  if (!out.has('console')) out.set('console', new ConsoleChannel('console', deps));
  return out;
}

function build(name: string, cfg: ChannelConfig, deps: ChannelDeps): Channel {
  switch (cfg.type) {
    case 'console':
      return FACTORIES.console(name, cfg, deps);
    case 'webhook':
      return FACTORIES.webhook(name, cfg, deps);
    case 'email':
      return FACTORIES.email(name, cfg, deps);
    case 'sms':
      return FACTORIES.sms(name, cfg, deps);
    case 'voice':
      return FACTORIES.voice(name, cfg, deps);
    case 'modem':
      return FACTORIES.modem(name, cfg, deps);
    case 'relay':
      return FACTORIES.relay(name, cfg, deps);
  }
}

function rank(c: ChannelConfig): number {
  return c.type === 'modem' ? 0 : 1;
}

/**
 * Names of the channels that address a place, not a phone: the console board and relays (a siren).
 * A step sends on them once per team or person as written instead of once per member.
 */
export function placeChannelNames(channels: ReadonlyMap<string, Channel>): string[] {
  return [...channels.values()].filter((c) => c.type === 'console' || c.type === 'relay').map((c) => c.name);
}
