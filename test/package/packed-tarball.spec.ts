import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The package as a user installs it: `npm pack` (which builds through `prepack`), unpacked into a fresh
 * app's node_modules, then used from TypeScript (the Quick start, compiled with the user's usual
 * decorator flags), from an ES module and from CommonJS.
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

/** Runs `node file` in the app and resolves with its stdout. */
function run(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
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

test('the Quick start compiles against the package and serves a session', async () => {
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        outDir: 'out',
        types: ['node'],
      },
      include: ['main.ts'],
    }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(app, 'main.ts'),
    `import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Session, SessionModule } from 'nest-session';

interface AppSession {
  cart?: string[];
}

@Controller('cart')
class CartController {
  @Get()
  list(@Session() session: Session<AppSession>) {
    return session.get('cart', []);
  }

  @Post()
  add(@Session() session: Session<AppSession>, @Body('item') item: string) {
    session.set('cart', [...session.get('cart', []), item]);
    return { added: item };
  }
}

@Module({ imports: [SessionModule.forRoot({ secret: 'x'.repeat(32) })], controllers: [CartController] })
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
const added = await fetch(\`http://127.0.0.1:\${port}/cart\`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ item: 'apple' }),
});
const cookie = (added.headers.get('set-cookie') ?? '').split(';')[0];
const listed = await fetch(\`http://127.0.0.1:\${port}/cart\`, { headers: { cookie } });
console.log(JSON.stringify(await listed.json()));
await app.close();
`,
  );
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app],
    {
      cwd: app,
      stdio: 'pipe',
    },
  );
  expect((await run(join('out', 'main.js'))).trim()).toBe('["apple"]');
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
