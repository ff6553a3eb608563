// The short answers people get back after a reply or a key press, in their language.

const PHRASES = {
  en: {
    'sms-help': 'Vigie: reply 1 or ACK <code> to acknowledge, 2 to escalate.',
    'sms-none': 'Vigie: no open alert matches {code}.',
    'sms-already': 'Vigie: {device} (ACK {code}) is already handled ({by}).',
    'sms-acknowledged': 'Vigie: acknowledged {device} (ACK {code}). Escalation stopped.',
    'sms-others': 'Still open: {codes}.',
    'sms-escalated': 'Vigie: escalating {device} (ACK {code}) now.',
    'sms-nothing-to-escalate': 'Vigie: {device} (ACK {code}) has nobody left to escalate to.',
    'voice-acknowledged': 'Acknowledged. Escalation stopped. Thank you.',
    'voice-escalated': 'Escalating now.',
    'voice-nothing-to-escalate': 'There is nobody left to escalate to.',
    'voice-speaker': 'Connecting you to the speaker.',
    'voice-gone': 'This alert is no longer active.',
    'voice-not-understood': 'Sorry, I did not understand.',
  },
  fr: {
    'sms-help': 'Vigie : répondez 1 ou ACK <code> pour acquitter, 2 pour escalader.',
    'sms-none': 'Vigie : aucune alerte ouverte ne correspond à {code}.',
    'sms-already': 'Vigie : {device} (ACK {code}) est déjà pris en charge ({by}).',
    'sms-acknowledged': 'Vigie : {device} acquitté (ACK {code}). Escalade arrêtée.',
    'sms-others': 'Encore ouvertes : {codes}.',
    'sms-escalated': 'Vigie : escalade de {device} (ACK {code}) lancée.',
    'sms-nothing-to-escalate': "Vigie : {device} (ACK {code}) n'a plus personne à qui escalader.",
    'voice-acknowledged': 'Alerte acquittée. Escalade arrêtée. Merci.',
    'voice-escalated': 'Escalade en cours.',
    'voice-nothing-to-escalate': "Il n'y a plus personne à qui escalader.",
    'voice-speaker': 'Je vous mets en relation avec le haut-parleur.',
    'voice-gone': "Cette alerte n'est plus active.",
    'voice-not-understood': "Désolé, je n'ai pas compris.",
  },
} as const;

export type Phrase = keyof (typeof PHRASES)['en'];

export function say(language: string, phrase: Phrase, vars: Record<string, string> = {}): string {
  const table = language in PHRASES ? PHRASES[language as keyof typeof PHRASES] : PHRASES.en;
  return table[phrase].replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '').replace(/\s+\)/g, ')');
}
