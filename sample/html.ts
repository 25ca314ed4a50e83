/** Escapes text for HTML: session values come from users (the login form), so never print them raw. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** A minimal HTML page around `body` (already escaped). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
form{display:inline-block;margin:.2rem .4rem .2rem 0}code,pre{background:#f4f4f4;padding:.1rem .3rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
.flash{padding:.5rem .8rem;border-left:.3rem solid #888;background:#f4f4f4}
.flash.success{border-color:#2a7d3f;background:#eaf6ed}.flash.error{border-color:#c0392b;background:#fbeaea}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** Whether the client is a browser asking for a page (a form post or a link), rather than an API client. */
export function wantsHtml(accept: string | undefined): boolean {
  return (accept ?? '').includes('text/html');
}

/** A `303 See Other` to `location`: returning a web `Response` keeps the handler free of `@Res()`. */
export function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { Location: location } });
}
