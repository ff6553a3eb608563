/** Technician jobs: one per incident that needs a visit, with its offers one technician at a time. */
export const DISPATCH_SCHEMA = `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL UNIQUE REFERENCES incidents (id),
    profile TEXT NOT NULL,
    state TEXT NOT NULL,
    job_json TEXT NOT NULL,
    technician_id TEXT,
    due_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX jobs_technician ON jobs (technician_id, state);
  CREATE TABLE job_offers (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    technician_id TEXT NOT NULL,
    state TEXT NOT NULL,
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
