/**
 * The transactional outbox: an uplink event is written in the same transaction as the change it
 * reports, then published to JetStream in `seq` order and deleted once the server acknowledged it.
 */
export const OUTBOX_SCHEMA = `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    incident_id TEXT,
    created_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  -- Inbound messages already applied (assignments from the router), so a redelivery is a no-op.
  CREATE TABLE uplink_seen (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL
  );
`;
