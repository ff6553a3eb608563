import type { Site } from '../site/model.js';
import type { Catalog } from './link.js';

const names = (record: Readonly<Record<string, unknown>>): string[] => Object.keys(record).sort();
const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/**
 * What the Node-RED editor offers in its drop-downs and checks a node against before deploy: the
 * site's names, the configured channels and the rules already running (a flow must not reuse an id).
 */
export function buildCatalog(
  site: Site,
  channels: ReadonlySet<string>,
  rules: { id: string; name: string; source: string }[],
): Catalog {
  return {
    site: { id: site.id, name: site.name, timezone: site.timezone },
    devices: site.devices.map((d) => ({
      id: d.id,
      kind: d.kind,
      name: d.name,
      zone: d.zone,
      tags: [...d.tags],
    })),
    kinds: names(site.kinds),
    zones: sorted(site.devices.map((d) => d.zone)),
    tags: sorted(site.devices.flatMap((d) => d.tags)),
    teams: site.teams.map((t) => ({ id: t.id, name: t.name })),
    people: site.people.map((p) => ({ id: p.id, name: p.name })),
    oncall: names(site.oncall),
    policies: names(site.policies),
    templates: names(site.templates),
    dispatch: names(site.dispatch),
    channels: sorted(channels),
    badgeLists: names(site.badgeLists),
    schedules: names(site.schedules),
    rules: rules.map((r) => ({ id: r.id, name: r.name, source: r.source })),
  };
}
