/**
 * Technician jobs (route/dispatch): one per incident that needs a visit, its offers made to one
 * technician at a time, and what the gateway knows of each technician now. `job_json` holds what a
 * job keeps from its start (skills, place, customer contact); the columns hold what changes.
 */
export const DISPATCH_SCHEMA = `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL UNIQUE REFERENCES incidents (id),
    profile TEXT NOT NULL,
    state TEXT NOT NULL
      CHECK (state IN ('offered', 'accepted', 'enroute', 'arrived', 'resolved', 'unassigned')),
    job_json TEXT NOT NULL,
    -- The technician offered the job (state offered) or doing it (accepted and after).
    technician_id TEXT,
    offer_id TEXT,
    -- State offered: when the offer runs out and goes to the next technician.
    due_at INTEGER,
    eta_at INTEGER,
    travel_minutes REAL,
    distance_km REAL,
    survey_score INTEGER CHECK (survey_score BETWEEN 1 AND 5),
    surveyed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX jobs_technician ON jobs (technician_id, state);
  CREATE TABLE job_offers (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    technician_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'expired')),
    offered_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    answered_at INTEGER,
    travel_minutes REAL,
    distance_km REAL
  );
  CREATE INDEX job_offers_job ON job_offers (job_id, offered_at);
  CREATE TABLE technician_status (
    id TEXT PRIMARY KEY,
    available INTEGER NOT NULL DEFAULT 1,
    lat REAL,
    lon REAL,
    located_at INTEGER
  );
`;
