import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * X-Twilio-Signature (https://www.twilio.com/docs/usage/webhooks/webhooks-security):
 *   base64( HMAC-SHA1( authToken, url + name1 + value1 + name2 + value2 ... ) )
 * where `url` is the full URL Twilio requested, query string included, and the POST parameters are
 * sorted by name; a name sent several times contributes each of its values, sorted. A GET has no
 * parameters beyond the URL. Sorting is by UTF-16 code unit and repeated identical values count
 * once, as the official helper libraries do (the tests hold us to twilio-node).
 */

export type SignedParams = URLSearchParams | Readonly<Record<string, string | readonly string[]>>;

export function twilioSignature(authToken: string, url: string, params: SignedParams = {}): string {
  const grouped = new Map<string, Set<string>>();
  const add = (name: string, value: string) => {
    let values = grouped.get(name);
    if (!values) grouped.set(name, (values = new Set()));
    values.add(value);
  };
  if (params instanceof URLSearchParams) {
    for (const [name, value] of params) add(name, value);
  } else {
    for (const [name, value] of Object.entries(params)) {
      for (const v of typeof value === 'string' ? [value] : value) add(name, v);
    }
  }
  let data = url;
  for (const name of [...grouped.keys()].sort()) {
    for (const value of [...(grouped.get(name) ?? [])].sort()) data += name + value;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Constant-time check of an X-Twilio-Signature header. */
export function verifyTwilioSignature(
  authToken: string,
  header: string | undefined,
  url: string,
  params: SignedParams = {},
): boolean {
  if (!header) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
