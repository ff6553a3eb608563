import { readTwiml } from '../../src/engage/twilio/twiml-read.js';

// What the fake Twilio checks on a create, with the error codes Twilio answers
// (https://www.twilio.com/docs/api/errors). A problem found means a 400 and nothing created.

const E164 = /^\+[1-9]\d{6,14}$/;
const CALL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export type Problem = { code: number; message: string } | undefined;

export function checkMessage(f: URLSearchParams): Problem {
  const to = f.get('To');
  if (!to) return { code: 21604, message: "A 'To' phone number is required." };
  if (!E164.test(to)) return { code: 21211, message: `Invalid 'To' Phone Number: ${to}` };
  if (!f.get('From') && !f.get('MessagingServiceSid')) {
    return { code: 21603, message: "A 'From' or 'MessagingServiceSid' parameter is required." };
  }
  const body = f.get('Body') ?? '';
  if (body.length === 0 && !f.get('MediaUrl')) return { code: 21602, message: 'Message body is required.' };
  if (body.length > 1600)
    return { code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' };
  const cb = f.get('StatusCallback');
  if (cb !== null && !isHttpUrl(cb)) return { code: 21609, message: `Invalid StatusCallback url: ${cb}` };
  return undefined;
}

export function checkCall(f: URLSearchParams): Problem {
  const to = f.get('To');
  if (!to) return { code: 21201, message: "No 'To' number is specified." };
  if (!E164.test(to) && !/^(sip|client):/.test(to)) {
    return { code: 21211, message: `Invalid 'To' Phone Number: ${to}` };
  }
  if (!f.get('From')) return { code: 21213, message: "No 'From' number is specified." };
  const url = f.get('Url');
  const inline = f.get('Twiml');
  if (!url && !inline && !f.get('ApplicationSid')) {
    return { code: 21205, message: 'Url, Twiml or ApplicationSid is required.' };
  }
  if (url !== null && !isHttpUrl(url)) return { code: 21205, message: `Url is not a valid URL: ${url}` };
  if (inline !== null) {
    try {
      readTwiml(inline, 'voice');
    } catch (err) {
      return { code: 12100, message: `Twiml is not valid: ${(err as Error).message}` };
    }
  }
  for (const name of ['Method', 'StatusCallbackMethod', 'FallbackMethod']) {
    const m = f.get(name);
    if (m !== null && m !== 'GET' && m !== 'POST')
      return { code: 21207, message: `${name} must be GET or POST` };
  }
  for (const name of ['StatusCallback', 'FallbackUrl']) {
    const u = f.get(name);
    if (u !== null && !isHttpUrl(u)) return { code: 21609, message: `Invalid ${name} url: ${u}` };
  }
  for (const e of f.getAll('StatusCallbackEvent').flatMap((v) => v.split(/\s+/))) {
    if (!CALL_EVENTS.includes(e)) return { code: 21626, message: `Invalid StatusCallbackEvent: ${e}` };
  }
  const timeout = f.get('Timeout');
  if (timeout !== null && (!/^\d+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 600)) {
    return { code: 21216, message: `Timeout must be between 1 and 600 seconds: ${timeout}` };
  }
  const md = f.get('MachineDetection');
  if (md !== null && md !== 'Enable' && md !== 'DetectMessageEnd') {
    return { code: 21626, message: `MachineDetection must be Enable or DetectMessageEnd: ${md}` };
  }
  return undefined;
}
