// The short SMS answers people get back after a reply, in their language (what a call says is in
// voice/phrases.ts).

const PHRASES = {
  en: {
    'sms-help': 'Vigie: reply 1 or ACK <code> to acknowledge, 2 to escalate.',
    'sms-none': 'Vigie: no open alert matches {code}.',
    'sms-already': 'Vigie: {device} (ACK {code}) is already handled ({by}).',
    'sms-acknowledged': 'Vigie: acknowledged {device} (ACK {code}). Escalation stopped.',
    'sms-others': 'Still open: {codes}.',
    'sms-escalated': 'Vigie: escalating {device} (ACK {code}) now.',
    'sms-nothing-to-escalate': 'Vigie: {device} (ACK {code}) has nobody left to escalate to.',
  },
  fr: {
    'sms-help': 'Vigie : répondez 1 ou ACK <code> pour acquitter, 2 pour escalader.',
    'sms-none': 'Vigie : aucune alerte ouverte ne correspond à {code}.',
    'sms-already': 'Vigie : {device} (ACK {code}) est déjà pris en charge ({by}).',
    'sms-acknowledged': 'Vigie : {device} acquitté (ACK {code}). Escalade arrêtée.',
    'sms-others': 'Encore ouvertes : {codes}.',
    'sms-escalated': 'Vigie : escalade de {device} (ACK {code}) lancée.',
    'sms-nothing-to-escalate': "Vigie : {device} (ACK {code}) n'a plus personne à qui escalader.",
  },
} as const;

export type Phrase = keyof (typeof PHRASES)['en'];

export function say(language: string, phrase: Phrase, vars: Record<string, string> = {}): string {
  const table = language in PHRASES ? PHRASES[language as keyof typeof PHRASES] : PHRASES.en;
  return table[phrase].replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '').replace(/\s+\)/g, ')');
}
