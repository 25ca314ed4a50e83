import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every module specifier a source file imports, statically or dynamically (types included). */
function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map(
    (match) => match[1]!,
  );
}

const srcDir = join(process.cwd(), 'src');
const sources = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((file) =>
  file.endsWith('.ts'),
);

describe('the nest-session/testing entry', () => {
  it('is a package export of its own, which the main entry never imports', () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    expect(pkg.exports['./testing']).toEqual({
      types: './dist/src/testing/index.d.ts',
      default: './dist/src/testing/index.js',
    });
    const offenders = sources
      .filter((file) => !file.startsWith('testing'))
      .flatMap((file) =>
        importsOf(readFileSync(join(srcDir, file), 'utf8'))
          .filter((spec) => spec.includes('/testing/'))
          .map((spec) => `${file} imports ${spec}`),
      );
    expect(offenders).toEqual([]);
  });

  it('imports no test runner, HTTP test client or database driver: users bring their own', () => {
    const testing = sources.filter((file) => file.startsWith('testing'));
    expect(testing).toContain(join('testing', 'index.ts'));
    const foreign = /^(jest|@jest\/|vitest|mocha|supertest|superagent|ioredis|pg)(\/|$)/;
    const offenders = testing.flatMap((file) =>
      importsOf(readFileSync(join(srcDir, file), 'utf8'))
        .filter((spec) => foreign.test(spec))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });
});
