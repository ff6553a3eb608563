import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../src/listen/credentials.js';

// The appliance scenario of DESIGN.md with short timings: a coffee machine at a mall faults, the
// CRM knows its owner, two technicians could go (the nearer one first), the customer is told.

export const PASSWORD = 'sensor-password';
export const SITE = 'mall1';

export const PHONES = {
  near: '+33612345611',
  far: '+33612345612',
  desk: '+33612345613',
  customer: '+33612345690',
} as const;

export const CUSTOMER_EMAIL = 'gerant@cafe-lumiere.example';

export async function writeServiceSite(
  dir: string,
  o: { offerTimeout: string },
): Promise<{ site: string; rules: string; csv: string }> {
  const hash = await hashPassword(PASSWORD);
  writeFileSync(
    join(dir, 'site.yaml'),
    `site: ${SITE}
name: Mall One
timezone: Europe/Paris
teams: [{ id: service-desk, name: Service desk, members: [desk] }]
people:
  - { id: desk, name: Service desk, phone: '${PHONES.desk}', channels: { default: [sms] } }
clients: [{ username: sensors, passwordHash: '${hash}', publish: ['vigie/${SITE}/#'] }]
devices:
  - id: coffee-1
    kind: appliance
    name: Espresso machine
    zone: food-court
    serial: WM-0042
    location: { lat: 48.8566, lon: 2.3522, label: Café Lumière }
technicians:
  # Nearer to the café (about 2 km), and the only one with the skill for E21 besides the far one.
  - { id: tech-near, name: Hugo Martin, phone: '${PHONES.near}', language: fr, skills: [coffee-machines, plumbing], base: { lat: 48.87, lon: 2.36 } }
  - { id: tech-far, name: Inès Garcia, phone: '${PHONES.far}', skills: [coffee-machines, plumbing], base: { lat: 48.95, lon: 2.55 } }
  - { id: tech-other, name: Paul Roux, phone: '+33612345619', skills: [electrical], base: { lat: 48.857, lon: 2.353 } }
dispatch:
  appliance-repair:
    skills: { E21: [plumbing], default: [coffee-machines] }
    offerTimeout: ${o.offerTimeout}
    dispatchers: service-desk
    sms: sms
    email: email
    notifyCustomer: [sms, email]
`,
  );
  const rules = join(dir, 'rules');
  mkdirSync(rules, { recursive: true });
  writeFileSync(
    join(rules, 'appliance.yaml'),
    `rule: appliance-fault
name: Appliance fault
severity: minor
listen:
  devices: { kind: appliance }
  when: { state: { status: fault } }
route:
  team: service-desk
  dispatch: appliance-repair
engage:
  message: '{device.name} reports {values.code}'
  steps: [{ notify: [team:service-desk], via: [console] }]
`,
  );
  const csv = join(dir, 'customers.csv');
  writeFileSync(
    csv,
    `id,name,phone,email,language,address,lat,lon,contract,value,site,serial,model,device
cust-lumiere,Café Lumière,${PHONES.customer},${CUSTOMER_EMAIL},fr,"12 rue de Rivoli, Paris",48.8566,2.3522,premium,12000,${SITE},WM-0042,Expresso Pro 2,coffee-1
cust-other,Boulangerie Sud,+33612345691,,fr,,48.80,2.30,standard,800,${SITE},WM-0099,,
`,
  );
  return { site: join(dir, 'site.yaml'), rules, csv };
}
