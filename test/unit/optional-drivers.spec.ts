import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every module specifier a source file imports, statically or dynamically. */
function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
    found.push(match[1]);
  }
  return found;
}

describe('optional drivers (ioredis, pg)', () => {
  const srcDir = join(process.cwd(), 'src');
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  );

  it('are never imported by the library, so users without them can import it and its types', () => {
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.flatMap((file) =>
      importsOf(readFileSync(join(srcDir, file), 'utf8'))
        .filter((spec) => /^(ioredis|pg)(\/|$)/.test(spec))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the scan sees real imports (guards the regex above)', () => {
    expect(importsOf("import { Redis } from 'ioredis';\nawait import('pg');")).toEqual([
      'ioredis',
      'pg',
    ]);
  });
});

describe('optional HTTP platform (fastify, @nestjs/platform-fastify)', () => {
  const srcDir = join(process.cwd(), 'src');
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  );
  /** Imports that stay in the compiled JS: everything but `import type` / `export type`. */
  const runtimeImportsOf = (source: string): string[] =>
    [...source.matchAll(/(?:import|export)\s+(?!type\s)[^;]*?from\s+['"]([^'"]+)['"]/g)]
      .map((m) => m[1])
      .concat([...source.matchAll(/import\s*\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]));

  it('are imported for their types only, so an Express app never loads them', () => {
    const typeOnly = files.filter((file) =>
      importsOf(readFileSync(join(srcDir, file), 'utf8')).some((spec) => spec === 'fastify'),
    );
    expect(typeOnly).toEqual([join('platform', 'fastify.platform.ts')]);
    const offenders = files.flatMap((file) =>
      runtimeImportsOf(readFileSync(join(srcDir, file), 'utf8'))
        .filter((spec) => /^(fastify|@nestjs\/platform-fastify|@fastify\/)/.test(spec))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the scan tells type-only imports from runtime ones (guards the regex above)', () => {
    expect(
      runtimeImportsOf(
        "import type { A } from 'fastify';\nimport { B } from '@nestjs/platform-fastify';",
      ),
    ).toEqual(['@nestjs/platform-fastify']);
  });
});
