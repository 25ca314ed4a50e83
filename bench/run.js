// `npm run bench [-- --smoke | --memory | --profile]`: compiles src + bench to dist-bench/ (the servers
// must run compiled JS, not jest/SWC), then hands over to the compiled orchestrator, bench/main.ts.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', new URL('./tsconfig.json', import.meta.url).pathname], {
  stdio: 'inherit',
});
await import('../dist-bench/bench/main.js');
