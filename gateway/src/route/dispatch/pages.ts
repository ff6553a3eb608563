import type { ServerResponse } from 'node:http';
import { HttpError, readBody } from '../../api/http-io.js';
import type { RequestContext, Router } from '../../api/router.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { Language } from '../../site/model.js';
import type { JobPage, JobService, SurveyPage } from './jobs.js';
import { TECHNICIAN_ACTIONS, type TechnicianAction } from './model.js';
import { PAGE_TEXT, type PageText } from './page-text.js';

/*
 * The pages behind the links of job SMS and customer messages, public: the signed token in the path
 * is the credential (route/dispatch/links.ts).
 *   GET  /j/{token}   the technician's job: what, where, the customer, and the buttons valid now
 *   POST /j/{token}   action=accept|decline|enroute|arrived|resolved  -> 303 back to the page
 *   GET  /s/{token}   the customer's one-question survey
 *   POST /s/{token}   score=1..5                                       -> 303 back to the page
 * Plain HTML forms, no script, no external asset: they work on any phone browser. A bad or expired
 * link is a bare 404 (it says nothing of what exists); a tap the job's state does not allow is a 409
 * saying why.
 */

export interface JobPagesDeps {
  jobs: Pick<JobService, 'view' | 'act' | 'surveyView' | 'survey'>;
  /** Language of the pages that belong to nobody (the 404). */
  language: Language;
  logger?: Logger;
  /**
   * The console's stylesheet (dashboards/console/theme.css), inlined so the pages look like the
   * console and still load in one request on a weak phone signal; a plain built-in look without it.
   */
  css?: string;
}

/** A form here is one or two short fields. */
const MAX_FORM_BYTES = 4 * 1024;

const HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // The token is in the URL: never hand it to the map site in a Referer.
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
};

export function registerJobPages(router: Router, deps: JobPagesDeps): void {
  const logger = (deps.logger ?? silentLogger).child('job-pages');
  const css = deps.css ?? CSS;
  const notFound = (res: ServerResponse) => {
    const t = PAGE_TEXT[deps.language];
    return send(
      res,
      404,
      layout(
        css,
        deps.language,
        t.notFoundTitle,
        `<h1>${esc(t.notFoundTitle)}</h1><p>${esc(t.notFound)}</p>`,
      ),
    );
  };

  router.add('GET', '/j/:token', null, (ctx) => {
    const page = deps.jobs.view(ctx.params.token);
    if (!page) return notFound(ctx.res);
    const done = ctx.query.get('done');
    const confirmation = isAction(done) ? PAGE_TEXT[page.language].done[done] : undefined;
    return send(ctx.res, 200, jobPage(css, page, confirmation));
  });

  router.add('POST', '/j/:token', null, async (ctx) => {
    const form = await readForm(css, ctx, deps.language);
    if (!form) return undefined;
    const action = form.get('action');
    if (!isAction(action)) return plain(css, ctx.res, 400, deps.language);
    const r = deps.jobs.act(ctx.params.token, action);
    const back = relative(ctx.params.token);
    if (r.ok) return redirect(ctx.res, `${back}?done=${action}`);
    logger.debug('job action refused', { action, reason: r.reason });
    if (r.reason === 'not-found') return notFound(ctx.res);
    return refused(css, ctx.res, r.language, r.message, back);
  });

  router.add('GET', '/s/:token', null, (ctx) => {
    const page = deps.jobs.surveyView(ctx.params.token);
    if (!page) return notFound(ctx.res);
    return send(ctx.res, 200, surveyPage(css, page));
  });

  router.add('POST', '/s/:token', null, async (ctx) => {
    const form = await readForm(css, ctx, deps.language);
    if (!form) return undefined;
    const raw = form.get('score') ?? '';
    const r = deps.jobs.survey(ctx.params.token, /^[0-9]$/.test(raw) ? Number(raw) : NaN);
    const back = relative(ctx.params.token);
    // Answered already (a second tap): the page thanks them again with the first answer.
    if (r.ok || r.reason === 'answered') return redirect(ctx.res, back);
    if (r.reason === 'not-found') return notFound(ctx.res);
    return refused(css, ctx.res, r.language, r.message, back);
  });
}

/** The posted form; undefined when the answer (413, 415) has been written instead. */
async function readForm(
  css: string,
  ctx: RequestContext,
  lang: Language,
): Promise<URLSearchParams | undefined> {
  let body: Buffer;
  try {
    body = await readBody(ctx.req, MAX_FORM_BYTES);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    plain(css, ctx.res, err.status, lang, err.headers);
    return undefined;
  }
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    plain(css, ctx.res, 415, lang);
    return undefined;
  }
  return new URLSearchParams(body.toString('utf8'));
}

/**
 * The page itself, relative to its own URL (`/j/TOKEN` -> `TOKEN`): right behind a proxy that serves
 * the gateway under a path prefix, where `/j/...` would not be.
 */
function relative(token: string): string {
  return encodeURIComponent(token);
}

function isAction(a: string | null): a is TechnicianAction {
  return a !== null && (TECHNICIAN_ACTIONS as readonly string[]).includes(a);
}

/** A request no page of ours sends (a bad form, too large, not a form): a bare refusal. */
function plain(
  css: string,
  res: ServerResponse,
  status: number,
  lang: Language,
  headers: Readonly<Record<string, string>> = {},
): undefined {
  const t = PAGE_TEXT[lang];
  return send(res, status, layout(css, lang, t.refusedTitle, `<h1>${esc(t.refusedTitle)}</h1>`), headers);
}

function refused(css: string, res: ServerResponse, lang: Language, message: string, back: string): undefined {
  const t = PAGE_TEXT[lang];
  const body =
    `<h1>${esc(t.refusedTitle)}</h1><p class="warn">${esc(message)}</p>` +
    `<p><a href="${esc(back)}">${esc(t.back)}</a></p>`;
  return send(res, 409, layout(css, lang, t.refusedTitle, body));
}

function jobPage(css: string, p: JobPage, confirmation: string | undefined): string {
  const t = PAGE_TEXT[p.language];
  const num = (n: number) => new Intl.NumberFormat(p.language, { maximumFractionDigits: 1 }).format(n);
  const rows: [string, string][] = [];
  rows.push([t.what, esc(p.deviceName) + (p.code ? ` · ${esc(t.fault)} <b>${esc(p.code)}</b>` : '')]);
  let where = esc(p.place);
  if (p.location) {
    const { lat, lon } = p.location;
    const map = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
    where += `<br><a href="${esc(map)}" rel="noreferrer">${esc(t.map)}</a>`;
  }
  rows.push([t.where, where]);
  if (p.customer) {
    const phone = p.customer.phone
      ? ` · <a href="tel:${esc(p.customer.phone.replace(/[^+0-9]/g, ''))}">${esc(p.customer.phone)}</a>`
      : '';
    rows.push([t.customer, esc(p.customer.firstName) + phone]);
  }
  if (p.distanceKm !== undefined || p.travelMinutes !== undefined) {
    const parts = [
      ...(p.distanceKm !== undefined ? [`${num(p.distanceKm)} km`] : []),
      ...(p.travelMinutes !== undefined ? [`${p.travelMinutes} min`] : []),
    ];
    rows.push([t.distance, esc(parts.join(' · '))]);
  }
  if (p.eta) rows.push([t.eta, esc(p.eta)]);
  if (p.answerBy) rows.push([t.answerBy, esc(p.answerBy)]);
  const buttons = p.actions
    .map(
      (a) =>
        `<form method="post"><input type="hidden" name="action" value="${a}"><button class="${a}">${esc(t.buttons[a])}</button></form>`,
    )
    .join('');
  const body =
    `<h1>${esc(t.job)} · ${esc(p.deviceName)}</h1>` +
    `<p class="state">${esc(t.states[p.job.state])}</p>` +
    (confirmation ? `<p class="ok">${esc(confirmation)}</p>` : '') +
    (p.notice ? `<p class="warn">${esc(t.refused[p.notice])}</p>` : '') +
    `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>` +
    buttons;
  return layout(css, p.language, `${t.job} · ${p.deviceName}`, body);
}

function surveyPage(css: string, p: SurveyPage): string {
  const t: PageText = PAGE_TEXT[p.language];
  const body =
    p.score !== undefined
      ? `<h1>${esc(t.surveyTitle)}</h1><p class="ok">${esc(t.thanks)}</p><p class="score">${p.score} / 5</p>`
      : `<h1>${esc(t.surveyTitle)}</h1><p>${esc(t.surveyQuestion(p.deviceName, p.technicianFirstName))}</p>` +
        `<form method="post" class="scores">${[1, 2, 3, 4, 5]
          .map((n) => `<button name="score" value="${n}">${n}</button>`)
          .join('')}</form>`;
  return layout(css, p.language, t.surveyTitle, body);
}

const CSS = `
body{font:17px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:34rem;padding:1rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3rem;margin:.2rem 0 .6rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem .8rem;margin:1rem 0}
dt{color:#666}dd{margin:0}
.state{display:inline-block;padding:.15rem .6rem;border-radius:1rem;background:#e4e9f2;font-weight:600}
.ok{background:#e3f4e6;border-left:4px solid #2e8540;padding:.5rem .7rem}
.warn{background:#fdf0e0;border-left:4px solid #d9822b;padding:.5rem .7rem}
form{margin:.6rem 0}
button{width:100%;font:inherit;font-weight:600;padding:.9rem;border:0;border-radius:.5rem;background:#1f5fbf;color:#fff}
button.decline{background:#ddd;color:#1b1b1b}
button.resolved{background:#2e8540}
.scores{display:flex;gap:.4rem}.scores button{flex:1;font-size:1.3rem}
.score{font-size:2rem;font-weight:700;text-align:center}
a{color:#1f5fbf}
`;

function layout(css: string, lang: Language, title: string, body: string): string {
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="robots" content="noindex"><title>${esc(title)}</title><style>${css}</style></head>` +
    `<body class="job">${body}</body></html>`
  );
}

function send(
  res: ServerResponse,
  status: number,
  html: string,
  extra: Readonly<Record<string, string>> = {},
): undefined {
  res.writeHead(status, { ...HEADERS, 'Content-Length': Buffer.byteLength(html), ...extra });
  res.end(html);
  return undefined;
}

function redirect(res: ServerResponse, location: string): undefined {
  // 303: the browser GETs the page, so a reload does not post the tap again.
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
  return undefined;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
