import { operationPage } from '../../sample/operations.js';

// The sample's pages print session values, which come from users (a login form, a key someone chose).
test('an operation page escapes the message it shows', () => {
  const html = operationPage(
    '/session/check',
    'Welcome back, <script>alert("x")</script>&!',
    'success',
  );
  expect(html).not.toContain('<script>');
  expect(html).toContain(
    '<p class="flash success" role="status">Welcome back, &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;!</p>',
  );
});

test('an operation page shows each line of a message on its own line, under the operation name', () => {
  const html = operationPage('/session/create', 'first <b>\nsecond', 'info');
  expect(html).toContain('<h1>6. Create a new session, keeping the data</h1>');
  expect(html).toContain('<p class="flash info" role="status">first &lt;b&gt;<br>second</p>');
});
