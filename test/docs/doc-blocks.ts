import { dirname, join } from 'node:path';
import ts from 'typescript';

/**
 * The TypeScript blocks of the documentation, type-checked as a user would compile them.
 *
 * Conventions (also in CONTRIBUTING.md):
 * - Every ```ts block is a complete module, compiled on its own with the Quick start's tsconfig flags.
 * - A block whose first line is `// name.ts` is the file `name.ts`; files of one `##` section share a
 *   folder, so `main.ts` can import `./app.module.js` from the block above it.
 * - ```ts fragment marks a block that is not a complete file (a method, a line); it is not compiled.
 * - A relative import that no block of the section provides is looked up in `test/docs/app/`: the
 *   user's own code the docs take for granted (`./users.service.js`, …).
 */
export interface DocBlock {
  /** The Markdown file, relative to the repository. */
  doc: string;
  /** 1-based line of the block's first code line in `doc`. */
  line: number;
  code: string;
  fragment: boolean;
  /** Where the block is compiled (absolute, virtual). */
  fileName: string;
}

export interface DocDiagnostic {
  doc: string;
  line: number;
  blockLine: number;
  code: number;
  message: string;
}

const root = process.cwd();
const virtualRoot = join(root, 'test', 'docs', '.virtual');
const appDir = join(root, 'test', 'docs', 'app');

function slug(heading: string): string {
  return (
    heading
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'top'
  );
}

/** The ```ts blocks of one Markdown text. */
export function extractBlocks(doc: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let section = 'top';
  const taken = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.+)$/.exec(lines[i]);
    if (heading) section = slug(heading[1]);
    const open = /^(\s*)```(ts|typescript)\b(.*)$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const code = lines
      .slice(start, end)
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    const named = /^\/\/ ([\w.-]+\.ts)\b/.exec(code);
    const base = named ? named[1] : `block-L${start + 1}.ts`;
    let fileName = join(virtualRoot, doc.replace(/\.md$/, ''), section, base);
    if (taken.has(fileName)) fileName = fileName.replace(/\.ts$/, `.L${start + 1}.ts`);
    taken.add(fileName);
    blocks.push({ doc, line: start + 1, code, fragment: /\bfragment\b/.test(open[3]), fileName });
    i = end;
  }
  return blocks;
}

function ancestors(dir: string): string[] {
  const out = [dir];
  while (dirname(out[out.length - 1]) !== out[out.length - 1])
    out.push(dirname(out[out.length - 1]));
  return out;
}

/**
 * The compiler options of the README's Quick start `tsconfig.json` block, so the blocks compile as a
 * user's project does; plus jest's globals for the blocks that are tests.
 */
export function optionsFromTsconfig(json: string): ts.CompilerOptions {
  const parsed = JSON.parse(json) as { compilerOptions: object };
  const { options, errors } = ts.convertCompilerOptionsFromJson(parsed.compilerOptions, root);
  if (errors.length > 0) {
    throw new Error(
      errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'),
    );
  }
  return { ...options, types: [...(options.types ?? []), 'jest'], noEmit: true, outDir: undefined };
}

/** The first ```json block of `markdown` that holds `compilerOptions`. */
export function tsconfigBlock(markdown: string): string {
  const found = /```json\n(\{\n\s*"compilerOptions"[\s\S]*?)```/.exec(markdown);
  if (!found) throw new Error('no tsconfig.json block');
  return found[1];
}

const entries: Record<string, string> = {
  'nest-session': join(root, 'src', 'index.ts'),
  'nest-session/testing': join(root, 'src', 'testing', 'index.ts'),
};

/** Type-checks the complete blocks in one program; answers the diagnostics of the blocks. */
export function checkBlocks(blocks: DocBlock[], options: ts.CompilerOptions): DocDiagnostic[] {
  const files = new Map(blocks.filter((b) => !b.fragment).map((b) => [b.fileName, b]));
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  const dirs = new Set([...files.keys()].flatMap((f) => ancestors(dirname(f))));
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.directoryExists = (d) => dirs.has(d) || ts.sys.directoryExists(d);
  host.readFile = (f) => files.get(f)?.code ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, onError, create) => {
    const block = files.get(f);
    if (block) return ts.createSourceFile(f, block.code, lang, true);
    return getSourceFile.call(host, f, lang, onError, create);
  };
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, opts, containing) =>
    literals.map((literal) => {
      const name = literal.text;
      if (entries[name]) {
        return {
          resolvedModule: {
            resolvedFileName: entries[name],
            extension: ts.Extension.Ts,
            isExternalLibraryImport: false,
          },
        };
      }
      const mode = ts.getModeForUsageLocation(containing, literal, opts);
      const found = ts.resolveModuleName(
        name,
        containingFile,
        opts,
        host,
        undefined,
        redirected,
        mode,
      );
      if (!found.resolvedModule && name.startsWith('.') && files.has(containingFile)) {
        return ts.resolveModuleName(
          name,
          join(appDir, 'index.ts'),
          opts,
          host,
          undefined,
          redirected,
          mode,
        );
      }
      return found;
    });
  const program = ts.createProgram({
    rootNames: [...files.keys(), join(root, 'test', 'docs', 'ambient.d.ts')],
    options,
    host,
  });
  const out: DocDiagnostic[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const block = d.file && files.get(d.file.fileName);
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!block || !d.file || d.start === undefined) {
      // Outside any block (a stub, the library itself): report it against the first block.
      out.push({
        doc: d.file?.fileName ?? '(program)',
        line: 0,
        blockLine: 0,
        code: d.code,
        message,
      });
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    out.push({
      doc: block.doc,
      line: block.line + line,
      blockLine: block.line,
      code: d.code,
      message,
    });
  }
  return out;
}

export function formatDiagnostic(d: DocDiagnostic): string {
  return `${d.doc}:${d.line} (block at line ${d.blockLine}): TS${d.code} ${d.message}`;
}
