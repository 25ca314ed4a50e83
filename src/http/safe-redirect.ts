/** Longest `next` accepted: a redirect target is a path, not a payload (and must fit in a header). */
const MAX_NEXT_LENGTH = 2048;

/** How many layers of percent-encoding are undone to look for hidden slashes, backslashes and controls. */
const MAX_DECODE_LAYERS = 3;

/**
 * Characters never allowed in `next` as given: backslashes (browsers read `\` as `/`), C0/C1 control
 * characters and DEL (browsers strip tabs and newlines from URLs, so `/\t/evil.com` is `//evil.com`), and
 * every Unicode whitespace (`\s`: space, `\v`, `\f`, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000, U+FEFF).
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const FORBIDDEN = /[\\\u0000-\u001f\u007f-\u009f\s]/u;

/**
 * Characters never allowed once percent-decoded: those a decoder downstream could turn into a way off the
 * site. Encoded spaces (`%20`) stay allowed: decoded, a space is part of a path.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const FORBIDDEN_DECODED = /[\\\u0000-\u001f\u007f-\u009f]/u;

/** An origin no real request has: a path that resolves elsewhere from it leaves the site. */
const PROBE_ORIGIN = 'http://nest-session.invalid';

/**
 * `next` as a redirect target that stays on this site, else `fallback`; never throws. Like Django's
 * `url_has_allowed_host_and_scheme` without allowed hosts: a path starting with exactly one `/` (not `//`
 * nor `/\`), no scheme or userinfo, no backslash, control character or Unicode whitespace anywhere, also
 * after undoing percent-encoding (`/%2F/evil.com`, `/%5Cevil.com`, `/%09/evil.com` are refused; `%20` is
 * fine). Non-ASCII characters are returned percent-encoded, so the result is always a valid `Location`
 * header value.
 * `fallback` is returned as given: pass a constant path.
 */
export function safeNextPath(next: unknown, fallback = '/'): string {
  if (typeof next !== 'string' || next.length > MAX_NEXT_LENGTH) return fallback;
  try {
    let layer = next;
    for (let i = 0; i <= MAX_DECODE_LAYERS; i++) {
      if (!isLocalPath(layer, i === 0 ? FORBIDDEN : FORBIDDEN_DECODED)) return fallback;
      const decoded = decodeLayer(layer);
      if (decoded === layer) break;
      // Still encoded after the last layer we look at: too deep to judge, so refused.
      if (i === MAX_DECODE_LAYERS) return fallback;
      layer = decoded;
    }
    // Visible non-ASCII characters (e.g. `/café`) are kept, percent-encoded; a lone surrogate throws: fallback.
    const encoded = next.replace(/[^\x21-\x7e]+/g, (run) => encodeURIComponent(run));
    // The browser's own view: resolved against an origin, the path must not leave it or gain a userinfo.
    const url = new URL(encoded, PROBE_ORIGIN);
    if (url.origin !== PROBE_ORIGIN || url.username !== '' || url.password !== '') return fallback;
    return encoded;
  } catch {
    return fallback;
  }
}

/** Whether `path` starts with a single `/` and has no `forbidden` character. */
function isLocalPath(path: string, forbidden: RegExp): boolean {
  return path.startsWith('/') && path[1] !== '/' && path[1] !== '\\' && !forbidden.test(path);
}

/**
 * One layer of percent-decoding. With a malformed escape somewhere (`/100%`), the ASCII escapes are still
 * decoded, as lenient decoders downstream would: `/%2F%` must not pass for harmless.
 */
function decodeLayer(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path.replace(/%([0-7][0-9a-fA-F])/g, (_, hex: string) =>
      String.fromCharCode(parseInt(hex, 16)),
    );
  }
}
