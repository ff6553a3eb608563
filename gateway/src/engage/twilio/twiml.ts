/*
 * A tiny TwiML builder: the verbs Vigie answers with, nothing else.
 * https://www.twilio.com/docs/voice/twiml  https://www.twilio.com/docs/messaging/twiml
 *   twiml(gather({ numDigits: 1, action }, say('Vigie alert.', { language: 'en-GB' })), hangup())
 *   -> <?xml version="1.0" encoding="UTF-8"?><Response><Gather ...><Say ...>...</Say></Gather><Hangup/></Response>
 * Text and attribute values are escaped; characters XML 1.0 cannot carry (most C0 controls) are
 * dropped, so a device name with a stray control byte cannot break the document.
 */

export interface TwimlNode {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string | number | undefined>>;
  readonly children: readonly (TwimlNode | string)[];
}

const node = (
  name: string,
  attrs: TwimlNode['attrs'] = {},
  ...children: (TwimlNode | string)[]
): TwimlNode => ({ name, attrs, children });

type Method = 'GET' | 'POST';

export const say = (text: string, o: { language?: string; voice?: string; loop?: number } = {}) =>
  node('Say', o, text);
export const play = (url: string, o: { loop?: number } = {}) => node('Play', o, url);
export const pause = (length = 1) => node('Pause', { length });
export const redirect = (url: string, o: { method?: Method } = {}) => node('Redirect', o, url);
export const hangup = () => node('Hangup');
export const message = (text: string) => node('Message', {}, text);
export const sip = (uri: string) => node('Sip', {}, uri);

export interface GatherOptions {
  input?: 'dtmf' | 'speech' | 'dtmf speech';
  numDigits?: number;
  action?: string;
  method?: Method;
  /** Seconds of silence after the last prompt before Twilio moves on to the next verb. */
  timeout?: number;
  finishOnKey?: string;
}
/** Only Say, Play and Pause may sit inside a Gather. */
export const gather = (o: GatherOptions, ...prompts: TwimlNode[]) => node('Gather', { ...o }, ...prompts);

export interface DialOptions {
  action?: string;
  method?: Method;
  /** Seconds to wait for the far end to answer. */
  timeout?: number;
  callerId?: string;
}
export const dial = (o: DialOptions, ...targets: TwimlNode[]) => node('Dial', { ...o }, ...targets);

/** The whole document: verbs in order under <Response>. */
export function twiml(...verbs: TwimlNode[]): string {
  return '<?xml version="1.0" encoding="UTF-8"?>' + render(node('Response', {}, ...verbs));
}

function render(n: TwimlNode): string {
  let attrs = '';
  for (const [k, v] of Object.entries(n.attrs)) {
    if (v !== undefined) attrs += ` ${k}="${escapeXml(String(v))}"`;
  }
  if (n.children.length === 0) return `<${n.name}${attrs}/>`;
  const inner = n.children.map((c) => (typeof c === 'string' ? escapeXml(c) : render(c))).join('');
  return `<${n.name}${attrs}>${inner}</${n.name}>`;
}

// XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
const NOT_XML_CHAR =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXml(s: string): string {
  return s
    .replace(NOT_XML_CHAR, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
