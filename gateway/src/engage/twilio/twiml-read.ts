/*
 * Reads TwiML the way Twilio does before acting on it: a strict XML parse (a malformed document is
 * Twilio error 12100) and a check of the verbs, their nesting and their attributes (12200). Not
 * used by the gateway at run time: the fake Twilio and the tests use it to hold our answers to the
 * rules the real service applies.
 * https://www.twilio.com/docs/api/errors/12100  https://www.twilio.com/docs/voice/twiml
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

export class TwimlError extends Error {
  constructor(
    /** 12100: not well-formed XML; 12200: not valid TwiML. */
    readonly code: 12100 | 12200,
    message: string,
  ) {
    super(message);
    this.name = 'TwimlError';
  }
}

const NAME = /^[A-Za-z_][\w.-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** A strict parser for the XML subset TwiML uses (no DTD, no namespaces, no processing instructions). */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new TwimlError(12100, `${why} at offset ${i}`);
  };
  const skipMisc = () => {
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))?.[0].length ?? 0;
      i += ws;
      if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else return;
    }
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);|&/g, (m, ent: string | undefined) => {
      if (ent === undefined) return fail('bare "&"');
      if (ENTITIES[ent]) return ENTITIES[ent];
      const num = /^#(?:x([0-9a-fA-F]+)|(\d+))$/.exec(ent);
      if (!num) return fail(`unknown entity &${ent};`);
      const cp = num[1] ? parseInt(num[1], 16) : parseInt(num[2], 10);
      if (cp > 0x10ffff || cp === 0) return fail(`bad character reference ${m}`);
      return String.fromCodePoint(cp);
    });
  const element = (): XmlElement => {
    if (text[i] !== '<') fail('expected an element');
    i++;
    const name = NAME.exec(text.slice(i))?.[0] ?? fail('expected an element name');
    i += name.length;
    const el: XmlElement = { name, attrs: {}, children: [] };
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))?.[0].length ?? 0;
      i += ws;
      if (text.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (text[i] === '>') {
        i++;
        break;
      }
      if (ws === 0) fail('expected white space before an attribute');
      const attr = NAME.exec(text.slice(i))?.[0] ?? fail('expected an attribute name');
      i += attr.length;
      const m = /^\s*=\s*(["'])/.exec(text.slice(i)) ?? fail(`attribute ${attr} has no quoted value`);
      i += m[0].length;
      const end = text.indexOf(m[1], i);
      if (end < 0) fail('unterminated attribute value');
      const raw = text.slice(i, end);
      if (raw.includes('<')) fail('"<" in an attribute value');
      if (attr in el.attrs) fail(`attribute ${attr} given twice`);
      el.attrs[attr] = decode(raw);
      i = end + 1;
    }
    for (;;) {
      if (i >= text.length) fail(`<${name}> is not closed`);
      if (text.startsWith('</', i)) {
        i += 2;
        const close = NAME.exec(text.slice(i))?.[0];
        if (close !== name) fail(`</${close ?? ''}> closes <${name}>`);
        i += name.length;
        const tail = /^\s*>/.exec(text.slice(i)) ?? fail('malformed closing tag');
        i += tail[0].length;
        return el;
      }
      if (text.startsWith('<!--', i)) {
        skipMisc();
      } else if (text.startsWith('<![CDATA[', i)) {
        const end = text.indexOf(']]>', i);
        if (end < 0) fail('unterminated CDATA');
        el.children.push(text.slice(i + 9, end));
        i = end + 3;
      } else if (text[i] === '<') {
        el.children.push(element());
      } else {
        const next = text.indexOf('<', i);
        const raw = text.slice(i, next < 0 ? text.length : next);
        if (raw.includes(']]>')) fail('"]]>" in text');
        el.children.push(decode(raw));
        i += raw.length;
      }
    }
  };
  if (text.startsWith('\uFEFF')) i = 1;
  if (text.startsWith('<?xml', i)) {
    const end = text.indexOf('?>', i);
    if (end < 0) fail('unterminated XML declaration');
    i = end + 2;
  }
  skipMisc();
  if (text.startsWith('<!DOCTYPE', i)) fail('a DOCTYPE is not accepted');
  const root = element();
  skipMisc();
  if (i !== text.length) fail('content after the root element');
  return root;
}

/** The text content of an element and its descendants. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** Elements named `name` under `el`, depth first, document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    if (c.name === name) out.push(c);
    out.push(...findAll(c, name));
  }
  return out;
}

/** Child elements, with white-space text dropped (any other text where verbs belong is an error). */
export function verbs(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (typeof c !== 'string') out.push(c);
    else if (c.trim() !== '') throw new TwimlError(12200, `text "${c.trim()}" inside <${el.name}>`);
  }
  return out;
}

interface VerbRule {
  attrs: Record<string, RegExp>;
  /** Allowed child elements; undefined: text content only. */
  children?: readonly string[];
  /** Text the element must carry (a URL, a SIP URI...). */
  text?: RegExp;
  /** Children and text both allowed (Dial: a bare number, or nouns). */
  mixed?: boolean;
}

const URL_ = /^(https?:\/\/\S+|\/\S*)$/;
const ABS_URL = /^https?:\/\/\S+$/;
const METHOD = /^(GET|POST)$/;
const INT = /^\d+$/;
const ANY = /^[\s\S]*$/;

const VOICE: Record<string, VerbRule> = {
  Say: { attrs: { voice: ANY, language: /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, loop: INT }, text: /\S/ },
  Play: { attrs: { loop: INT, digits: /^[\dwW*#]+$/ }, text: /^(https?:\/\/\S+)?$/ },
  Pause: { attrs: { length: INT }, children: [] },
  Gather: {
    attrs: {
      input: /^(dtmf|speech|dtmf speech|speech dtmf)$/,
      numDigits: /^[1-9]\d*$/,
      action: URL_,
      method: METHOD,
      timeout: /^(\d+|auto)$/,
      finishOnKey: /^[\d*#]?$/,
      actionOnEmptyResult: /^(true|false)$/,
      language: ANY,
      hints: ANY,
      speechTimeout: /^(\d+|auto)$/,
    },
    children: ['Say', 'Play', 'Pause'],
  },
  Redirect: { attrs: { method: METHOD }, text: URL_ },
  Hangup: { attrs: {}, children: [] },
  Reject: { attrs: { reason: /^(rejected|busy)$/ }, children: [] },
  Dial: {
    attrs: { action: URL_, method: METHOD, timeout: INT, callerId: ANY, record: ANY, timeLimit: INT },
    children: ['Number', 'Sip', 'Client', 'Conference', 'Queue'],
    mixed: true,
  },
  Sip: { attrs: { username: ANY, password: ANY }, text: /^sips?:\S+$/ },
  Number: { attrs: { sendDigits: ANY }, text: /^\+?[\d\s()-]+$/ },
  Client: { attrs: {}, text: /\S/ },
  Conference: { attrs: {}, text: /\S/ },
  Queue: { attrs: {}, text: /\S/ },
};

const MESSAGING: Record<string, VerbRule> = {
  Message: {
    attrs: { to: ANY, from: ANY, action: ABS_URL, method: METHOD },
    children: ['Body', 'Media'],
    mixed: true,
  },
  Body: { attrs: {}, text: ANY },
  Media: { attrs: {}, text: ABS_URL },
  Redirect: VOICE.Redirect,
};

const TOP: Record<'voice' | 'messaging', readonly string[]> = {
  voice: ['Say', 'Play', 'Pause', 'Gather', 'Redirect', 'Hangup', 'Reject', 'Dial'],
  messaging: ['Message', 'Redirect'],
};

/** Parses and checks a TwiML document; throws TwimlError (12100 or 12200) as Twilio would fail it. */
export function readTwiml(text: string, kind: 'voice' | 'messaging'): XmlElement {
  const root = parseXml(text);
  if (root.name !== 'Response') throw new TwimlError(12200, `the root is <${root.name}>, not <Response>`);
  const rules = kind === 'voice' ? VOICE : MESSAGING;
  for (const v of verbs(root)) {
    if (!TOP[kind].includes(v.name)) throw new TwimlError(12200, `<${v.name}> is not a ${kind} verb`);
    check(v, rules);
  }
  return root;
}

function check(el: XmlElement, rules: Record<string, VerbRule>): void {
  const rule = rules[el.name];
  for (const [k, v] of Object.entries(el.attrs)) {
    const re = rule.attrs[k];
    if (!re) throw new TwimlError(12200, `<${el.name}> has no attribute ${k}`);
    if (!re.test(v)) throw new TwimlError(12200, `<${el.name} ${k}="${v}"> is not a valid value`);
  }
  const elements = el.children.filter((c): c is XmlElement => typeof c !== 'string');
  const text = el.children.filter((c): c is string => typeof c === 'string').join('');
  if (rule.children === undefined || (rule.mixed && elements.length === 0 && text.trim() !== '')) {
    if (elements.length > 0)
      throw new TwimlError(12200, `<${el.name}> takes text, not <${elements[0].name}>`);
    if (rule.text && !rule.text.test(text.trim())) {
      throw new TwimlError(12200, `<${el.name}> cannot carry "${text.trim()}"`);
    }
    return;
  }
  for (const c of verbs(el)) {
    if (!rule.children.includes(c.name))
      throw new TwimlError(12200, `<${c.name}> cannot sit in <${el.name}>`);
    check(c, rules);
  }
}
