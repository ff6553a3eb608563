// What a voice call says around the alert itself, per language; English when the person's language
// has no entry. Short on purpose: the person is listening on a phone, maybe in a noisy hall.

export interface Phrases {
  intro: string;
  /** The keypad menu, with choice 4 when the device has a speaker to talk through. */
  menu(withSpeaker: boolean): string;
  acknowledged: string;
  escalated: string;
  /** Key 2 when no step is left to escalate to. */
  nothingToEscalate: string;
  connecting: string;
  gone: string;
  notUnderstood: string;
}

const PHRASES: Record<string, Phrases> = {
  en: {
    intro: 'Vigie alert.',
    menu: (speaker) =>
      `Press 1 to acknowledge, 2 to escalate now, 3 to hear the details again${speaker ? ', 4 to talk through the speaker' : ''}.`,
    acknowledged: 'Acknowledged. Thank you.',
    escalated: 'Escalating now.',
    nothingToEscalate: 'There is nobody left to escalate to.',
    connecting: 'Connecting you to the speaker.',
    gone: 'This alert is no longer active.',
    notUnderstood: 'Sorry, I did not understand.',
  },
  fr: {
    intro: 'Alerte Vigie.',
    menu: (speaker) =>
      `Tapez 1 pour acquitter, 2 pour escalader maintenant, 3 pour réécouter les détails${speaker ? ', 4 pour parler dans le haut-parleur' : ''}.`,
    acknowledged: 'Alerte acquittée. Merci.',
    escalated: 'Escalade en cours.',
    nothingToEscalate: "Il n'y a plus personne à qui escalader.",
    connecting: 'Je vous connecte au haut-parleur.',
    gone: "Cette alerte n'est plus active.",
    notUnderstood: "Désolé, je n'ai pas compris.",
  },
};

/** Phrases for `language` (`fr`, `fr-CA`...), English when there are none. */
export function phrases(language: string): Phrases {
  return PHRASES[baseLanguage(language)] ?? PHRASES.en;
}

// Twilio's <Say language> wants a region; the site file says `en` or `fr`.
const SAY_REGION: Record<string, string> = {
  en: 'en-GB',
  fr: 'fr-FR',
  de: 'de-DE',
  es: 'es-ES',
  it: 'it-IT',
  nl: 'nl-NL',
  pt: 'pt-PT',
};

/** The `language` attribute of <Say> for a person's language. */
export function sayLanguage(language: string): string {
  return language.includes('-') ? language : (SAY_REGION[baseLanguage(language)] ?? language);
}

function baseLanguage(language: string): string {
  return language.toLowerCase().split(/[-_]/)[0];
}
