// Technician dispatch: the public surface for the gateway (README "Technician dispatch").
export { JobService, type ActResult, type JobServiceOptions } from './jobs.js';
export type { JobPage, SurveyPage, TechnicianView } from './views.js';
export { registerJobPages, type JobPagesDeps } from './pages.js';
export { LinkSigner, linkSigner, type LinkCheck, type LinkPurpose } from './links.js';
export { chooseCandidates, onShift, type Candidate, type Choice, type JobNeed } from './choose.js';
export { distanceKm, travelEstimate, type TravelEstimate } from './geo.js';
export {
  actionsIn,
  nextState,
  TECHNICIAN_ACTIONS,
  type JobState,
  type JobSummary,
  type TechnicianAction,
} from './model.js';
export { DISPATCH_SCHEMA } from './schema.js';
