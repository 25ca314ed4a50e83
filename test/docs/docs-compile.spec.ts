import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  checkBlocks,
  extractBlocks,
  formatDiagnostic,
  optionsFromTsconfig,
  tsconfigBlock,
  type DocBlock,
} from './doc-blocks.js';

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

A fragment is not compiled:

\`\`\`ts fragment
@Get() list() { return notDeclaredAnywhere; }
\`\`\`
`;

const blocks: DocBlock[] = docs.flatMap((doc) =>
  extractBlocks(doc, readFileSync(join(root, doc), 'utf8')),
);
const canary = extractBlocks('canary.md', canaryDoc);
let diagnostics: ReturnType<typeof checkBlocks>;

beforeAll(() => {
  // The compiler options are the README's own Quick start tsconfig.json.
  const options = optionsFromTsconfig(tsconfigBlock(readFileSync(join(root, 'README.md'), 'utf8')));
  diagnostics = checkBlocks([...blocks, ...canary], options);
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

test('a block marked as a fragment is not compiled', () => {
  expect(canary.map((b) => b.fragment)).toEqual([false, true]);
});

test('a broken block fails with its file, line and the TypeScript message', () => {
  const found = diagnostics.filter((d) => d.doc === 'canary.md').map(formatDiagnostic);
  expect(found).toHaveLength(1);
  // TS2304, or TS2552 when a global with a similar name exists ("Did you mean 'AbortController'?").
  expect(found[0]).toMatch(
    /^canary\.md:12 \(block at line 6\): TS(2304|2552) Cannot find name 'CartController'\./,
  );
});

/** GitHub's anchor of a heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

test('every relative link of the docs names a file and a heading that exist', () => {
  const broken: string[] = [];
  for (const doc of [...docs, 'CONTRIBUTING.md']) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const file = path ? join(root, dirname(doc), path) : join(root, doc);
      let content: string;
      try {
        content = readFileSync(file, 'utf8');
      } catch {
        broken.push(`${doc}: ${target} (no such file)`);
        continue;
      }
      if (!anchor) continue;
      const anchors = [...content.matchAll(/^#+ (.+)$/gm)].map(([, h]) => anchorOf(h));
      if (!anchors.includes(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});
