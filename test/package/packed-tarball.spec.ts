import { execFileSync, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { extractBlocks, tsconfigBlock } from '../docs/doc-blocks.js';

/**
 * The package as a user installs it: `npm pack` (which builds through `prepack`), unpacked into a fresh
 * app's node_modules, then used from TypeScript (the README's own Quick start blocks, compiled with the
 * tsconfig.json the README shows), from an ES module and from CommonJS.
 */
const root = process.cwd();
let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'nest-session-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, 'nest-session'), { recursive: true });
  execFileSync('tar', [
    '-xzf',
    join(app, packed[0].filename),
    '-C',
    join(modules, 'nest-session'),
    '--strip-components=1',
  ]);
  // The app's other dependencies (Nest, Express, TypeScript…) are the ones this repository installed.
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === '.bin' || name === 'nest-session') continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
}, 120_000);

afterAll(() => rmSync(app, { recursive: true, force: true }));

/** Runs `node file` in the app (with `env` added to this process's) and resolves with its stdout. */
function run(file: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], {
      cwd: app,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

test('ships the built code, its types, the license, and no TypeScript sources', () => {
  const files = readdirSync(join(app, 'node_modules', 'nest-session'), {
    recursive: true,
    encoding: 'utf8',
  });
  expect(files).toContain('LICENSE');
  expect(files).toContain(join('dist', 'src', 'index.js'));
  expect(files).toContain(join('dist', 'src', 'index.d.ts'));
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
});

test('an ES module and a CommonJS consumer both load it', async () => {
  writeFileSync(
    join(app, 'esm.mjs'),
    "import { SessionModule, SessionGuard, MemoryStore } from 'nest-session';\n" +
      'console.log([SessionModule, SessionGuard, MemoryStore].map((x) => typeof x).join(","));\n',
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    "const { SessionModule, Session } = require('nest-session');\n" +
      'console.log([SessionModule, Session].map((x) => typeof x).join(","));\n',
  );
  expect((await run('esm.mjs')).trim()).toBe('function,function,function');
  expect((await run('cjs.cjs')).trim()).toBe('function,function');
});

test("the README's Quick start, copied as it stands, compiles against the package and serves a session", async () => {
  // The blocks and the tsconfig.json of the README's Quick start section, written as a user copies them.
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const quickStart = extractBlocks('README.md', readme).filter(
    (b) => basename(dirname(b.fileName)) === 'quick-start' && !b.fragment,
  );
  const files = quickStart.map((b) => basename(b.fileName));
  expect(files).toEqual(expect.arrayContaining(['app.module.ts', 'main.ts']));
  // Every block names its file (`// name.ts`), or the user would not know where to paste it.
  expect(quickStart.every((b) => /^\/\/ [\w.-]+\.ts\b/.test(b.code))).toBe(true);
  for (const block of quickStart) writeFileSync(join(app, basename(block.fileName)), block.code);
  writeFileSync(join(app, 'tsconfig.json'), tsconfigBlock(readme));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
  try {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app],
      {
        cwd: app,
        stdio: 'pipe',
      },
    );
  } catch (err) {
    // tsc prints its errors on stdout: make them the failure, so it names the README's broken line.
    throw new Error(
      `The README's Quick start does not compile:\n${String((err as { stdout?: unknown }).stdout)}`,
      { cause: err },
    );
  }

  // main.ts listens on port 3000, which may be taken here: serve the compiled module on a free port.
  writeFileSync(
    join(app, 'serve.mjs'),
    `import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './dist/app.module.js';

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();
const added = await fetch(\`http://127.0.0.1:\${port}/cart\`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ item: 'book' }),
});
const cookie = (added.headers.get('set-cookie') ?? '').split(';')[0];
const listed = await fetch(\`http://127.0.0.1:\${port}/cart\`, { headers: { cookie } });
console.log(JSON.stringify(await listed.json()));
await app.close();
`,
  );
  const secret = { SESSION_SECRET: 'a-random-string-of-at-least-32-bytes!' };
  expect((await run('serve.mjs', secret)).trim()).toBe('["book"]');
}, 60_000);

test('nest-session/testing loads from the package and seeds sessions of an app built from the main entry', async () => {
  writeFileSync(
    join(app, 'testing.mjs'),
    "import 'reflect-metadata';\n" +
      "import { NestFactory } from '@nestjs/core';\n" +
      "import { SessionModule } from 'nest-session';\n" +
      "import { describeSessionStore, readSession, signIn } from 'nest-session/testing';\n" +
      "const app = await NestFactory.createApplicationContext(SessionModule.forRoot({ secret: 'x'.repeat(32) }), { logger: false });\n" +
      "const cookie = await signIn(app, 'ada');\n" +
      'console.log(typeof describeSessionStore, JSON.stringify(await readSession(app, cookie)));\n' +
      'await app.close();\n',
  );
  writeFileSync(
    join(app, 'testing.cjs'),
    "const { seedSession } = require('nest-session/testing');\n" +
      'console.log(typeof seedSession);\n',
  );
  expect((await run('testing.mjs')).trim()).toBe('function {"userId":"ada"}');
  expect((await run('testing.cjs')).trim()).toBe('function');
});
