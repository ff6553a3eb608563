import type { ServerResponse } from 'node:http';
import { HttpError, readBody } from '../../api/http-io.js';
import type { RequestContext, Router } from '../../api/router.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { VigieError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { Registry } from '../../core/metrics.js';
import { LogLimiter } from '../../listen/log-limiter.js';
import type { EngageActions } from '../actions.js';
import { phrases, sayLanguage } from '../voice/phrases.js';
import type { ServedPrompts } from '../voice/prompts.js';
import { verifyTwilioSignature } from './signature.js';
import { dial, gather, hangup, message, play, redirect, say, sip, twiml, type TwimlNode } from './twiml.js';

/*
 * The provider's side of the conversation, public (no bearer token) but signed:
 *   POST /hooks/twilio/sms                     an SMS a person sent back      -> TwiML <Message>
 *   POST /hooks/twilio/status/{deliveryId}     message or call status         -> 204
 *   POST /hooks/twilio/voice/{deliveryId}      the call was answered          -> TwiML menu
 *   POST /hooks/twilio/voice/{deliveryId}/menu a key was pressed              -> TwiML
 *   GET  /hooks/prompts/{id}.wav?exp=&sig=     a prompt for <Play>            -> audio/wav
 * Every POST must carry a valid X-Twilio-Signature computed over the URL the provider called:
 * publicUrl + the path and query as received (a proxy in front must not rewrite them), and the form
 * parameters; the auth token is the one of the account named by the AccountSid parameter.
 * https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */

export interface TwilioAccountKey {
  accountSid: string;
  authToken: string;
}

export interface TwilioHookDeps {
  actions: EngageActions;
  /** config `http.publicUrl`, the base the provider was given. */
  publicUrl: string;
  /** The accounts whose callbacks are accepted (the sms and voice channels' credentials). */
  accounts: readonly TwilioAccountKey[];
  /** Prompts for <Play>; without them calls use <Say>, and the prompt route answers 404. */
  prompts?: ServedPrompts;
  /** Where `vigie_webhook_rejected_total` lives (the gateway's registry). */
  metrics?: Registry;
  logger?: Logger;
  clock?: Clock;
}

/** Twilio's form posts are a few hundred bytes; anything much larger is not from it. */
const MAX_FORM_BYTES = 64 * 1024;
/** Times the call plays the alert again when nobody presses a key, before hanging up. */
const MAX_REPEATS = 2;
/** Seconds Twilio waits for a key after the menu. */
const GATHER_TIMEOUT_S = 6;

export function registerTwilioHooks(router: Router, deps: TwilioHookDeps): void {
  const { actions, prompts } = deps;
  const base = deps.publicUrl.replace(/\/+$/, '');
  const clock = deps.clock ?? systemClock;
  const logger = (deps.logger ?? silentLogger).child('twilio-hooks');
  const limiter = new LogLimiter(clock, 60_000);
  const rejected = (deps.metrics ?? new Registry()).counter(
    'vigie_webhook_rejected_total',
    'Provider webhooks refused, by reason (missing or bad signature, unknown account, bad prompt URL).',
  );

  function refuse(ctx: RequestContext, reason: string, message: string): never {
    rejected.inc({ reason });
    const suppressed = limiter.allow(reason);
    if (suppressed !== false) {
      logger.warn('webhook refused', {
        reason,
        method: ctx.req.method,
        path: new URL(ctx.req.url ?? '/', 'http://x').pathname,
        ...(suppressed > 0 ? { suppressed } : {}),
      });
    }
    throw new HttpError(403, 'VIGIE_ERR_FORBIDDEN', message);
  }

  /** The form of a signed POST, or a 403/413/415. */
  async function signedForm(ctx: RequestContext): Promise<URLSearchParams> {
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new HttpError(415, 'VIGIE_ERR_BAD_REQUEST', 'send application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams((await readBody(ctx.req, MAX_FORM_BYTES)).toString('utf8'));
    const header = ctx.req.headers['x-twilio-signature'];
    if (typeof header !== 'string' || header === '') {
      refuse(ctx, 'missing-signature', 'X-Twilio-Signature is required');
    }
    const account = deps.accounts.find((a) => a.accountSid === form.get('AccountSid'));
    if (!account) refuse(ctx, 'unknown-account', 'unknown AccountSid');
    if (!verifyTwilioSignature(account.authToken, header, base + (ctx.req.url ?? ''), form)) {
      refuse(ctx, 'bad-signature', 'X-Twilio-Signature does not match');
    }
    return form;
  }

  const voiceUrl = (id: string) => `${base}/hooks/twilio/voice/${encodeURIComponent(id)}`;

  router.add('POST', '/hooks/twilio/sms', null, async (ctx) => {
    const form = await signedForm(ctx);
    const from = required(form, 'From');
    const r = actions.inboundText({
      from,
      text: form.get('Body') ?? '',
      via: 'sms',
      ...(form.get('MessageSid') ? { providerId: form.get('MessageSid') as string } : {}),
    });
    return sendTwiml(ctx.res, r.reply ? twiml(message(r.reply)) : twiml());
  });

  router.add('POST', '/hooks/twilio/status/:deliveryId', null, async (ctx) => {
    const form = await signedForm(ctx);
    const status = form.get('MessageStatus') ?? form.get('CallStatus');
    const providerId = form.get('MessageSid') ?? form.get('CallSid') ?? form.get('SmsSid');
    if (!status || !providerId) throw bad('MessageStatus or CallStatus, and the resource sid, are required');
    actions.providerStatus({
      deliveryId: ctx.params.deliveryId,
      providerId,
      status,
      ...(form.get('ErrorCode') ? { errorCode: form.get('ErrorCode') as string } : {}),
      ...(form.get('AnsweredBy') ? { answeredBy: form.get('AnsweredBy') as string } : {}),
    });
    ctx.res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
    return undefined;
  });

  router.add('POST', '/hooks/twilio/voice/:deliveryId', null, async (ctx) => {
    await signedForm(ctx);
    const id = ctx.params.deliveryId;
    const script = actions.callScript(id);
    if (!script) return sendTwiml(ctx.res, twiml(say(phrases('en').gone, { language: 'en-GB' }), hangup()));
    const p = phrases(script.language);
    const language = sayLanguage(script.language);
    const menuText = p.menu(script.sip !== undefined);
    const [intro, alert, menu] = await Promise.all([
      prompts?.prepare(p.intro, script.language),
      prompts?.prepare(script.text, script.language, script.promptFile),
      prompts?.prepare(menuText, script.language),
    ]);
    const now = clock.now();
    const audio = (prompt: string | undefined, text: string) =>
      prompt && prompts ? play(prompts.url(prompt, now)) : say(text, { language });
    const repeats = Math.max(0, Math.min(MAX_REPEATS, Number.parseInt(ctx.query.get('n') ?? '0', 10) || 0));
    const verbs: TwimlNode[] = [
      gather(
        {
          input: 'dtmf',
          numDigits: 1,
          action: `${voiceUrl(id)}/menu`,
          method: 'POST',
          timeout: GATHER_TIMEOUT_S,
        },
        audio(intro, p.intro),
        audio(alert, script.text),
        audio(menu, menuText),
      ),
    ];
    // No key pressed: Twilio goes on past the Gather. Play it again a bounded number of times.
    if (repeats < MAX_REPEATS) verbs.push(redirect(`${voiceUrl(id)}?n=${repeats + 1}`, { method: 'POST' }));
    verbs.push(hangup());
    return sendTwiml(ctx.res, twiml(...verbs));
  });

  router.add('POST', '/hooks/twilio/voice/:deliveryId/menu', null, async (ctx) => {
    const form = await signedForm(ctx);
    const id = ctx.params.deliveryId;
    // Read before the key acts: acknowledging may end the incident and with it the script.
    const language = actions.callScript(id)?.language ?? 'en';
    const r = actions.keypad(id, form.get('Digits') ?? '');
    const spoken = r.say.trim() ? [say(r.say, { language: sayLanguage(language) })] : [];
    let verbs: TwimlNode[];
    switch (r.outcome) {
      case 'acknowledged':
      case 'escalated':
      case 'gone':
        verbs = [...spoken, hangup()];
        break;
      case 'repeat':
        verbs = [...spoken, redirect(voiceUrl(id), { method: 'POST' })];
        break;
      case 'speaker':
        verbs = r.sip
          ? [...spoken, dial({ timeout: 20 }, sip(r.sip)), hangup()]
          : [...spoken, redirect(voiceUrl(id), { method: 'POST' })];
        break;
      case 'not-understood':
        verbs = [...spoken, redirect(voiceUrl(id), { method: 'POST' })];
        break;
    }
    return sendTwiml(ctx.res, twiml(...verbs));
  });

  // No Twilio signature here: the provider fetches media with a plain GET; the signed, expiring URL
  // is the credential.
  router.add('GET', '/hooks/prompts/:file', null, async (ctx) => {
    const m = /^([0-9a-f]{1,64})\.wav$/.exec(ctx.params.file);
    if (!m || !prompts) throw new HttpError(404, 'VIGIE_ERR_NOT_FOUND', 'no such prompt');
    const ok = prompts.verify(m[1], ctx.query.get('exp') ?? '', ctx.query.get('sig') ?? '', clock.now());
    if (!ok) refuse(ctx, 'prompt-url', 'the prompt URL is not signed or has expired');
    const wav = await prompts.read(m[1]);
    if (!wav) throw new HttpError(404, 'VIGIE_ERR_NOT_FOUND', 'no such prompt');
    ctx.res.writeHead(200, {
      'Content-Type': 'audio/wav',
      'Content-Length': wav.length,
      'Cache-Control': 'private, max-age=300',
    });
    ctx.res.end(wav);
    return undefined;
  });
}

function sendTwiml(res: ServerResponse, xml: string): undefined {
  res.writeHead(200, {
    'Content-Type': 'text/xml; charset=utf-8',
    'Content-Length': Buffer.byteLength(xml),
    'Cache-Control': 'no-store',
  });
  res.end(xml);
  return undefined;
}

function required(form: URLSearchParams, name: string): string {
  const v = form.get(name);
  if (!v) throw bad(`${name} is required`);
  return v;
}

const bad = (message: string) => new VigieError('VIGIE_ERR_BAD_REQUEST', message);
