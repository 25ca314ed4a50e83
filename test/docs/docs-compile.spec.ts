import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBlocks, extractBlocks, formatDiagnostic, type DocBlock } from './doc-blocks.js';

/**
 * Every TypeScript block of README.md and docs/*.md compiles against the package as users import it
 * (`nest-session`, `nest-session/testing`), so the docs cannot drift from the code. One program for all
 * blocks. Conventions: see test/docs/doc-blocks.ts.
 */
const root = process.cwd();
const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The Quick start as it was in issue 14: the module used `CartController` without importing it. */
const canaryDoc = `# Canary

## Quick start

\`\`\`ts
// app.module.ts
import { Module } from '@nestjs/common';
import { SessionModule } from 'nest-session';

@Module({
  imports: [SessionModule.forRoot({ loginUrl: '/login' })],
  controllers: [CartController],
})
export class AppModule {}
\`\`\`
`;

const blocks: DocBlock[] = docs.flatMap((doc) =>
  extractBlocks(doc, readFileSync(join(root, doc), 'utf8')),
);
const canary = extractBlocks('canary.md', canaryDoc);
let diagnostics: ReturnType<typeof checkBlocks>;

beforeAll(() => {
  diagnostics = checkBlocks([...blocks, ...canary]);
}, 120_000);

test('the docs have TypeScript blocks, most of them complete files', () => {
  expect(blocks.length).toBeGreaterThan(10);
  const fragments = blocks.filter((b) => b.fragment);
  expect(fragments.length).toBeLessThan(blocks.length / 4);
});

test('every complete TypeScript block of the docs type-checks', () => {
  const failures = diagnostics.filter((d) => d.doc !== 'canary.md').map(formatDiagnostic);
  expect(failures).toEqual([]);
});

test('a broken block fails with its file, line and the TypeScript message', () => {
  const found = diagnostics.filter((d) => d.doc === 'canary.md').map(formatDiagnostic);
  expect(found).toHaveLength(1);
  // TS2304, or TS2552 when a global with a similar name exists ("Did you mean 'AbortController'?").
  expect(found[0]).toMatch(
    /^canary\.md:12 \(block at line 6\): TS(2304|2552) Cannot find name 'CartController'\./,
  );
});
