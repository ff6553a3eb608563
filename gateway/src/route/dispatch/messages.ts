import type { Language } from '../../site/model.js';

// What technicians, customers and dispatchers read, in their language. SMS texts stay short (one or
// two segments); the link goes last so phones make it tappable.

export interface OfferFacts {
  device: string;
  code?: string;
  place: string;
  km?: number;
  minutes?: number;
  /** Minutes the technician has to answer. */
  answerMinutes: number;
  link: string;
}

export interface CustomerFacts {
  customerFirstName?: string;
  technicianFirstName: string;
  device: string;
  /** Estimated arrival as a wall-clock time in the site's zone ("14:35"); unknown without a location. */
  eta?: string;
}

export type UnassignedWhy = 'nobody' | 'declined' | 'code';

export interface UnassignedFacts {
  device: string;
  code?: string;
  place: string;
  incidentId: string;
  why: UnassignedWhy;
}

export interface Mail {
  subject: string;
  message: string;
}

interface Texts {
  offer(f: OfferFacts): string;
  eta(f: CustomerFacts): Mail;
  arrived(f: CustomerFacts): Mail;
  survey(f: CustomerFacts & { link: string }): Mail;
  unassigned(f: UnassignedFacts): Mail;
}

const number = (lang: Language, n: number) =>
  new Intl.NumberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 0 }).format(n);

const EN: Texts = {
  offer: (f) => {
    const fault = f.code ? ` (fault ${f.code})` : '';
    const far =
      f.km !== undefined && f.minutes !== undefined
        ? ` ${number('en', f.km)} km, about ${Math.ceil(f.minutes)} min.`
        : f.minutes !== undefined
          ? ` About ${Math.ceil(f.minutes)} min away.`
          : '';
    return `New job: ${f.device}${fault} at ${f.place}.${far} Answer within ${f.answerMinutes} min: ${f.link}`;
  },
  eta: (f) => ({
    subject: f.eta ? `A technician is coming, around ${f.eta}` : 'A technician is coming',
    message:
      `${hello('en', f.customerFirstName)}${f.technicianFirstName}, our technician, is coming to repair your ${f.device}` +
      (f.eta ? ` and should be with you around ${f.eta}.` : '. They will call you before arriving.'),
  }),
  arrived: (f) => ({
    subject: `${f.technicianFirstName} has arrived`,
    message: `${hello('en', f.customerFirstName)}${f.technicianFirstName} has arrived for your ${f.device}.`,
  }),
  survey: (f) => ({
    subject: `Your ${f.device} is repaired`,
    message: `Your ${f.device} is repaired. How did we do? Give us a score from 1 to 5: ${f.link}`,
  }),
  unassigned: (f) => {
    const why = {
      nobody: 'no technician is available',
      declined: 'every technician declined or did not answer',
      code: `no skill is listed for fault ${f.code ?? '(none)'}`,
    }[f.why];
    return {
      subject: `No technician for ${f.device}`,
      message: `No technician for ${f.device}${f.code ? ` (fault ${f.code})` : ''} at ${f.place}: ${why}. Incident ${f.incidentId}.`,
    };
  },
};

const FR: Texts = {
  offer: (f) => {
    const fault = f.code ? ` (panne ${f.code})` : '';
    const far =
      f.km !== undefined && f.minutes !== undefined
        ? ` ${number('fr', f.km)} km, environ ${Math.ceil(f.minutes)} min.`
        : f.minutes !== undefined
          ? ` Environ ${Math.ceil(f.minutes)} min de trajet.`
          : '';
    return `Nouvelle intervention : ${f.device}${fault}, ${f.place}.${far} Répondez sous ${f.answerMinutes} min : ${f.link}`;
  },
  eta: (f) => ({
    subject: f.eta ? `Un technicien arrive vers ${f.eta}` : 'Un technicien va passer',
    message:
      `${hello('fr', f.customerFirstName)}${f.technicianFirstName}, notre technicien, vient réparer votre ${f.device}` +
      (f.eta ? ` et devrait arriver vers ${f.eta}.` : '. Il vous appellera avant de passer.'),
  }),
  arrived: (f) => ({
    subject: `${f.technicianFirstName} est arrivé`,
    message: `${hello('fr', f.customerFirstName)}${f.technicianFirstName} est arrivé pour votre ${f.device}.`,
  }),
  survey: (f) => ({
    subject: `Votre ${f.device} est réparé`,
    message: `Votre ${f.device} est réparé. Êtes-vous satisfait ? Donnez une note de 1 à 5 : ${f.link}`,
  }),
  unassigned: (f) => {
    const why = {
      nobody: 'aucun technicien disponible',
      declined: 'tous les techniciens ont refusé ou pas répondu',
      code: `aucune compétence prévue pour la panne ${f.code ?? '(aucune)'}`,
    }[f.why];
    return {
      subject: `Aucun technicien pour ${f.device}`,
      message: `Aucun technicien pour ${f.device}${f.code ? ` (panne ${f.code})` : ''}, ${f.place} : ${why}. Incident ${f.incidentId}.`,
    };
  },
};

function hello(lang: Language, first: string | undefined): string {
  if (lang === 'fr') return first ? `Bonjour ${first}, ` : 'Bonjour, ';
  return first ? `Hello ${first}, ` : 'Hello, ';
}

export const TEXTS: Readonly<Record<Language, Texts>> = { en: EN, fr: FR };

export function texts(lang: string | undefined, fallback: Language): Texts {
  return lang === 'en' || lang === 'fr' ? TEXTS[lang] : TEXTS[fallback];
}

/**
 * The wall-clock time of `t` in `tz`, rounded to `stepMs` (an arrival estimate to the minute would
 * promise too much: 5 minutes by default): "14:35" in English, "14h35" in French.
 */
export function clockTime(t: number, tz: string, lang: Language, stepMs = 300_000): string {
  const rounded = Math.round(t / stepMs) * stepMs;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(rounded);
  const hh = parts.find((p) => p.type === 'hour')?.value ?? '00';
  const mm = parts.find((p) => p.type === 'minute')?.value ?? '00';
  return lang === 'fr' ? `${hh}h${mm}` : `${hh}:${mm}`;
}
