import type { Database, Statement } from 'better-sqlite3';
import type { GeoPoint } from '../crm/crm.js';
import type { Job, JobSpec, JobState, Offer, OfferState } from './model.js';

// SQL for the jobs tables (schema.ts). No logic: the service decides, this reads and writes rows.

interface JobRow {
  id: string;
  incident_id: string;
  profile: string;
  state: JobState;
  job_json: string;
  technician_id: string | null;
  offer_id: string | null;
  due_at: number | null;
  eta_at: number | null;
  travel_minutes: number | null;
  distance_km: number | null;
  survey_score: number | null;
  surveyed_at: number | null;
  created_at: number;
  updated_at: number;
}

interface OfferRow {
  id: string;
  job_id: string;
  technician_id: string;
  state: OfferState;
  offered_at: number;
  expires_at: number;
  answered_at: number | null;
  travel_minutes: number | null;
  distance_km: number | null;
}

export interface StatusRow {
  id: string;
  available: number;
  lat: number | null;
  lon: number | null;
  located_at: number | null;
}

const BUSY: readonly JobState[] = ['accepted', 'enroute', 'arrived'];

export class JobStore {
  private readonly s: Record<string, Statement>;

  constructor(db: Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertJob: p(
        `INSERT INTO jobs (id, incident_id, profile, state, job_json, created_at, updated_at)
         VALUES (@id, @incidentId, @profile, @state, @json, @createdAt, @updatedAt)`,
      ),
      updateJob: p(
        `UPDATE jobs SET state = @state, technician_id = @technicianId, offer_id = @offerId, due_at = @dueAt,
           eta_at = @etaAt, travel_minutes = @travelMinutes, distance_km = @distanceKm,
           survey_score = @surveyScore, surveyed_at = @surveyedAt, updated_at = @updatedAt
         WHERE id = @id`,
      ),
      job: p('SELECT * FROM jobs WHERE id = ?'),
      byIncident: p('SELECT * FROM jobs WHERE incident_id = ?'),
      list: p('SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?'),
      listState: p('SELECT * FROM jobs WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?'),
      due: p(`SELECT * FROM jobs WHERE state = 'offered' AND due_at <= ? ORDER BY due_at LIMIT 100`),
      nextDue: p(`SELECT MIN(due_at) AS due FROM jobs WHERE state = 'offered'`),
      busy: p(
        `SELECT DISTINCT technician_id AS id FROM jobs
         WHERE technician_id IS NOT NULL AND state IN (${BUSY.map((s) => `'${s}'`).join(', ')})`,
      ),
      insertOffer: p(
        `INSERT INTO job_offers (id, job_id, technician_id, state, offered_at, expires_at, travel_minutes, distance_km)
         VALUES (@id, @jobId, @technicianId, 'pending', @offeredAt, @expiresAt, @travelMinutes, @distanceKm)`,
      ),
      answerOffer: p('UPDATE job_offers SET state = ?, answered_at = ? WHERE id = ?'),
      offer: p('SELECT * FROM job_offers WHERE id = ?'),
      tried: p('SELECT DISTINCT technician_id AS id FROM job_offers WHERE job_id = ?'),
      status: p('SELECT * FROM technician_status'),
      setAvailable: p(
        `INSERT INTO technician_status (id, available) VALUES (?, ?)
         ON CONFLICT (id) DO UPDATE SET available = excluded.available`,
      ),
      setLocation: p(
        `INSERT INTO technician_status (id, lat, lon, located_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, located_at = excluded.located_at`,
      ),
    };
  }

  insertJob(j: Job): void {
    this.s.insertJob.run({
      id: j.id,
      incidentId: j.incidentId,
      profile: j.profile,
      state: j.state,
      json: JSON.stringify(j.spec),
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
    });
    this.updateJob(j);
  }

  updateJob(j: Job): void {
    this.s.updateJob.run({
      id: j.id,
      state: j.state,
      technicianId: j.technicianId ?? null,
      offerId: j.offerId ?? null,
      dueAt: j.dueAt ?? null,
      etaAt: j.etaAt ?? null,
      travelMinutes: j.travelMinutes ?? null,
      distanceKm: j.distanceKm ?? null,
      surveyScore: j.surveyScore ?? null,
      surveyedAt: j.surveyedAt ?? null,
      updatedAt: j.updatedAt,
    });
  }

  job(id: string): Job | undefined {
    return toJob(this.s.job.get(id) as JobRow | undefined);
  }

  byIncident(incidentId: string): Job | undefined {
    return toJob(this.s.byIncident.get(incidentId) as JobRow | undefined);
  }

  list(limit: number, state?: JobState): Job[] {
    const rows = (state ? this.s.listState.all(state, limit) : this.s.list.all(limit)) as JobRow[];
    return rows.map((r) => toJob(r)!);
  }

  dueOffers(now: number): Job[] {
    return (this.s.due.all(now) as JobRow[]).map((r) => toJob(r)!);
  }

  nextDue(): number | undefined {
    return (this.s.nextDue.get() as { due: number | null }).due ?? undefined;
  }

  busyTechnicians(): Set<string> {
    return new Set((this.s.busy.all() as { id: string }[]).map((r) => r.id));
  }

  insertOffer(o: Omit<Offer, 'state'>): void {
    this.s.insertOffer.run({
      id: o.id,
      jobId: o.jobId,
      technicianId: o.technicianId,
      offeredAt: o.offeredAt,
      expiresAt: o.expiresAt,
      travelMinutes: o.travelMinutes ?? null,
      distanceKm: o.distanceKm ?? null,
    });
  }

  answerOffer(id: string, state: Exclude<OfferState, 'pending'>, at: number): void {
    this.s.answerOffer.run(state, at, id);
  }

  offer(id: string): Offer | undefined {
    const r = this.s.offer.get(id) as OfferRow | undefined;
    if (!r) return undefined;
    const o: Offer = {
      id: r.id,
      jobId: r.job_id,
      technicianId: r.technician_id,
      state: r.state,
      offeredAt: r.offered_at,
      expiresAt: r.expires_at,
    };
    if (r.answered_at !== null) o.answeredAt = r.answered_at;
    if (r.travel_minutes !== null) o.travelMinutes = r.travel_minutes;
    if (r.distance_km !== null) o.distanceKm = r.distance_km;
    return o;
  }

  /** Technicians already offered this job. */
  tried(jobId: string): Set<string> {
    return new Set((this.s.tried.all(jobId) as { id: string }[]).map((r) => r.id));
  }

  statuses(): Map<string, { available: boolean; position?: GeoPoint }> {
    const out = new Map<string, { available: boolean; position?: GeoPoint }>();
    for (const r of this.s.status.all() as StatusRow[]) {
      out.set(r.id, {
        available: r.available !== 0,
        ...(r.lat !== null && r.lon !== null ? { position: { lat: r.lat, lon: r.lon } } : {}),
      });
    }
    return out;
  }

  setAvailable(id: string, available: boolean): void {
    this.s.setAvailable.run(id, available ? 1 : 0);
  }

  setLocation(id: string, at: GeoPoint, now: number): void {
    this.s.setLocation.run(id, at.lat, at.lon, now);
  }
}

function toJob(r: JobRow | undefined): Job | undefined {
  if (!r) return undefined;
  const j: Job = {
    id: r.id,
    incidentId: r.incident_id,
    profile: r.profile,
    state: r.state,
    spec: JSON.parse(r.job_json) as JobSpec,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.technician_id !== null) j.technicianId = r.technician_id;
  if (r.offer_id !== null) j.offerId = r.offer_id;
  if (r.due_at !== null) j.dueAt = r.due_at;
  if (r.eta_at !== null) j.etaAt = r.eta_at;
  if (r.travel_minutes !== null) j.travelMinutes = r.travel_minutes;
  if (r.distance_km !== null) j.distanceKm = r.distance_km;
  if (r.survey_score !== null) j.surveyScore = r.survey_score;
  if (r.surveyed_at !== null) j.surveyedAt = r.surveyed_at;
  return j;
}
