import type { Language } from '../../site/model.js';
import type { JobState, TechnicianAction } from './model.js';

// The words of the technician's job page, the customer's survey page and the answers to their taps.

export type Refusal = 'not-found' | 'expired' | 'superseded' | 'wrong-state' | 'answered' | 'invalid';

export interface PageText {
  job: string;
  states: Record<JobState, string>;
  buttons: Record<TechnicianAction, string>;
  /** Said after the action worked. */
  done: Record<TechnicianAction, string>;
  refused: Record<Refusal, string>;
  what: string;
  fault: string;
  where: string;
  map: string;
  customer: string;
  distance: string;
  eta: string;
  answerBy: string;
  surveyTitle: string;
  surveyQuestion: (device: string, technician?: string) => string;
  thanks: string;
  notFoundTitle: string;
  notFound: string;
  refusedTitle: string;
  back: string;
}

const EN: PageText = {
  job: 'Job',
  states: {
    offered: 'Offered to you',
    accepted: 'Accepted',
    enroute: 'On the way',
    arrived: 'On site',
    resolved: 'Resolved',
    unassigned: 'Not assigned',
  },
  buttons: {
    accept: 'Accept',
    decline: 'Decline',
    enroute: 'On my way',
    arrived: 'Arrived',
    resolved: 'Resolved',
  },
  done: {
    accept: 'Accepted. The customer has been told you are coming.',
    decline: 'Declined. The job goes to another technician.',
    enroute: 'Noted: on your way.',
    arrived: 'Noted: on site. The customer has been told.',
    resolved: 'Resolved. Thank you! The customer gets a short survey.',
  },
  refused: {
    'not-found': 'This link is not valid.',
    expired: 'This offer has expired: the job went to another technician.',
    superseded: 'This job is no longer yours.',
    'wrong-state': 'That is not possible at this stage of the job.',
    answered: 'You have already answered. Thank you!',
    invalid: 'Please choose a score from 1 to 5.',
  },
  what: 'What',
  fault: 'Fault',
  where: 'Where',
  map: 'Open the map',
  customer: 'Customer',
  distance: 'Distance',
  eta: 'Expected arrival',
  answerBy: 'Answer by',
  surveyTitle: 'How did we do?',
  surveyQuestion: (device, technician) =>
    `How satisfied are you with the repair of your ${device}${technician ? ` by ${technician}` : ''}? 1 = not at all, 5 = very.`,
  thanks: 'Thank you for your answer!',
  notFoundTitle: 'Not found',
  notFound: 'This link is not valid or has expired.',
  refusedTitle: 'Not possible',
  back: 'Back',
};

const FR: PageText = {
  job: 'Intervention',
  states: {
    offered: 'Proposée',
    accepted: 'Acceptée',
    enroute: 'En route',
    arrived: 'Sur place',
    resolved: 'Terminée',
    unassigned: 'Non attribuée',
  },
  buttons: {
    accept: 'Accepter',
    decline: 'Refuser',
    enroute: 'En route',
    arrived: 'Arrivé',
    resolved: 'Terminé',
  },
  done: {
    accept: 'Acceptée. Le client est prévenu de votre venue.',
    decline: 'Refusée. L’intervention est proposée à un autre technicien.',
    enroute: 'Noté : vous êtes en route.',
    arrived: 'Noté : vous êtes sur place. Le client est prévenu.',
    resolved: 'Terminée. Merci ! Le client reçoit un court questionnaire.',
  },
  refused: {
    'not-found': 'Ce lien n’est pas valide.',
    expired: 'Cette proposition a expiré : l’intervention a été proposée à un autre technicien.',
    superseded: 'Cette intervention ne vous est plus attribuée.',
    'wrong-state': 'Ce n’est pas possible à ce stade de l’intervention.',
    answered: 'Vous avez déjà répondu. Merci !',
    invalid: 'Choisissez une note de 1 à 5.',
  },
  what: 'Quoi',
  fault: 'Panne',
  where: 'Où',
  map: 'Ouvrir la carte',
  customer: 'Client',
  distance: 'Distance',
  eta: 'Arrivée prévue',
  answerBy: 'Répondre avant',
  surveyTitle: 'Votre avis',
  surveyQuestion: (device, technician) =>
    `Êtes-vous satisfait de la réparation de votre ${device}${technician ? ` par ${technician}` : ''} ? 1 = pas du tout, 5 = très.`,
  thanks: 'Merci pour votre réponse !',
  notFoundTitle: 'Introuvable',
  notFound: 'Ce lien n’est pas valide ou a expiré.',
  refusedTitle: 'Impossible',
  back: 'Retour',
};

export const PAGE_TEXT: Readonly<Record<Language, PageText>> = { en: EN, fr: FR };
