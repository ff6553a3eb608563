import type { AdapterSpec } from '../site/model.js';

// Adapters for devices already on site, so they work unchanged. A site file may add its own under
// `adapters:` with the same shape.

export const BUILTIN_ADAPTERS: Readonly<Record<string, AdapterSpec>> = {
  // Zigbee2MQTT reports the reed switch: `contact: true` means the magnet is against it, door SHUT.
  // https://www.zigbee2mqtt.io/devices/MCCGQ11LM.html (contact: "true = closed")
  'zigbee2mqtt-door': {
    format: 'json',
    fields: { open: { from: 'contact', invert: true }, battery: { from: 'battery' } },
  },
  'zigbee2mqtt-temperature': {
    format: 'json',
    fields: { celsius: { from: 'temperature' }, battery: { from: 'battery' } },
  },
  // Tasmota's tele/<name>/SENSOR nests the reading under the sensor model (DS18B20, AM2301, BME280...):
  // `*` takes the first sensor that has a Temperature. Sites with several sensors name one in their own adapter.
  'tasmota-temperature': {
    format: 'json',
    fields: { celsius: { from: '*.Temperature' } },
  },
  // Shelly Door/Window (Gen1) publishes shellies/<id>/sensor/state as bare text `open` or `close`.
  'shelly-door': {
    format: 'text',
    fields: { open: { from: '$', map: { open: true, close: false, closed: false } } },
  },
};

/**
 * Where a foreign device reports online/offline, when its bridge does: Zigbee2MQTT publishes
 * `{topic}/availability` as `{"state":"online"}` (or bare `online` before 1.33).
 */
export function availabilityTopic(source: { topic: string; adapter: string }): string | undefined {
  return source.adapter.startsWith('zigbee2mqtt') ? `${source.topic}/availability` : undefined;
}
