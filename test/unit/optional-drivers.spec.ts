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
