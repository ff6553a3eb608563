import type { TemplateLanguage, TemplateTexts } from './templates.js';

// Everything language-specific the alert renderer needs: the words it substitutes ({severity},
// {state}, units, durations) and the texts used when the integrator wrote none. The texts are
// written in the same syntax integrators use (see templates.ts), so they can be copied into a
// site file as a starting point.
//
// The modem texts carry no link on purpose: the modem is the way out when the uplink is down, so a
// link to the gateway or a camera would not open anyway, and one 160-character SMS matters more.
// They also keep to the GSM 03.38 alphabet (é, è, à are in it; ç, ê, «» are not and would halve
// the length of an SMS).

export interface Words {
  severity: Readonly<Record<string, string>>;
  state: Readonly<Record<string, string>>;
  /** Short units (SMS, e-mail) and spoken ones, singular then plural. */
  duration: {
    short: { d: string; h: string; min: string; s: string };
    spoken: Record<'d' | 'h' | 'min' | 's', readonly [string, string]>;
    and: string;
  };
  /** Units of well-known readings, by field name: short form, spoken form. */
  units: Readonly<Record<string, readonly [string, string]>>;
  /** HH:MM as written and as spoken. */
  time: (hh: string, mm: string, spoken: boolean) => string;
}

export const WORDS: Readonly<Record<TemplateLanguage, Words>> = {
  en: {
    severity: { critical: 'critical', major: 'major', minor: 'minor', warning: 'warning' },
    state: { open: 'open', acknowledged: 'acknowledged', cleared: 'cleared', resolved: 'resolved' },
    duration: {
      short: { d: 'd', h: 'h', min: 'min', s: 's' },
      spoken: {
        d: ['day', 'days'],
        h: ['hour', 'hours'],
        min: ['minute', 'minutes'],
        s: ['second', 'seconds'],
      },
      and: 'and',
    },
    units: {
      celsius: ['°C', 'degrees Celsius'],
      fahrenheit: ['°F', 'degrees Fahrenheit'],
      humidity: ['%', 'percent'],
      battery: ['%', 'percent'],
      co2: ['ppm', 'parts per million'],
    },
    time: (hh, mm) => `${hh}:${mm}`,
  },
  fr: {
    // Adjectives agreeing with « alerte » (feminine), which is how the texts below use them.
    severity: { critical: 'critique', major: 'majeure', minor: 'mineure', warning: 'vigilance' },
    state: { open: 'en cours', acknowledged: 'acquittée', cleared: 'terminée', resolved: 'résolue' },
    duration: {
      short: { d: 'j', h: 'h', min: 'min', s: 's' },
      spoken: {
        d: ['jour', 'jours'],
        h: ['heure', 'heures'],
        min: ['minute', 'minutes'],
        s: ['seconde', 'secondes'],
      },
      and: 'et',
    },
    units: {
      celsius: ['°C', 'degrés Celsius'],
      fahrenheit: ['°F', 'degrés Fahrenheit'],
      humidity: ['%', 'pour cent'],
      battery: ['%', 'pour cent'],
      co2: ['ppm', 'p p m'],
    },
    // "14 h 05" is how French is written in full and how a synthesiser reads it right.
    time: (hh, mm, spoken) => (spoken ? `${hh} h ${mm}` : `${hh}:${mm}`),
  },
};

export interface BuiltinTexts {
  single: Required<Pick<TemplateTexts, 'text' | 'sms' | 'modem' | 'voice'>> & {
    email: { subject: string; body: string };
  };
  grouped: BuiltinTexts['single'];
}

export const BUILTIN_TEXTS: Readonly<Record<TemplateLanguage, BuiltinTexts>> = {
  en: {
    single: {
      text: '{Severity}: {rule} - {device}[ ({place})]: {reason}.[ Camera: {camera}][ Incident: {incident}]',
      sms:
        '{Severity}: {rule}. {device}[ ({place})]: {reason}.[ Camera: {camera}][ Speaker: {speaker}]' +
        '[ Reply 1 or ACK {ackCode}]',
      modem: '{Severity}: {rule} - {device}[ ({place})]: {reason}[ at {time}].[ Reply 1 or ACK {ackCode}]',
      voice: '{Severity} alert. {rule}: {device}[, {place}].[ Reading: {value}.][ For {duration}.]',
      email: {
        subject: '[Vigie] {Severity}: {rule} - {device}[ ({place})]',
        body: [
          '{Severity} alert: {rule}',
          '',
          'Device: {device}',
          '[Place: {place}]',
          'Zone: {zone}',
          'What happened: {reason}',
          '[Reading: {value}]',
          '[For: {duration}]',
          'Opened at: {time}',
          '[Camera: {camera}]',
          '[Snapshot: {snapshot}]',
          '[Two-way speaker (SIP): {speaker}]',
          '[Incident: {incident}]',
          '',
          '[To acknowledge, reply 1 or ACK {ackCode} to the SMS alert, or open the incident.]',
        ].join('\n'),
      },
    },
    grouped: {
      text: '{Severity}: {rule} - {count} incidents in {zone}.[ Details: {incident}]',
      sms: '{Severity}: {rule} - {count} incidents in {zone}.[ {incident}][ Reply 1 or ACK {ackCode}]',
      modem: '{Severity}: {rule} - {count} incidents in {zone}.[ Reply 1 or ACK {ackCode}]',
      voice: '{Severity} alert. {rule}: {count} incidents in {zone}.',
      email: {
        subject: '[Vigie] {Severity}: {rule} - {count} incidents in {zone}',
        body: [
          '{Severity} alert: {rule}',
          '',
          '{count} incidents in zone {zone}, the first one at {time}.',
          '[Details: {incident}]',
          '',
          '[To acknowledge, reply 1 or ACK {ackCode} to the SMS alert, or open the incidents.]',
        ].join('\n'),
      },
    },
  },
  fr: {
    single: {
      text:
        '{Severity} : {rule} - {device}[ ({place})] : {reason}.[ Caméra : {camera}]' +
        '[ Incident : {incident}]',
      sms:
        '{Severity} : {rule}. {device}[ ({place})] : {reason}.[ Caméra : {camera}]' +
        '[ Haut-parleur : {speaker}][ Répondez 1 ou ACK {ackCode}]',
      modem:
        '{Severity} : {rule} - {device}[ ({place})] : {reason}[ à {time}].[ Répondez 1 ou ACK {ackCode}]',
      voice: 'Alerte {severity}. {rule} : {device}[, {place}].[ Valeur : {value}.][ Depuis {duration}.]',
      email: {
        subject: '[Vigie] {Severity} : {rule} - {device}[ ({place})]',
        body: [
          'Alerte {severity} : {rule}',
          '',
          'Appareil : {device}',
          '[Lieu : {place}]',
          'Zone : {zone}',
          'Cause : {reason}',
          '[Valeur : {value}]',
          '[Depuis : {duration}]',
          'Début : {time}',
          '[Caméra : {camera}]',
          '[Image : {snapshot}]',
          '[Haut-parleur (SIP) : {speaker}]',
          '[Incident : {incident}]',
          '',
          "[Pour acquitter, répondez 1 ou ACK {ackCode} au SMS d'alerte, ou ouvrez l'incident.]",
        ].join('\n'),
      },
    },
    grouped: {
      text: '{Severity} : {rule} - {count} incidents dans la zone {zone}.[ Détails : {incident}]',
      sms:
        '{Severity} : {rule} - {count} incidents dans la zone {zone}.[ {incident}]' +
        '[ Répondez 1 ou ACK {ackCode}]',
      modem: '{Severity} : {rule} - {count} incidents dans la zone {zone}.[ Répondez 1 ou ACK {ackCode}]',
      voice: 'Alerte {severity}. {rule} : {count} incidents dans la zone {zone}.',
      email: {
        subject: '[Vigie] {Severity} : {rule} - {count} incidents dans la zone {zone}',
        body: [
          'Alerte {severity} : {rule}',
          '',
          '{count} incidents dans la zone {zone}, le premier à {time}.',
          '[Détails : {incident}]',
          '',
          "[Pour acquitter, répondez 1 ou ACK {ackCode} au SMS d'alerte, ou ouvrez les incidents.]",
        ].join('\n'),
      },
    },
  },
};
