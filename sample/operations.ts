import { escapeHtml, page } from './html.js';

/** One button per seed operation: [method, path, label]. GETs read; POSTs change the session. */
export const OPERATIONS: [method: 'get' | 'post', path: string, label: string][] = [
  ['post', '/session/set', '1. Set username and email'],
  ['get', '/session/get', '2. Get them (with defaults)'],
  ['get', '/session/check', '3. Check if username exists'],
  ['post', '/session/update', '4. Update username'],
  ['post', '/session/delete', '5. Delete username'],
  ['post', '/session/pop', '5. Pop username'],
  ['post', '/session/create', '6. Create a new session, keeping the data'],
  ['post', '/session/clear', '7. Clear all data'],
  ['get', '/session/id', '8. Get the session id'],
  ['post', '/session/new-session', '9. Create a new session'],
];

/** A plain HTML form per operation, no script: the home page and every operation page show them. */
export function operationForms(): string {
  return OPERATIONS.map(
    ([method, path, label]) =>
      `<form method="${method}" action="${path}"><button>${escapeHtml(label)}</button></form>`,
  ).join('\n');
}

/** How an operation went: `success` when it changed or found something, `info` when there was nothing. */
export type OperationLevel = 'success' | 'info';

/**
 * The page a browser gets after an operation: what happened as a flash line (escaped: it can hold session
 * values, which come from users), the operations to run next, and the way back to the other pages.
 */
export function operationPage(path: string, message: string, level: OperationLevel): string {
  const label = OPERATIONS.find(([, p]) => p === path)?.[2] ?? path;
  const lines = message.split('\n').map(escapeHtml).join('<br>');
  return page(
    label,
    `<h1>${escapeHtml(label)}</h1>
<p class="flash ${level}" role="status">${lines}</p>
<h2>Operations</h2>
${operationForms()}
<p><a href="/">Home</a> (see what the session holds) · <a href="/profile">Profile</a> · <a href="/sessions">Your sessions</a> · <a href="/passport/login">Passport flow</a></p>`,
  );
}
